/**
 * What happens once every chunk of a task is in: it ends, with the status its counts give; or,
 * for a full sync that read records and failed none, its deletion step begins first (see
 * syncDataset.ts). A task that has ended already is announced again if its announcement was lost.
 */
import { finalStatus, isSettled, isTerminal, type Task } from '../domain/task';
import { finishTask, reannounceIfLost, type FinishTaskDeps } from './finishTask';
import { beginSync, resumeSync, type SyncStartDeps } from './syncDataset';

export type SettleTaskDeps = FinishTaskDeps & SyncStartDeps;

/** Ends the task if every chunk is in; re-announces a terminal task whose announcement was lost. */
export async function finishIfSettled(task: Task, deps: SettleTaskDeps): Promise<void> {
  if (isTerminal(task.status)) return reannounceIfLost(task, deps);
  if (!isSettled(task)) return;
  const status = finalStatus(task.records);
  if (task.request.sync !== 'full' || status !== 'COMPLETED') {
    await finishTask(task.taskId, status, deps);
    return;
  }
  if (task.sync) return resumeSync(task, deps);
  if (task.records.total === 0) {
    await deps.sync.skip(task.taskId, 'the run read 0 records: a full sync of an empty source would delete the whole dataset', deps.now());
    await finishTask(task.taskId, status, deps);
    return;
  }
  await beginSync(task, deps);
}
