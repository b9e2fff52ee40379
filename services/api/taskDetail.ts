/** GET /tasks/{task_id}?chunks_from=…: the task's status with each chunk's state, rate, time left, cost and last errors. */
import { awsDependencies } from '../../shared/composition/aws';
import { parseTaskDetailQuery } from '../../shared/domain/taskDetail';
import { createHttpHandler } from '../../shared/edges/http';
import { InvalidInputError } from '../../shared/errors';
import type { DependencyProvider } from '../../shared/ports';
import { describeTask } from '../../shared/usecases/describeTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const taskId = pathTaskId(event.pathParameters?.task_id);
    if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
    const options = parseTaskDetailQuery({ ...(event.queryStringParameters ?? {}) });
    return { statusCode: 200, body: await describeTask(taskId, options, deps) };
  }, provide);
}

/** Task ids hold no '%', so decoding is right whether or not the gateway decoded the segment already. */
function pathTaskId(segment: string | undefined): string | undefined {
  try {
    return segment && decodeURIComponent(segment).trim();
  } catch {
    throw new InvalidInputError('task_id is not a well-formed URL path segment', 'task_id');
  }
}

export const handler = createHandler(awsDependencies);
