/** POST /tasks/{task_id}/retry: runs a PARTIAL or FAILED task's failed chunks again, under its own id. */
import { awsDependencies } from '../../shared/composition/aws';
import { createHttpHandler } from '../../shared/edges/http';
import { InvalidInputError } from '../../shared/errors';
import type { DependencyProvider } from '../../shared/ports';
import { retryTask } from '../../shared/usecases/retryTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const taskId = event.pathParameters?.task_id?.trim();
    if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
    return { statusCode: 202, body: await retryTask(taskId, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
