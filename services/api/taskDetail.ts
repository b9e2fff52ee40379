/** GET /tasks/{task_id}?chunks_from=…: the task's status with each chunk's state, rate, time left, cost and last errors. */
import { awsDependencies } from '../../shared/composition/aws';
import { parseTaskDetailQuery } from '../../shared/domain/taskDetail';
import { createHttpHandler, pathTaskId } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { describeTask } from '../../shared/usecases/describeTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const taskId = pathTaskId(event);
    const options = parseTaskDetailQuery({ ...(event.queryStringParameters ?? {}) });
    return { statusCode: 200, body: await describeTask(taskId, options, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
