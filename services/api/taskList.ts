/** GET /tasks?limit=…&cursor=…&status=…&data_source=…&dataset=…: tasks newest first, a page at a time. */
import { awsDependencies } from '../../shared/composition/aws';
import { parseTaskListQuery } from '../../shared/domain/taskList';
import { createHttpHandler } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { listTasks } from '../../shared/usecases/listTasks';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const query = parseTaskListQuery({ ...(event.queryStringParameters ?? {}) });
    return { statusCode: 200, body: await listTasks(query, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
