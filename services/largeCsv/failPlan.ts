/** Step Functions task (large-CSV loop, Catch): mark the task FAILED with the caught error. */
import type { DependencyProvider } from '../../shared/ports';
import { awsDependencies } from '../../shared/composition/aws';
import { failPlan, reasonOf, type CaughtError } from '../../shared/usecases/largeCsvPlan';

export function createHandler(provide: DependencyProvider) {
  return async (input: { taskId: string; error?: CaughtError }): Promise<{ taskId: string; reason: string }> => {
    const reason = reasonOf(input.error, 'the planning loop failed');
    await failPlan(input.taskId, reason, await provide());
    return { taskId: input.taskId, reason };
  };
}

export const handler = createHandler(awsDependencies);
