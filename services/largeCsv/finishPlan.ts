/** Step Functions task (large-CSV loop, last step): record the plan's totals; the task ends when its chunks are in. */
import { awsDependencies } from '../../shared/composition/aws';
import type { DependencyProvider, LargeCsvPlanState } from '../../shared/ports';
import { finishPlan } from '../../shared/usecases/largeCsvPlan';

export function createHandler(provide: DependencyProvider) {
  return async (state: LargeCsvPlanState): Promise<{ taskId: string; records: number; chunks: number; segments: number }> => {
    await finishPlan(state, await provide());
    return { taskId: state.taskId, records: state.recordsSoFar, chunks: state.chunkIndex, segments: state.segments };
  };
}

export const handler = createHandler(awsDependencies);
