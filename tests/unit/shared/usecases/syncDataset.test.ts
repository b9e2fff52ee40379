/**
 * A full sync's deletion step, page by page over an in-memory ledger and fingerprint store: the scan notes what the run did not
 * see, the guards keep a suspicious or dry run from deleting, the delete pages remove the rest, and every step is idempotent:
 * a redelivered step adds and deletes nothing more, a step of an ended task does nothing, a lost successor is announced again
 * once its lease has passed.
 */
import { buildStatusView, type Task, type TaskRequest } from '../../../../shared/domain/task';
import type { SyncStepRequested, TaskCompleted } from '../../../../shared/events/types';
import type { VectorStateEntry } from '../../../../shared/ports';
import {
  beginSync,
  failSync,
  runSyncStep,
  SYNC_PAGE_SIZE,
  SYNC_STEP_LEASE_MS,
  type SyncDeps,
} from '../../../../shared/usecases/syncDataset';
import {
  aTask,
  configWith,
  detailsOf,
  memoryHashes,
  memorySync,
  recordingEvents,
  recordingVectors,
  silentLogger,
  memoryCatchup,
} from '../../../helpers/fakes';

const START = new Date('2026-11-28T13:00:00.000Z');
const TASK_ID = 'sync-1';
const NAMESPACE = 'shop';
const DATASET = 'catalog';

/** A full-sync task whose every chunk is in, with no failed record, as settleTask hands it to beginSync. */
function settledSync(request: Partial<TaskRequest> = {}): Task {
  return aTask({
    taskId: TASK_ID,
    namespace: NAMESPACE,
    planned: true,
    request: {
      schemaVersion: 1,
      taskId: TASK_ID,
      source: { type: 's3_csv', key: 'incoming/full/catalog/2026-11-28.csv' },
      namespace: NAMESPACE,
      dataset: DATASET,
      sync: 'full',
      ...request,
    },
    records: { total: 40, processed: 40, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {} },
    chunks: { total: 1, completed: 1, failed: 0 },
    tokens: 400,
    vectors: { upserted: 30, metadataUpdated: 4, deleted: 2 },
  });
}

const skuIds = (count: number) => Array.from({ length: count }, (_, i) => `sku-${String(i).padStart(4, '0')}`);
const entry = (id: string, dataset = DATASET): VectorStateEntry => ({
  id,
  inputHash: `i-${id}`,
  metadataHash: `m-${id}`,
  dataset,
  tokens: 1,
  write: 'embed',
});

/** The ledger, stores and bus of one sync, on a clock the test moves. */
function syncHarness(task: Task, env: Record<string, string> = {}) {
  const ledger = memorySync(task);
  const hashes = memoryHashes();
  const vectors = recordingVectors();
  const events = recordingEvents();
  let now = START;
  const deps: SyncDeps = {
    catchup: memoryCatchup(),
    config: configWith(env),
    sync: ledger,
    tasks: ledger.tasks,
    events,
    logger: silentLogger,
    now: () => now,
    hashes,
    vectors,
  };
  let handled = 0;
  const steps = () => detailsOf(events.published, 'SyncStepRequested');
  return {
    ledger,
    hashes,
    vectors,
    deps,
    published: events.published,
    steps,
    completions: () => detailsOf(events.published, 'TaskCompleted'),
    at(ms: number) {
      now = new Date(START.getTime() + ms);
      return now;
    },
    /**
     * Stores the dataset: every id a fingerprint (written by an earlier task) and a vector; those in `seen` marked seen by
     * this run. Another dataset of the namespace, and the same dataset in another namespace, are never this sync's.
     */
    async store(ids: string[], seen: (id: string, i: number) => boolean) {
      const seenIds = ids.filter(seen);
      await hashes.put(
        NAMESPACE,
        ids.filter((id, i) => !seen(id, i)).map((id) => entry(id)),
        'task-0',
      );
      await hashes.put(
        NAMESPACE,
        seenIds.map((id) => entry(id)),
        TASK_ID,
        { seen: true },
      );
      await hashes.put(NAMESPACE, [entry('other-1', 'archive')], 'task-0');
      await hashes.put('elsewhere', [entry(ids[0])], 'task-0');
      const values = Float32Array.of(1, 2, 3);
      await vectors.upsert(
        NAMESPACE,
        ['other-1', ...ids].map((id) => ({ id, values, metadata: { _dataset: DATASET } })),
      );
      vectors.upserts.length = 0;
    },
    /** Runs the announced steps not yet run, in order, as the syncer's queue delivers them; `each` runs after every step. */
    async drain(each?: (step: SyncStepRequested) => Promise<void>) {
      while (handled < steps().length) {
        const step = steps()[handled];
        handled += 1;
        await runSyncStep(step, deps);
        await each?.(step);
      }
    },
  };
}

type Harness = ReturnType<typeof syncHarness>;
const step = (phase: 'scan' | 'delete', page: number): SyncStepRequested => ({
  schemaVersion: 1,
  taskId: TASK_ID,
  namespace: NAMESPACE,
  dataset: DATASET,
  phase,
  page,
});
const storedIds = (h: Harness, namespace = NAMESPACE) =>
  [...h.hashes.stored.values()]
    .filter((stored) => stored.namespace === namespace)
    .map((stored) => stored.id)
    .sort();
const vectorIds = (h: Harness) =>
  [...h.vectors.stored.keys()]
    .filter((key) => key.startsWith(`${NAMESPACE}/`))
    .map((key) => key.slice(NAMESPACE.length + 1))
    .sort();

/** What TaskCompleted says of the settled task, given its sync's summary and what it deleted in all. */
function completion(task: Task, sync: NonNullable<TaskCompleted['sync']>, deleted: number, at: Date): TaskCompleted {
  return {
    schemaVersion: 1,
    taskId: TASK_ID,
    status: 'COMPLETED',
    dataSource: 's3_csv',
    namespace: NAMESPACE,
    records: { total: 40, processed: 40, skipped: 0, failed: 0 },
    chunks: { total: 1, completed: 1, failed: 0 },
    tokens: 400,
    vectors: { upserted: 30, metadataUpdated: 4, deleted },
    sync,
    ...(task.request.dryRun ? { dryRun: true } : {}),
    errors: [],
    createdAt: task.createdAt,
    completedAt: at.toISOString(),
  };
}

describe('a full sync over several pages', () => {
  it(`scans ${SYNC_PAGE_SIZE} fingerprints a page, then deletes each page's unseen ids, and ends the task COMPLETED`, async () => {
    const task = settledSync();
    const h = syncHarness(task);
    const ids = skuIds(1200);
    const unseen = ids.filter((_, i) => i % 10 === 0);
    await h.store(ids, (_, i) => i % 10 !== 0);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    expect(h.steps()).toEqual([step('scan', 0), step('scan', 1), step('scan', 2), step('delete', 0), step('delete', 1), step('delete', 2)]);
    expect(h.vectors.deletes).toEqual([
      { namespace: NAMESPACE, ids: unseen.slice(0, 50) },
      { namespace: NAMESPACE, ids: unseen.slice(50, 100) },
      { namespace: NAMESPACE, ids: unseen.slice(100) },
    ]);
    const kept = ids.filter((_, i) => i % 10 !== 0);
    expect(storedIds(h)).toEqual([...kept, 'other-1'].sort());
    expect(storedIds(h, 'elsewhere')).toEqual(['sku-0000']);
    expect(vectorIds(h)).toEqual([...kept, 'other-1'].sort());
    expect([...h.ledger.pages.keys()]).toEqual([0, 1, 2]);
    expect(h.ledger.pages.get(0)).toEqual({ unseenIds: unseen.slice(0, 50), scanned: 500, cursor: 'sku-0499' });
    expect(h.ledger.pages.get(2)).toEqual({ unseenIds: unseen.slice(100), scanned: 200 });

    const ended = h.ledger.current();
    expect(ended).toMatchObject({ status: 'COMPLETED', completedAt: START.toISOString(), completionAnnounced: true });
    expect(ended.vectors).toEqual({ upserted: 30, metadataUpdated: 4, deleted: 2 + 120 });
    expect(ended.sync).toEqual({
      phase: 'done',
      page: 0,
      pages: 3,
      scanned: 1200,
      unseen: 120,
      deleted: 120,
      sampleIds: unseen.slice(0, 10),
      claimedAt: START.toISOString(),
    });
    expect(h.completions()).toEqual([completion(task, { mode: 'full', dataset: DATASET, scanned: 1200, deleted: 120 }, 122, START)]);
    expect(h.published.map((event) => event.name).at(-1)).toBe('TaskCompleted');
  });

  it('deletes nothing and takes no delete step when the run saw every vector of its dataset', async () => {
    const task = settledSync();
    const h = syncHarness(task);
    await h.store(skuIds(7), () => true);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    expect(h.steps()).toEqual([step('scan', 0)]);
    expect(h.vectors.deletes).toEqual([]);
    expect(h.ledger.current()).toMatchObject({ status: 'COMPLETED', sync: { phase: 'done', pages: 1, scanned: 7, unseen: 0, deleted: 0 } });
    expect(h.completions()).toEqual([completion(task, { mode: 'full', dataset: DATASET, scanned: 7, deleted: 0 }, 2, START)]);
  });
});

describe('the guards', () => {
  it('deletes nothing when more than SYNC_MAX_DELETE_FRACTION of the dataset would go: skipped with the reason, COMPLETED', async () => {
    const task = settledSync();
    const h = syncHarness(task);
    const ids = skuIds(10);
    await h.store(ids, (_, i) => i >= 6);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    const reason =
      "would delete 6 of the dataset's 10 vectors (60%), more than SYNC_MAX_DELETE_FRACTION (50%); " +
      'run again with allow_mass_delete=true to delete them';
    expect(h.steps()).toEqual([step('scan', 0)]);
    expect(h.vectors.deletes).toEqual([]);
    expect(storedIds(h)).toEqual(['other-1', ...ids]);
    expect(vectorIds(h)).toEqual(['other-1', ...ids]);
    const ended = h.ledger.current();
    expect(ended.status).toBe('COMPLETED');
    expect(ended.sync).toEqual({
      phase: 'skipped',
      page: 0,
      pages: 1,
      scanned: 10,
      unseen: 6,
      deleted: 0,
      sampleIds: ids.slice(0, 6),
      skippedReason: reason,
      claimedAt: START.toISOString(),
    });
    expect(h.completions()).toEqual([
      completion(task, { mode: 'full', dataset: DATASET, scanned: 10, deleted: 0, deletionSkipped: reason }, 2, START),
    ]);
    const view = buildStatusView(ended, 0.02);
    expect(view.sync).toEqual({ mode: 'full', dataset: DATASET, phase: 'skipped', scanned: 10, deleted: 0, deletion_skipped: reason });
    expect(view.warnings).toEqual([`deletion skipped: ${reason}`]);
  });

  it('deletes exactly SYNC_MAX_DELETE_FRACTION of the dataset, which is not more than it', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(10);
    await h.store(ids, (_, i) => i >= 5);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    expect(h.vectors.deletes).toEqual([{ namespace: NAMESPACE, ids: ids.slice(0, 5) }]);
    expect(h.ledger.current()).toMatchObject({ status: 'COMPLETED', sync: { phase: 'done', deleted: 5 } });
    expect(h.ledger.current().sync).not.toHaveProperty('skippedReason');
  });

  it('takes the fraction from SYNC_MAX_DELETE_FRACTION', async () => {
    const h = syncHarness(settledSync(), { SYNC_MAX_DELETE_FRACTION: '0.25' });
    await h.store(skuIds(10), (_, i) => i >= 3);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    expect(h.vectors.deletes).toEqual([]);
    expect(h.ledger.current().sync?.skippedReason).toBe(
      "would delete 3 of the dataset's 10 vectors (30%), more than SYNC_MAX_DELETE_FRACTION (25%); " +
        'run again with allow_mass_delete=true to delete them',
    );
  });

  it('deletes even the whole dataset with allow_mass_delete', async () => {
    const task = settledSync({ allowMassDelete: true });
    const h = syncHarness(task);
    const ids = skuIds(10);
    await h.store(ids, () => false);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    expect(h.steps()).toEqual([step('scan', 0), step('delete', 0)]);
    expect(h.vectors.deletes).toEqual([{ namespace: NAMESPACE, ids }]);
    expect(storedIds(h)).toEqual(['other-1']);
    expect(vectorIds(h)).toEqual(['other-1']);
    expect(h.ledger.current()).toMatchObject({ status: 'COMPLETED', sync: { phase: 'done', scanned: 10, unseen: 10, deleted: 10 } });
    expect(h.completions()).toEqual([completion(task, { mode: 'full', dataset: DATASET, scanned: 10, deleted: 10 }, 12, START)]);
  });

  it('reports in a dry run what it would delete, with a sample of the ids, and deletes nothing', async () => {
    const task = settledSync({ dryRun: true });
    const h = syncHarness(task);
    const ids = skuIds(15);
    await h.store(ids, (_, i) => i >= 12);

    await beginSync(h.ledger.current(), h.deps);
    await h.drain();

    const reason = 'dry run: 12 of 15 vectors would be deleted';
    expect(h.steps()).toEqual([step('scan', 0)]);
    expect(h.vectors.deletes).toEqual([]);
    expect(storedIds(h)).toEqual(['other-1', ...ids]);
    const ended = h.ledger.current();
    expect(ended).toMatchObject({
      status: 'COMPLETED',
      sync: { phase: 'skipped', scanned: 15, unseen: 12, deleted: 0, skippedReason: reason },
    });
    expect(ended.sync?.sampleIds).toEqual(ids.slice(0, 10));
    expect(h.completions()).toEqual([
      completion(task, { mode: 'full', dataset: DATASET, scanned: 15, deleted: 0, wouldDelete: 12, deletionSkipped: reason }, 2, START),
    ]);
    expect(buildStatusView(ended, 0.02).sync).toEqual({
      mode: 'full',
      dataset: DATASET,
      phase: 'skipped',
      scanned: 15,
      deleted: 0,
      would_delete: 12,
      sample_ids: ids.slice(0, 10),
      deletion_skipped: reason,
    });
  });
});

describe('idempotent steps', () => {
  it('adds nothing, deletes nothing more and announces nothing when each step is delivered again', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(600);
    await h.store(ids, (_, i) => i % 10 !== 0);
    await beginSync(h.ledger.current(), h.deps);

    const redeliveries: string[] = [];
    await h.drain(async (delivered) => {
      const before = {
        task: h.ledger.current(),
        published: h.published.length,
        deletes: h.vectors.deletes.length,
        stored: h.hashes.stored.size,
      };
      h.at(SYNC_STEP_LEASE_MS - 1);
      await runSyncStep(delivered, h.deps);
      h.at(0);
      redeliveries.push(`${delivered.phase} ${delivered.page}`);
      expect({
        task: h.ledger.current(),
        published: h.published.length,
        deletes: h.vectors.deletes.length,
        stored: h.hashes.stored.size,
      }).toEqual(before);
    });

    expect(redeliveries).toEqual(['scan 0', 'scan 1', 'delete 0', 'delete 1']);
    expect(h.vectors.deletes.map((deleted) => deleted.ids.length)).toEqual([50, 10]);
    expect(h.ledger.current()).toMatchObject({
      status: 'COMPLETED',
      vectors: { deleted: 62 },
      sync: { scanned: 600, unseen: 60, deleted: 60 },
    });
    expect(h.completions()).toHaveLength(1);
  });

  it('retries a scan step that failed after saving its page with that same page, whatever the store says since', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(10);
    await h.store(ids, (_, i) => i >= 2);
    await beginSync(h.ledger.current(), h.deps);
    const lost = new Error('DynamoDB unavailable');
    await expect(
      runSyncStep(step('scan', 0), { ...h.deps, sync: { ...h.ledger, advance: async () => Promise.reject(lost) } }),
    ).rejects.toBe(lost);
    expect(h.ledger.current().sync).toMatchObject({ phase: 'scan', page: 0, scanned: 0 });

    // A chunk of this run marks one more id seen in between: the retry still sees the page as first scanned.
    await h.hashes.markSeen(NAMESPACE, [{ ...entry(ids[0]), id: ids[0] }], TASK_ID);
    await runSyncStep(step('scan', 0), h.deps);
    await h.drain();

    expect(h.vectors.deletes).toEqual([{ namespace: NAMESPACE, ids: ids.slice(0, 2) }]);
    expect(h.ledger.current()).toMatchObject({ status: 'COMPLETED', sync: { scanned: 10, unseen: 2, deleted: 2 } });
  });

  it('counts a delete page once when its step is retried after deleting, and the second deletion removes nothing more', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(10);
    await h.store(ids, (_, i) => i >= 3);
    await beginSync(h.ledger.current(), h.deps);
    await runSyncStep(step('scan', 0), h.deps);
    const lost = new Error('DynamoDB unavailable');
    await expect(
      runSyncStep(step('delete', 0), { ...h.deps, sync: { ...h.ledger, advance: async () => Promise.reject(lost) } }),
    ).rejects.toBe(lost);
    expect(vectorIds(h)).toEqual(['other-1', ...ids.slice(3)]);

    await runSyncStep(step('delete', 0), h.deps);

    expect(h.vectors.deletes).toEqual([
      { namespace: NAMESPACE, ids: ids.slice(0, 3) },
      { namespace: NAMESPACE, ids: ids.slice(0, 3) },
    ]);
    expect(vectorIds(h)).toEqual(['other-1', ...ids.slice(3)]);
    expect(storedIds(h)).toEqual(['other-1', ...ids.slice(3)]);
    expect(h.ledger.current()).toMatchObject({
      status: 'COMPLETED',
      vectors: { deleted: 5 },
      sync: { phase: 'done', unseen: 3, deleted: 3 },
    });
    expect(h.completions()).toHaveLength(1);
  });
});

describe('steps that find the sync elsewhere', () => {
  it('does nothing for a step of a task that has ended (cancelled): nothing scanned, deleted or announced', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(10);
    await h.store(ids, (_, i) => i >= 3);
    await beginSync(h.ledger.current(), h.deps);
    await runSyncStep(step('scan', 0), h.deps);
    h.ledger.update({ status: 'CANCELLED', completedAt: START.toISOString() });
    const before = h.ledger.current();

    h.at(10 * SYNC_STEP_LEASE_MS);
    await h.drain();
    await runSyncStep(step('scan', 0), h.deps);

    expect(h.steps()).toEqual([step('scan', 0), step('delete', 0)]);
    expect(h.vectors.deletes).toEqual([]);
    expect(vectorIds(h)).toEqual(['other-1', ...ids]);
    expect(h.ledger.current()).toEqual(before);
    expect(h.completions()).toEqual([]);
  });

  it('does nothing for a step of a task whose sync never began', async () => {
    const h = syncHarness(settledSync());
    await h.store(skuIds(3), () => false);
    await runSyncStep(step('scan', 0), h.deps);
    await runSyncStep({ ...step('scan', 0), taskId: 'unknown-task' }, h.deps);
    expect(h.published).toEqual([]);
    expect(h.ledger.pages.size).toBe(0);
    expect(h.ledger.current().sync).toBeUndefined();
  });

  it('announces the current step again when a stale step finds it claimed for the lease or longer (its successor was lost)', async () => {
    const h = syncHarness(settledSync());
    const ids = skuIds(SYNC_PAGE_SIZE + 5);
    await h.store(ids, (_, i) => i % 100 !== 0);
    await beginSync(h.ledger.current(), h.deps);
    const claimedAt = h.at(1_000);
    const down = new Error('EventBridge unreachable');
    await expect(runSyncStep(step('scan', 0), { ...h.deps, events: recordingEvents({ failWith: down }) })).rejects.toBe(down);
    expect(h.ledger.current().sync).toMatchObject({ phase: 'scan', page: 1, claimedAt: claimedAt.toISOString() });
    expect(h.steps()).toEqual([step('scan', 0)]);

    h.at(1_000 + SYNC_STEP_LEASE_MS - 1);
    await runSyncStep(step('scan', 0), h.deps);
    expect(h.steps()).toEqual([step('scan', 0)]);

    h.at(1_000 + SYNC_STEP_LEASE_MS);
    await runSyncStep(step('scan', 0), h.deps);
    expect(h.steps()).toEqual([step('scan', 0), step('scan', 1)]);
    expect(h.ledger.current().sync).toMatchObject({ phase: 'scan', page: 1, scanned: SYNC_PAGE_SIZE, claimedAt: claimedAt.toISOString() });

    await h.drain();
    expect(h.steps()).toEqual([step('scan', 0), step('scan', 1), step('scan', 1), step('delete', 0), step('delete', 1)]);
    expect(h.vectors.deletes.map((deleted) => deleted.ids)).toEqual([
      ['sku-0000', 'sku-0100', 'sku-0200', 'sku-0300', 'sku-0400'],
      ['sku-0500'],
    ]);
    expect(h.ledger.current()).toMatchObject({ status: 'COMPLETED', sync: { scanned: SYNC_PAGE_SIZE + 5, unseen: 6, deleted: 6 } });
    expect(h.completions()).toHaveLength(1);
  });

  it('marks the task FAILED with the phase and page when a step keeps failing, keeping what it deleted', async () => {
    const task = settledSync();
    const h = syncHarness(task);
    const ids = skuIds(600);
    await h.store(ids, (_, i) => i % 10 !== 0);
    await beginSync(h.ledger.current(), h.deps);
    for (const [phase, page] of [
      ['scan', 0],
      ['scan', 1],
      ['delete', 0],
    ] as const)
      await runSyncStep(step(phase, page), h.deps);
    expect(h.steps().at(-1)).toEqual(step('delete', 1));

    await failSync(step('delete', 1), 'pinecone is down', h.deps);

    const ended = h.ledger.current();
    expect(ended).toMatchObject({
      status: 'FAILED',
      errors: ['full sync failed at delete page 1: pinecone is down'],
      vectors: { deleted: 52 },
    });
    expect(h.completions()).toEqual([
      {
        ...completion(
          task,
          {
            mode: 'full',
            dataset: DATASET,
            scanned: 600,
            deleted: 50,
            deletionSkipped: 'the task ended FAILED during its deletion step, after deleting 50 vectors; the rest stay',
          },
          52,
          START,
        ),
        status: 'FAILED',
        errors: ['full sync failed at delete page 1: pinecone is down'],
      },
    ]);
    await runSyncStep(step('delete', 1), h.deps);
    expect(h.vectors.deletes).toHaveLength(1);
    expect(h.completions()).toHaveLength(1);
  });

  // A step whose finishTask failed (DynamoDB throttled) is retried, finds its place taken, and ends the task.
  it('ends the task when the step that moved the sync to done is retried after its finish failed', async () => {
    const h = syncHarness(settledSync());
    await h.store(skuIds(10), (_, i) => i >= 2);
    await beginSync(h.ledger.current(), h.deps);
    await runSyncStep(step('scan', 0), h.deps);
    const throttled = new Error('DynamoDB throttled');
    const failingFinish = { ...h.deps, tasks: { ...h.ledger.tasks, finish: async () => Promise.reject(throttled) } };
    await expect(runSyncStep(step('delete', 0), failingFinish)).rejects.toBe(throttled);
    expect(h.ledger.current()).toMatchObject({ status: 'RUNNING', sync: { phase: 'done', deleted: 2 } });

    h.at(SYNC_STEP_LEASE_MS);
    await runSyncStep(step('delete', 0), h.deps);

    expect(h.ledger.current().status).toBe('COMPLETED');
    expect(h.completions()).toHaveLength(1);
  });
});
