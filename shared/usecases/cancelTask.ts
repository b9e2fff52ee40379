/** Cancelling: a running task ends as CANCELLED (announced like any end); an ended one stays as it is. */
import { buildStatusView, type StatusView } from '../domain/task';
import { NotFoundError } from '../errors';
import type { Dependencies } from '../ports';
import { finishTask, type FinishTaskDeps } from './finishTask';

export type CancelTaskDeps = FinishTaskDeps & Pick<Dependencies, 'config'>;

export interface CancelOutcome {
  /** False when the task had already ended before the request; `task` shows how. */
  cancelled: boolean;
  task: StatusView;
}

export async function cancelTask(taskId: string, deps: CancelTaskDeps): Promise<CancelOutcome> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`);
  const price = deps.config.openai.pricePerMillionTokens;
  const cancelled = await finishTask(taskId, 'CANCELLED', deps, 'cancelled by request');
  if (cancelled) return { cancelled: true, task: buildStatusView(cancelled, price) };
  return { cancelled: false, task: buildStatusView((await deps.tasks.get(taskId)) ?? task, price) };
}
