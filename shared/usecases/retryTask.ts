/**
 * Retrying a task: a PARTIAL or FAILED task runs again under its own id, but only its chunks that
 * failed, whole or in part. Their counts are taken out of the task in the same write that makes it
 * RUNNING again (attempt + 1), and their kept plans are announced again with that attempt; each is
 * counted again when the retry records it. A record the task already wrote is not embedded again
 * (it counts as processed, with the tokens it took), so counts move from failed to processed
 * exactly and no token is spent twice. TaskCompleted is announced again, with the attempt. A full
 * sync claims its dataset again first, as when it started: not while another full sync of it runs.
 */
import { fullSyncKeyOf } from '../domain/catchup';
import { buildStatusView, datasetOf, type StatusView } from '../domain/task';
import type { ChunkPlanned, TaskRetryRequested } from '../events/types';
import { ConflictError, NotFoundError } from '../errors';
import type { Dependencies } from '../ports';
import { claimRun } from './claimRun';

export type RetryTaskDeps = Pick<Dependencies, 'config' | 'tasks' | 'taskQueries' | 'plans' | 'catchup' | 'events' | 'logger' | 'now'>;

/** `attempt`: retry only while the task is at this attempt (an event's, so that a repeated one retries once). */
export async function retryTask(taskId: string, deps: RetryTaskDeps, attempt?: number): Promise<StatusView> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`no task with task_id "${taskId}"`, 'task_id');
  const refuse = (why: string) => new ConflictError(`task ${taskId} ${why}`, 'task_id');
  if (task.status === 'PENDING' || task.status === 'RUNNING')
    throw refuse(`is still ${task.status}: retry it once it has ended PARTIAL or FAILED`);
  if (task.status === 'CANCELLED') throw refuse('was cancelled: start its source again to run it');
  if (task.status === 'COMPLETED') throw refuse('completed with no failed record: there is nothing to retry');
  if (attempt !== undefined && (task.attempt ?? 1) !== attempt)
    throw refuse(`is at attempt ${task.attempt ?? 1}, not the ${attempt} this retry was asked for`);
  if (!task.planned) throw refuse(`failed before its chunks were planned (${task.errors[0] ?? 'see its errors'}): start its source again`);

  const results = await deps.taskQueries.chunkResults(taskId, { from: 0, to: task.chunks.total });
  const failed = results.filter((chunk) => chunk.outcome === 'failed' || chunk.records.failed > 0);
  if (!failed.length) throw refuse(`has no failed chunk to run again (${task.errors[0] ?? 'see its errors'})`);
  const plans = new Map((await deps.plans.ofTask(taskId)).map((plan) => [plan.chunkIndex, plan]));
  const unplanned = failed.filter((chunk) => !plans.has(chunk.chunkIndex));
  if (unplanned.length)
    throw refuse('was planned before chunk plans were kept, so its failed chunks cannot be announced again: start its source again');

  const fullSyncKey = fullSyncKeyOf(task.request, task.namespace);
  const busy =
    fullSyncKey &&
    (await claimRun(task, fullSyncKey, (going) => `task ${going.taskId}, a full sync of the same dataset, is still ${going.status}`, deps));
  if (busy) throw refuse(`is a full sync of dataset "${datasetOf(task.request)}" and ${busy}: retry it once that one has ended`);

  const reopened = await deps.tasks.reopen(taskId, task.attempt ?? 1, failed, deps.now());
  if (!reopened) throw refuse('changed while the retry was being made: look at it again');
  const next = reopened.attempt ?? 2;
  const chunks: ChunkPlanned[] = failed.map((chunk) => ({ ...(plans.get(chunk.chunkIndex) as ChunkPlanned), attempt: next }));
  // Lost after the reopen, these are the sweeper's: it announces a reopened task's unrecorded chunks with its attempt.
  await deps.events.publish('ChunkPlanned', chunks);
  deps.logger.info('task retried', { task_id: taskId, attempt: next, chunks: chunks.map((chunk) => chunk.chunkIndex) });
  return buildStatusView(reopened, deps.config.openai.pricePerMillionTokens);
}

/** A TaskRetryRequested: retried as asked, or, when it cannot be, left as it is with the reason logged (retrying the message changes nothing). */
export async function retryRequested(request: TaskRetryRequested, deps: RetryTaskDeps): Promise<void> {
  try {
    await retryTask(request.taskId, deps, request.attempt ?? 1);
  } catch (error) {
    if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error;
    deps.logger.warn('retry not applied', { task_id: request.taskId, requestedBy: request.requestedBy, reason: error.message });
  }
}
