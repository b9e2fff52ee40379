/** What `/status` answers for a task (README › Task status). */
import { buildStatusView, type StatusView } from '../domain/task';
import { NotFoundError } from '../errors';
import type { Dependencies } from '../ports';

export type TaskStatusDeps = Pick<Dependencies, 'config' | 'tasks'>;

export async function taskStatus(taskId: string, deps: TaskStatusDeps): Promise<StatusView> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`);
  return buildStatusView(task, deps.config.openai.pricePerMillionTokens);
}
