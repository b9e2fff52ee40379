/** Planning a CSV too large for one planner invocation (the Step Functions loop on AWS, aws-local-stepfunctions locally). */

/**
 * What the loop carries between segments (one Lambda invocation each): a few hundred bytes plus
 * the header. The header is capped (MAX_HEADER_BYTES in the use case) so that the state stays far
 * below Step Functions' 256 KiB.
 */
export interface LargeCsvPlanState {
  taskId: string;
  key: string;
  /** The version the task is pinned to, when it named one (a versioned bucket). */
  versionId?: string;
  etag: string;
  /** The object's size: planning is done when nextOffset reaches it. */
  size: number;
  nextOffset: number;
  chunkIndex: number;
  recordsSoFar: number;
  /** Known after the first segment. */
  header?: string[];
  delimiter?: string;
  segments: number;
  done: boolean;
}

/** Starts the large-CSV plan of one task; a second start for the same task starts nothing. */
export interface LargeCsvPlanner {
  start(taskId: string, input: LargeCsvPlanState): Promise<{ started: boolean; executionName: string }>;
}
