/**
 * A run's claim to be the only one going under a key of the catch-up ledger (a scheduled run's
 * source, a full sync's dataset): a write conditional on the entry's version, so that of two runs
 * claiming at once one wins and the other sees it going. A run noted as going whose task has ended
 * (a crash between the two) does not hold the key.
 */
import { isTerminal, type Task } from '../domain/task';
import type { Dependencies } from '../ports';

export type ClaimRunDeps = Pick<Dependencies, 'catchup' | 'tasks'>;

/** Other runs claiming at the same moment; past this many, the caller's message is retried later. */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * Undefined once `task` holds `key` (a redelivery finds its own claim), else why it must not go
 * on: `busy` of the run still going.
 */
export async function claimRun(task: Task, key: string, busy: (going: Task) => string, deps: ClaimRunDeps): Promise<string | undefined> {
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
    const state = await deps.catchup.get(key);
    if (state.running.includes(task.taskId)) return undefined;
    const runs = await Promise.all(state.running.map((taskId) => deps.tasks.get(taskId)));
    const going = runs.find((run) => run !== undefined && !isTerminal(run.status));
    if (going) return busy(going);
    if (await deps.catchup.claim(key, task.taskId, state.version)) return undefined;
  }
  throw new Error(`could not claim ${key} in ${MAX_CLAIM_ATTEMPTS} attempts: runs of it keep beginning`);
}
