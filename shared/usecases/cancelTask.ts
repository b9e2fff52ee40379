/** Cancelling: a running task ends as CANCELLED (announced like any end); an ended one stays as it is. */
import type { Dependencies } from '../dependencies';
import { statusView } from '../domain/task';
import { NotFoundError } from '../errors';
import type { JsonResponse } from '../handlers/http';
import { finishTask } from './announce';

export async function cancelTask(taskId: string, deps: Dependencies): Promise<JsonResponse> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`);
  const price = deps.config.openai.pricePerMillionTokens;
  const cancelled = await finishTask(taskId, 'CANCELLED', deps, 'cancelled by request');
  if (cancelled) return { statusCode: 200, body: statusView(cancelled, price) };
  // 409 tells the caller the task had already ended, in the status shown, before the request.
  return { statusCode: 409, body: statusView((await deps.tasks.get(taskId)) ?? task, price) };
}
