/** The task table read for operators: tasks newest first, and each chunk's recorded result (DynamoDB, dynalite locally). */
import type { DataSource, TaskStatus } from '../domain/task';
import type { ChunkEmbedded } from '../events/types';

/** Each given field must match; absent fields match every task. */
export interface TaskListFilter {
  status?: TaskStatus;
  dataSource?: DataSource;
  dataset?: string;
}

/** What the listing holds of a task: enough to show it in a list, not its errors or its request. */
export interface TaskSummary {
  taskId: string;
  status: TaskStatus;
  dataSource: DataSource;
  namespace: string;
  dataset: string;
  dryRun: boolean;
  planned: boolean;
  records: { total: number; processed: number; skipped: number; failed: number };
  tokens: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
}

export interface TaskPage {
  tasks: TaskSummary[];
  /** Opaque: where the next page starts; absent after the last. */
  cursor?: string;
}

/** A chunk's ChunkEmbedded result as the aggregator stored it. */
export type RecordedChunk = ChunkEmbedded & { recordedAt?: string };

export interface TaskQueries {
  /**
   * Tasks newest first. A page may hold fewer than `limit` tasks and still have a cursor when a
   * filter left many out. The listing may lag the latest writes by a moment. A cursor this store
   * did not give is an InvalidInputError naming `cursor`.
   */
  list(filter: TaskListFilter, page: { limit: number; cursor?: string }): Promise<TaskPage>;
  /** The recorded results of chunks `from` ≤ index < `to`, in index order; chunks not recorded yet are absent. */
  chunkResults(taskId: string, range: { from: number; to: number }): Promise<RecordedChunk[]>;
}
