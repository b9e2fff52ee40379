/** GET /process (the older system's query parameters) and POST /process (a JSON body): start a task. */
import { awsDependencies } from '../../shared/runtime/aws';
import type { DependencyProvider } from '../../shared/dependencies';
import { parseProcessRequest } from '../../shared/domain/processRequest';
import { createHttpHandler, HttpProblem, type HttpEvent } from '../../shared/handlers/http';
import { requestTask } from '../../shared/usecases/requestTask';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const request = parseProcessRequest(parameters(event), deps.config, deps.now());
    const { source } = request;
    if (source.type === 'metabase' && !deps.metabase) {
      throw new HttpProblem(503, 'data_source=metabase needs METABASE_URL and METABASE_API_KEY, which this deployment does not have', { parameter: 'data_source' });
    }
    if (source.type === 's3_csv') {
      const object = await deps.objects.head(source.key);
      if (!object) throw new HttpProblem(404, `s3_key "${source.key}" does not exist in bucket "${deps.objects.bucket}"`, { parameter: 's3_key' });
      if (object.size === 0) throw new HttpProblem(422, `s3_key "${source.key}" is an empty file: a CSV needs at least a header row`, { parameter: 's3_key' });
      if (object.versionId) source.versionId = object.versionId;
    }
    const { created, task } = await requestTask(request, deps);
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
  if (event.body === null || event.body === undefined || event.body === '') throw new HttpProblem(400, 'POST /process needs a JSON body');
  if (typeof event.body !== 'object' || Array.isArray(event.body)) {
    throw new HttpProblem(415, 'POST /process takes a JSON object body with Content-Type: application/json');
  }
  return event.body as Record<string, unknown>;
}

export const handler = createHandler(awsDependencies);
