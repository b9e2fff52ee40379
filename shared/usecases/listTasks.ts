/** `GET /tasks`: a page of tasks, newest first (README › Task list, search and OpenAPI). */
import { taskListItem, type TaskListQuery } from '../domain/taskList';
import type { Dependencies } from '../ports';

export type ListTasksDeps = Pick<Dependencies, 'taskQueries'>;

export async function listTasks(query: TaskListQuery, deps: ListTasksDeps) {
  const page = await deps.taskQueries.list(query.filter, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
  return { tasks: page.tasks.map(taskListItem), next_cursor: page.cursor ?? null };
}
