/**
 * The sweeper: closes what no consumer will. A PENDING or RUNNING task with no progress for
 * STUCK_TASK_MINUTES has lost work (a message lost outside our code, a Lambda killed on every
 * attempt before its own failure handling ran). Each sweep announces the missing work again from
 * what the task table knows: the request (not planned yet) or the kept plans of the chunks with no
 * result; after MAX_SWEEPS sweeps without progress, the missing chunks are counted failed with the
 * reason (or an unplanned task fails), so every task ends within (MAX_SWEEPS + 1) × STUCK_TASK_MINUTES
 * plus one sweep interval of its last progress (README › What is guaranteed).
 */
import { finalStatus, isSettled, type Task } from '../domain/task';
import type { Dependencies } from '../ports';
import { failedChunk } from './embedChunk';
import { finishTask } from './finishTask';
import { recordChunk, type RecordChunkDeps } from './recordChunk';
import { finishIfSettled } from './settleTask';

export type SweepDeps = RecordChunkDeps & Pick<Dependencies, 'config' | 'taskQueries' | 'plans'>;

/** Announcements of a stuck task's missing work before it is given up. */
export const MAX_SWEEPS = 2;
const LIST_PAGE = 100;

export interface SweepReport {
  checked: number;
  reannounced: string[];
  givenUp: string[];
}

export async function sweepStuckTasks(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { checked: 0, reannounced: [], givenUp: [] };
  for (const status of ['RUNNING', 'PENDING'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.taskQueries.list({ status }, { limit: LIST_PAGE, ...(cursor ? { cursor } : {}) });
      for (const summary of page.tasks) {
        report.checked += 1;
        const task = await deps.tasks.get(summary.taskId);
        if (!task || !isStuck(task, deps)) continue;
        const outcome = await sweep(task, deps);
        if (outcome) report[outcome].push(task.taskId);
      }
      cursor = page.cursor;
    } while (cursor);
  }
  if (report.reannounced.length || report.givenUp.length) deps.logger.warn('stuck tasks swept', { ...report });
  return report;
}

/** No progress (nor a sweep) for STUCK_TASK_MINUTES. */
function isStuck(task: Task, deps: SweepDeps): boolean {
  if (task.status !== 'RUNNING' && task.status !== 'PENDING') return false;
  const lastActivity = Math.max(Date.parse(task.updatedAt), task.sweptAt ? Date.parse(task.sweptAt) : 0);
  return deps.now().getTime() - lastActivity >= deps.config.stuckTaskMinutes * 60_000;
}

async function sweep(task: Task, deps: SweepDeps): Promise<'reannounced' | 'givenUp' | undefined> {
  // Whatever moved since the read (progress, another sweep) wins: this sweep does nothing.
  if (!(await deps.tasks.noteSweep(task.taskId, task, deps.now()))) return undefined;
  const giveUp = (task.sweeps ?? 0) >= MAX_SWEEPS;
  const silence = `no progress for ${deps.config.stuckTaskMinutes} minutes`;
  if (!task.planned) {
    // Inline records travel in the event only: they cannot be planned again from the table.
    if (giveUp || task.request.source.type === 'inline') {
      await finishTask(task.taskId, 'FAILED', deps, `planning never finished: ${silence}, after ${task.sweeps ?? 0} re-announcements`);
      return 'givenUp';
    }
    await deps.events.publish('TaskRequested', [task.request]);
    return 'reannounced';
  }
  const missing = await deps.plans.unrecorded(task.taskId, task.attempt ?? 1);
  if (!missing.length || isSettled(task)) {
    // Every chunk is in: what is left is the ending (or a full sync's deletion step), which this resumes.
    if (!giveUp) {
      await finishIfSettled(task, deps);
      return 'reannounced';
    }
    const settled = isSettled(task);
    const why = settled
      ? `its ending (or its full sync's deletion step) never finished: ${silence}`
      : `the counts of some recorded chunks never arrived: ${silence}`;
    await finishTask(task.taskId, settled ? finalStatus(task.records) : 'FAILED', deps, why);
    return 'givenUp';
  }
  if (giveUp) {
    const reason = `the chunk never completed: ${silence}, announced again ${task.sweeps} times (its Lambda died on every attempt, or its messages were lost)`;
    for (const plan of missing) await recordChunk(failedChunk(plan, reason, deps.now()), deps);
    return 'givenUp';
  }
  await deps.events.publish('ChunkPlanned', missing);
  return 'reannounced';
}
