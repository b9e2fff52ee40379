/**
 * A full sync's deletion step: once a `sync=full` run has ended with no failed record, the
 * vectors of its dataset (in its namespace) that the run did not see are deleted from the vector
 * store and from the fingerprints. It runs as a chain of SyncStepRequested events, one page each,
 * so that no invocation holds a dataset's ids or outlasts its timeout:
 *
 *   scan 0 … scan n-1   page through the dataset's fingerprints (the `dataset` index), noting
 *                       the ids the run did not see on a page item of their own, written once;
 *   (guards)            nothing is deleted when more than SYNC_MAX_DELETE_FRACTION of the dataset
 *                       would go (unless allow_mass_delete), or in a dry run, which reports;
 *   delete 0 … n-1      delete each page's ids (≤ 500: one Pinecone request, 20 DynamoDB writes);
 *   then the task ends COMPLETED, and TaskCompleted carries what was deleted.
 *
 * Every step is idempotent: its place and counts move in one conditional write, a redelivered
 * step finds its place taken and adds nothing, and deleting twice deletes nothing more. A step
 * whose successor was lost (its Lambda died between the write and the publish) is announced again
 * by the next delivery of anything that finds the sync stuck past a lease.
 */
import { datasetOf, isTerminal, type SyncPhase, type Task } from '../domain/task';
import type { SyncStepRequested } from '../events/types';
import type { Dependencies, SyncPage } from '../ports';
import { finishTask, type FinishTaskDeps } from './finishTask';

export type SyncDeps = FinishTaskDeps & Pick<Dependencies, 'config' | 'sync' | 'hashes' | 'vectors'>;
/** What starting or resuming a sync needs: its ledger, the bus, and the task table to end it. */
export type SyncStartDeps = FinishTaskDeps & Pick<Dependencies, 'sync'>;

/** Fingerprints read per scan step: a page item then stays under DynamoDB's 400 KB even with 512-character ids. */
export const SYNC_PAGE_SIZE = 500;
const SAMPLE_IDS = 10;
/**
 * How long a step's successor may take to be announced after its place was written. A sync
 * found stuck for longer lost its announcement and gets it again; the syncer's visibility
 * timeout (6 × its timeout) is longer than this, so a retried step always finds it expired.
 */
export const SYNC_STEP_LEASE_MS = 60_000;

/** Starts the deletion step of a settled full-sync task (once, whoever asks first). */
export async function beginSync(task: Task, deps: SyncStartDeps): Promise<void> {
  const begun = await deps.sync.begin(task.taskId, deps.now());
  if (begun) await announceStep(begun, { phase: 'scan', page: 0 }, deps);
}

/**
 * A settled task already syncing: announces its current step again if it has been stuck past the
 * lease; ends the task if its sync has ended but the invocation that ended it died before the task did.
 */
export async function resumeSync(task: Task, deps: SyncStartDeps): Promise<void> {
  const { sync } = task;
  if (!sync || isTerminal(task.status)) return;
  if (sync.phase === 'done' || sync.phase === 'skipped') {
    await finishTask(task.taskId, 'COMPLETED', deps);
    return;
  }
  const claimedAt = Date.parse(sync.claimedAt ?? '');
  if (Number.isNaN(claimedAt) || deps.now().getTime() - claimedAt >= SYNC_STEP_LEASE_MS) {
    await announceStep(task, { phase: sync.phase, page: sync.page }, deps);
  }
}

export async function runSyncStep(step: SyncStepRequested, deps: SyncDeps): Promise<void> {
  const task = await deps.tasks.get(step.taskId);
  if (!task || isTerminal(task.status) || !task.sync) return;
  if (task.sync.phase !== step.phase || task.sync.page !== step.page) {
    // A redelivered or duplicated step: its place was taken. Its successor (or the task's end) may have been lost.
    return resumeSync(task, deps);
  }
  if (step.phase === 'scan') await scanPage(task, step.page, deps);
  else await deletePage(task, step.page, deps);
}

async function scanPage(task: Task, page: number, deps: SyncDeps): Promise<void> {
  const { namespace } = task;
  // The namespace and dataset come from the task, never from the event: a step cannot be pointed at another dataset.
  const dataset = datasetOf(task.request);
  const previous = page > 0 ? await deps.sync.page(task.taskId, page - 1) : undefined;
  if (page > 0 && !previous?.cursor) throw new Error(`sync of task ${task.taskId}: page ${page - 1} is missing or was the last`);
  const scanned: SyncPage =
    (await deps.sync.page(task.taskId, page)) ??
    (await deps.sync.savePage(task.taskId, page, await readPage(task, namespace, dataset, previous?.cursor, deps), deps.now()));
  const sampleIds = [...(task.sync?.sampleIds ?? []), ...scanned.unseenIds].slice(0, SAMPLE_IDS);
  const counts = { scanned: scanned.scanned, unseen: scanned.unseenIds.length, sampleIds };
  if (scanned.cursor) {
    const next = await deps.sync.advance(task.taskId, { phase: 'scan', page }, { phase: 'scan', page: page + 1 }, counts, deps.now());
    if (next) await announceStep(next, { phase: 'scan', page: page + 1 }, deps);
    return;
  }
  const totals = { scanned: (task.sync?.scanned ?? 0) + scanned.scanned, unseen: (task.sync?.unseen ?? 0) + scanned.unseenIds.length };
  const skippedReason = deletionGuard(task, totals, deps.config.sync.maxDeleteFraction);
  const deleting = !skippedReason && totals.unseen > 0;
  const to: { phase: SyncPhase; page: number } = { phase: deleting ? 'delete' : skippedReason ? 'skipped' : 'done', page: 0 };
  const next = await deps.sync.advance(task.taskId, { phase: 'scan', page }, to, { ...counts, pages: page + 1, skippedReason }, deps.now());
  if (!next) return;
  if (deleting) await announceStep(next, { phase: 'delete', page: 0 }, deps);
  else await finishTask(task.taskId, 'COMPLETED', deps);
}

/**
 * The fingerprints of one page of the dataset, and which of them this run did not see. The index
 * may lag the run's last seen marks, so what it calls unseen is read again, consistently, from the
 * fingerprints themselves: only a vector that is still in the dataset, unseen, is deleted.
 */
async function readPage(task: Task, namespace: string, dataset: string, cursor: string | undefined, deps: SyncDeps): Promise<SyncPage> {
  const { entries, cursor: next } = await deps.hashes.scanDataset(namespace, dataset, { cursor, limit: SYNC_PAGE_SIZE });
  const candidates = entries.filter((entry) => entry.seenBy !== task.taskId).map((entry) => entry.id);
  const current = candidates.length ? await deps.hashes.get(namespace, candidates, { consistent: true }) : new Map();
  const unseen = candidates.filter((id) => {
    const stored = current.get(id);
    return stored !== undefined && stored.write !== 'delete' && stored.dataset === dataset && stored.seenBy !== task.taskId;
  });
  // A split record's own row is bookkeeping, not a vector: it goes with its pieces but counts as nothing.
  const isRow = (id: string) => current.get(id)?.write === 'split';
  const unseenRowIds = unseen.filter(isRow);
  const scanned = entries.filter((entry) => entry.write !== 'split').length;
  return {
    unseenIds: unseen.filter((id) => !isRow(id)),
    ...(unseenRowIds.length ? { unseenRowIds } : {}),
    scanned,
    ...(next ? { cursor: next } : {}),
  };
}

/** Why the scan's findings must not be deleted, if they must not. */
function deletionGuard(task: Task, totals: { scanned: number; unseen: number }, maxFraction: number): string | undefined {
  if (task.request.dryRun) return `dry run: ${totals.unseen} of ${totals.scanned} vectors would be deleted`;
  if (totals.unseen === 0 || task.request.allowMassDelete) return undefined;
  const fraction = totals.unseen / totals.scanned;
  if (fraction <= maxFraction) return undefined;
  const percent = (value: number) => `${Math.round(value * 1000) / 10}%`;
  return (
    `would delete ${totals.unseen} of the dataset's ${totals.scanned} vectors (${percent(fraction)}), ` +
    `more than SYNC_MAX_DELETE_FRACTION (${percent(maxFraction)}); run again with allow_mass_delete=true to delete them`
  );
}

async function deletePage(task: Task, page: number, deps: SyncDeps): Promise<void> {
  const scanned = await deps.sync.page(task.taskId, page);
  if (!scanned) throw new Error(`sync of task ${task.taskId}: scanned page ${page} is missing`);
  if (scanned.unseenIds.length) await deps.vectors.delete(task.namespace, scanned.unseenIds);
  const rows = [...scanned.unseenIds, ...(scanned.unseenRowIds ?? [])];
  if (rows.length) await deps.hashes.delete(task.namespace, rows);
  const pages = task.sync?.pages ?? 0;
  const last = page + 1 >= pages;
  const to: { phase: SyncPhase; page: number } = last ? { phase: 'done', page: 0 } : { phase: 'delete', page: page + 1 };
  const next = await deps.sync.advance(task.taskId, { phase: 'delete', page }, to, { deleted: scanned.unseenIds.length }, deps.now());
  if (!next) return;
  if (last) await finishTask(task.taskId, 'COMPLETED', deps);
  else await announceStep(next, { phase: 'delete', page: page + 1 }, deps);
}

async function announceStep(
  task: Task,
  step: { phase: 'scan' | 'delete'; page: number },
  deps: Pick<Dependencies, 'events'>,
): Promise<void> {
  const detail: SyncStepRequested = {
    schemaVersion: 1,
    taskId: task.taskId,
    namespace: task.namespace,
    dataset: datasetOf(task.request),
    ...step,
  };
  await deps.events.publish('SyncStepRequested', [detail]);
}

/** Marks a task whose sync step keeps failing, so that it does not wait forever. */
export async function failSync(step: SyncStepRequested, reason: string, deps: FinishTaskDeps): Promise<void> {
  await finishTask(step.taskId, 'FAILED', deps, `full sync failed at ${step.phase} page ${step.page}: ${reason}`);
}
