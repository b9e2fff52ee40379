/** `GET /tasks/{task_id}`: the `/status` document with each chunk's state, rate, time left, cost and last errors. */
import { buildTaskDetail, chunkWindow, type TaskDetailView } from '../domain/taskDetail';
import { NotFoundError } from '../errors';
import type { Dependencies } from '../ports';

export type DescribeTaskDeps = Pick<Dependencies, 'config' | 'tasks' | 'taskQueries' | 'now'>;

export async function describeTask(taskId: string, options: { chunksFrom: number }, deps: DescribeTaskDeps): Promise<TaskDetailView> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`);
  const window = chunkWindow(task, options.chunksFrom);
  const chunks = await deps.taskQueries.chunkResults(taskId, window);
  return buildTaskDetail(task, chunks, window, deps.config.openai.pricePerMillionTokens, deps.now());
}
