/** POST /cancel?task_id=… (or {"task_id": …}): ends a task as CANCELLED; its pending chunks are skipped. */
import { awsDependencies } from '../../shared/runtime/aws';
import type { DependencyProvider } from '../../shared/dependencies';
import { InvalidInputError } from '../../shared/errors';
import { createHttpHandler } from '../../shared/handlers/http';
import { cancelTask } from '../../shared/usecases/cancelTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const body = event.body && typeof event.body === 'object' ? (event.body as Record<string, unknown>) : {};
    const taskId = String(event.queryStringParameters?.task_id ?? body.task_id ?? '').trim();
    if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
    return cancelTask(taskId, deps);
  }, provide);
}

export const handler = createHandler(awsDependencies);
