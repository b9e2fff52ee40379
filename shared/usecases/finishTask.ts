/** Ending a task: the terminal transition happens once, and TaskCompleted follows it. */
import { catchupKeyOf, fullSyncKeyOf } from '../domain/catchup';
import { datasetOf, deletionSkipped, type Task, type TerminalStatus } from '../domain/task';
import type { TaskCompleted } from '../events/types';
import type { Dependencies } from '../ports';

export type FinishTaskDeps = Pick<Dependencies, 'tasks' | 'events' | 'catchup' | 'logger' | 'now'>;

/**
 * How long the invocation that ended a task may take to publish TaskCompleted and note it. An
 * unannounced task that ended longer ago lost its announcement (its Lambda died in between), and a
 * retried message re-announces it; one that ended more recently is being announced right now, and a
 * second announcement would be a duplicate. Retries come later than this: the shortest visibility
 * timeout of a queue whose consumer ends tasks is 180 s.
 */
export const ANNOUNCEMENT_LEASE_MS = 60_000;

/** Announces a terminal task again when its announcement was lost. */
export async function reannounceIfLost(task: Task, deps: FinishTaskDeps): Promise<void> {
  if (!task.completionAnnounced && announcementLost(task, deps.now())) await announce(task, deps);
}

/** Moves a task to a terminal status; only the caller whose write wins announces it, and gets the task as ended. */
export async function finishTask(taskId: string, status: TerminalStatus, deps: FinishTaskDeps, error?: string): Promise<Task | undefined> {
  const finished = await deps.tasks.finish(taskId, status, deps.now(), error);
  if (finished) await announce(finished, deps);
  return finished;
}

function announcementLost(task: Task, now: Date): boolean {
  const endedAt = Date.parse(task.completedAt ?? task.updatedAt);
  return Number.isNaN(endedAt) || now.getTime() - endedAt >= ANNOUNCEMENT_LEASE_MS;
}

async function announce(task: Task, deps: FinishTaskDeps): Promise<void> {
  // Before TaskCompleted, so that whoever starts a catch-up on hearing it reads the new watermark.
  await endRun(task, deps);
  const detail: TaskCompleted = {
    schemaVersion: 1,
    taskId: task.taskId,
    ...(task.attempt && task.attempt > 1 ? { attempt: task.attempt } : {}),
    status: task.status as TerminalStatus,
    dataSource: task.dataSource,
    namespace: task.namespace,
    records: { total: task.records.total, processed: task.records.processed, skipped: task.records.skipped, failed: task.records.failed },
    chunks: task.chunks,
    tokens: task.tokens,
    vectors: task.vectors,
    ...(task.request.sync === 'full' ? { sync: syncSummary(task) } : {}),
    ...(task.request.dryRun ? { dryRun: true } : {}),
    errors: task.errors.slice(0, 20),
    ...(task.warnings?.length ? { warnings: task.warnings } : {}),
    createdAt: task.createdAt,
    completedAt: task.completedAt ?? deps.now().toISOString(),
  };
  await deps.events.publish('TaskCompleted', [detail]);
  await deps.tasks.markCompletionAnnounced(task.taskId);
  deps.logger.info('task completed', { task_id: task.taskId, status: task.status, records: detail.records, chunks: detail.chunks });
}

/**
 * The run is no longer going (nor is its full sync, which frees its dataset for the next); a
 * COMPLETED one (not a dry run: it wrote nothing) moves its source's watermark.
 */
async function endRun(task: Task, deps: FinishTaskDeps): Promise<void> {
  const moves = task.status === 'COMPLETED' && !task.request.dryRun && task.startedAt;
  await deps.catchup.end(
    catchupKeyOf(task.request, task.namespace),
    task.taskId,
    moves ? { taskId: task.taskId, startedAt: task.startedAt as string } : undefined,
  );
  const fullSyncKey = fullSyncKeyOf(task.request, task.namespace);
  if (fullSyncKey) await deps.catchup.end(fullSyncKey, task.taskId);
}

function syncSummary(task: Task): NonNullable<TaskCompleted['sync']> {
  const skipped = deletionSkipped(task);
  return {
    mode: 'full',
    dataset: datasetOf(task.request),
    scanned: task.sync?.scanned ?? 0,
    deleted: task.sync?.deleted ?? 0,
    ...(task.request.dryRun && task.sync ? { wouldDelete: task.sync.unseen } : {}),
    ...(skipped ? { deletionSkipped: skipped } : {}),
  };
}

/**
 * An invalid internal event (ChunkPlanned, ChunkEmbedded) names a task we created: it must not wait
 * forever for the chunk it will never get. `detail` is the event's raw detail, as it arrived.
 */
export async function failTaskOfInvalidEvent(detail: unknown, eventName: string, reason: string, deps: FinishTaskDeps): Promise<void> {
  const taskId = (detail as { taskId?: unknown } | null | undefined)?.taskId;
  if (typeof taskId !== 'string' || !(await deps.tasks.get(taskId))) return;
  await finishTask(taskId, 'FAILED', deps, `an invalid ${eventName} event was rejected: ${reason}`);
}
