/** Ending a task: the terminal transition happens once, and TaskCompleted follows it. */
import type { Dependencies } from '../dependencies';
import { finalStatus, isSettled, isTerminal, type Task, type TerminalStatus } from '../domain/task';
import type { TaskCompleted } from '../events/types';

/** Ends the task if every chunk is in; (re)announces a terminal task whose announcement was lost. */
export async function finishIfSettled(task: Task, deps: Dependencies): Promise<void> {
  if (isTerminal(task.status)) {
    if (!task.completionAnnounced) await announce(task, deps);
    return;
  }
  if (!isSettled(task)) return;
  await finishTask(task.taskId, finalStatus(task.records), deps);
}

/** Moves a task to a terminal status; only the caller whose write wins announces it. */
export async function finishTask(taskId: string, status: TerminalStatus, deps: Dependencies, error?: string): Promise<void> {
  const finished = await deps.tasks.finish(taskId, status, deps.now(), error);
  if (finished) await announce(finished, deps);
}

async function announce(task: Task, deps: Dependencies): Promise<void> {
  const detail: TaskCompleted = {
    schemaVersion: 1,
    taskId: task.taskId,
    status: task.status as TerminalStatus,
    dataSource: task.dataSource,
    namespace: task.namespace,
    records: { total: task.records.total, processed: task.records.processed, skipped: task.records.skipped, failed: task.records.failed },
    chunks: task.chunks,
    tokens: task.tokens,
    ...(task.request.dryRun ? { dryRun: true } : {}),
    errors: task.errors.slice(0, 20),
    createdAt: task.createdAt,
    completedAt: task.completedAt ?? deps.now().toISOString(),
  };
  await deps.events.publish([{ detailType: 'TaskCompleted', source: deps.config.eventSource, detail }]);
  await deps.tasks.markCompletionAnnounced(task.taskId);
  deps.logger.info('task completed', { taskId: task.taskId, status: task.status, records: detail.records, chunks: detail.chunks });
}
