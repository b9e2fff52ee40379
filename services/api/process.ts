/** GET /process (the older system's query parameters) and POST /process (a JSON body): start a task. */
import { awsDependencies } from '../../shared/composition/aws';
import { parseProcessRequest } from '../../shared/domain/processRequest';
import { createHttpHandler, HttpProblem, type HttpEvent } from '../../shared/edges/http';
import { InvalidInputError } from '../../shared/errors';
import type { DependencyProvider } from '../../shared/ports';
import { startTask } from '../../shared/usecases/startTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const request = parseProcessRequest(parameters(event), deps.config, deps.now());
    const { created, task } = await startTask(request, deps);
    return {
      statusCode: created ? 202 : 200,
      body: {
        task_id: task.taskId,
        status: task.status,
        data_source: task.dataSource,
        namespace: task.namespace,
        status_url: `/status?task_id=${encodeURIComponent(task.taskId)}`,
        message: created ? 'task started' : 'a task with this task_id already exists',
      },
    };
  }, provide);
}

function parameters(event: HttpEvent): Record<string, unknown> {
  if (event.httpMethod !== 'POST') return { ...(event.queryStringParameters ?? {}) };
  if (event.body === null || event.body === undefined || event.body === '') throw new InvalidInputError('POST /process needs a JSON body');
  if (typeof event.body !== 'object' || Array.isArray(event.body)) {
    throw new HttpProblem(415, 'POST /process takes a JSON object body with Content-Type: application/json');
  }
  return event.body as Record<string, unknown>;
}

export const handler = createHandler(awsDependencies);
