/** Step Functions task (large-CSV loop, last step): record the plan's totals; the task ends when its chunks are in. */
import type { DependencyProvider } from '../../shared/dependencies';
import { awsDependencies } from '../../shared/runtime/aws';
import { finishPlan, type SegmentState } from '../../shared/usecases/planSegment';

export function createHandler(provide: DependencyProvider) {
  return async (state: SegmentState): Promise<{ taskId: string; records: number; chunks: number; segments: number }> => {
    await finishPlan(state, await provide());
    return { taskId: state.taskId, records: state.recordsSoFar, chunks: state.chunkIndex, segments: state.segments };
  };
}

export const handler = createHandler(awsDependencies);
