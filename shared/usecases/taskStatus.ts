/** What `/status` answers for a task (BRIEF §4). */
import type { Dependencies } from '../dependencies';
import { statusView } from '../domain/task';
import { NotFoundError } from '../errors';

export async function taskStatus(taskId: string, deps: Dependencies): Promise<ReturnType<typeof statusView>> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`);
  return statusView(task, deps.config.openai.pricePerMillionTokens);
}
