/** GET /status?task_id=…: a task's status and exact counts. */
import { awsDependencies } from '../../shared/composition/aws';
import { createHttpHandler } from '../../shared/edges/http';
import { InvalidInputError } from '../../shared/errors';
import type { DependencyProvider } from '../../shared/ports';
import { taskStatus } from '../../shared/usecases/taskStatus';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const taskId = event.queryStringParameters?.task_id?.trim();
    if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
    return { statusCode: 200, body: await taskStatus(taskId, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
