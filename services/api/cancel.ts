/** POST /cancel?task_id=… (or {"task_id": …}): ends a task as CANCELLED; its pending chunks are skipped. */
import { awsDependencies } from '../../shared/composition/aws';
import { createHttpHandler } from '../../shared/edges/http';
import { InvalidInputError } from '../../shared/errors';
import type { DependencyProvider } from '../../shared/ports';
import { cancelTask } from '../../shared/usecases/cancelTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const body = event.body && typeof event.body === 'object' ? (event.body as Record<string, unknown>) : {};
    const taskId = String(event.queryStringParameters?.task_id ?? body.task_id ?? '').trim();
    if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
    const { cancelled, task } = await cancelTask(taskId, deps);
    // 409 tells the caller the task had already ended, in the status shown, before the request.
    return { statusCode: cancelled ? 200 : 409, body: task };
  }, provide);
}

export const handler = createHandler(awsDependencies);
