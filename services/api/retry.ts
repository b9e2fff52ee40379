/** POST /tasks/{task_id}/retry: runs a PARTIAL or FAILED task's failed chunks again, under its own id. */
import { awsDependencies } from '../../shared/composition/aws';
import { createHttpHandler, pathTaskId } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { retryTask } from '../../shared/usecases/retryTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    return { statusCode: 202, body: await retryTask(pathTaskId(event), deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
