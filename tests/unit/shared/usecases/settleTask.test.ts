/**
 * Settling a task once its chunks are all in: a full sync that read records and failed none begins its deletion step instead of
 * ending; one with failed records ends PARTIAL or FAILED and says why it deleted nothing; one that read nothing ends without
 * deleting; a task that does not sync ends as it always did.
 */
import { buildStatusView, type Task, type TaskRequest, type TerminalStatus } from '../../../../shared/domain/task';
import { finishIfSettled, type SettleTaskDeps } from '../../../../shared/usecases/settleTask';
import { SYNC_STEP_LEASE_MS } from '../../../../shared/usecases/syncDataset';
import { aTask, detailsOf, fakeSync, memorySync, recordingEvents, silentLogger, memoryCatchup } from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:30:00.000Z');
const REQUEST: TaskRequest = {
  schemaVersion: 1,
  taskId: 'full-1',
  source: { type: 's3_csv', key: 'incoming/full/catalog/2026-11-28.csv' },
  namespace: 'shop',
  dataset: 'catalog',
  sync: 'full',
};

/** A task whose only chunk is in, with these counts. */
function settled(records: Partial<Task['records']>, request: Partial<TaskRequest> = {}): Task {
  return aTask({
    taskId: 'full-1',
    namespace: 'shop',
    planned: true,
    request: { ...REQUEST, ...request },
    records: { total: 3, processed: 3, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {}, ...records },
    chunks: { total: 1, completed: 1, failed: 0 },
    tokens: 30,
    vectors: { upserted: 3, metadataUpdated: 0, deleted: 0 },
  });
}

function settleDeps(task: Task) {
  const ledger = memorySync(task);
  const events = recordingEvents();
  let now = NOW;
  const deps: SettleTaskDeps = {
    catchup: memoryCatchup(),
    sync: ledger,
    tasks: ledger.tasks,
    events,
    logger: silentLogger,
    now: () => now,
  };
  return {
    ledger,
    deps,
    published: events.published,
    at: (ms: number) => {
      now = new Date(NOW.getTime() + ms);
    },
  };
}

const scanStep = { schemaVersion: 1, taskId: 'full-1', namespace: 'shop', dataset: 'catalog', phase: 'scan', page: 0 } as const;

describe('finishIfSettled on a full sync', () => {
  it('begins the deletion step of a run with no failed record (SyncStepRequested scan 0) instead of ending the task', async () => {
    const { ledger, deps, published } = settleDeps(settled({ processed: 2, skipped: 1 }));
    await finishIfSettled(ledger.current(), deps);

    expect(published).toEqual([{ name: 'SyncStepRequested', detail: scanStep }]);
    expect(ledger.current()).toMatchObject({ status: 'RUNNING', completionAnnounced: false });
    expect(ledger.current().sync).toEqual({
      phase: 'scan',
      page: 0,
      pages: 0,
      scanned: 0,
      unseen: 0,
      deleted: 0,
      sampleIds: [],
      claimedAt: NOW.toISOString(),
    });
    expect(buildStatusView(ledger.current(), 0.02)).toMatchObject({ status: 'RUNNING', sync: { phase: 'scan' }, warnings: [] });
  });

  it('begins once: a settling chunk delivered again re-announces scan 0 only once its lease has passed', async () => {
    const { ledger, deps, published, at } = settleDeps(settled({}));
    await finishIfSettled(ledger.current(), deps);
    at(SYNC_STEP_LEASE_MS - 1);
    await finishIfSettled(ledger.current(), deps);
    expect(published).toHaveLength(1);

    at(SYNC_STEP_LEASE_MS);
    await finishIfSettled(ledger.current(), deps);
    expect(published).toEqual([
      { name: 'SyncStepRequested', detail: scanStep },
      { name: 'SyncStepRequested', detail: scanStep },
    ]);
    expect(ledger.current().sync).toMatchObject({ phase: 'scan', page: 0, claimedAt: NOW.toISOString() });
  });

  it.each([
    ['PARTIAL', { processed: 2, failed: 1 }],
    ['FAILED', { processed: 0, failed: 3 }],
  ] as const)('ends a run with failed records %s, deleting nothing, and says why', async (status, records) => {
    const { ledger, deps, published } = settleDeps(settled(records));
    await finishIfSettled(ledger.current(), deps);

    const reason = `the run ended ${status}: a full sync deletes only after a run with no failed record`;
    const ended = ledger.current();
    expect(ended).toMatchObject({ status, completionAnnounced: true });
    expect(ended.sync).toBeUndefined();
    expect(detailsOf(published, 'SyncStepRequested')).toEqual([]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ status, sync: { mode: 'full', dataset: 'catalog', scanned: 0, deleted: 0, deletionSkipped: reason } }),
    ]);
    const view = buildStatusView(ended, 0.02);
    expect(view.sync).toEqual({ mode: 'full', dataset: 'catalog', phase: 'skipped', scanned: 0, deleted: 0, deletion_skipped: reason });
    expect(view.warnings).toEqual([`deletion skipped: ${reason}`]);
  });

  it('ends a run that read 0 records COMPLETED without a deletion step, with the reason', async () => {
    const { ledger, deps, published } = settleDeps(settled({ total: 0, processed: 0 }));
    await finishIfSettled(ledger.current(), deps);

    const reason = 'the run read 0 records: a full sync of an empty source would delete the whole dataset';
    const ended = ledger.current();
    expect(ended.status).toBe('COMPLETED');
    expect(ended.sync).toEqual({
      phase: 'skipped',
      page: 0,
      pages: 0,
      scanned: 0,
      unseen: 0,
      deleted: 0,
      sampleIds: [],
      skippedReason: reason,
    });
    expect(published.map((event) => event.name)).toEqual(['TaskCompleted']);
    expect(detailsOf(published, 'TaskCompleted')[0].sync).toEqual({
      mode: 'full',
      dataset: 'catalog',
      scanned: 0,
      deleted: 0,
      deletionSkipped: reason,
    });
    expect(buildStatusView(ended, 0.02).sync).toMatchObject({ phase: 'skipped', deletion_skipped: reason });
  });

  it('leaves a full sync open while a chunk is still out', async () => {
    const { ledger, deps, published } = settleDeps(aTask({ ...settled({}), chunks: { total: 2, completed: 1, failed: 0 } }));
    await finishIfSettled(ledger.current(), deps);
    expect(published).toEqual([]);
    expect(ledger.current()).toMatchObject({ status: 'RUNNING' });
    expect(ledger.current().sync).toBeUndefined();
  });

  // The invocation that skipped the sync died before ending the task: the next delivery ends it.
  it('ends a task whose sync was skipped by an invocation that died before ending it', async () => {
    const { ledger, deps, published, at } = settleDeps(settled({ total: 0, processed: 0 }));
    const throttled = new Error('DynamoDB throttled');
    await expect(
      finishIfSettled(ledger.current(), { ...deps, tasks: { ...ledger.tasks, finish: async () => Promise.reject(throttled) } }),
    ).rejects.toBe(throttled);
    expect(ledger.current()).toMatchObject({ status: 'RUNNING', sync: { phase: 'skipped' } });

    at(SYNC_STEP_LEASE_MS);
    await finishIfSettled(ledger.current(), deps);

    expect(ledger.current().status).toBe('COMPLETED');
    expect(detailsOf(published, 'TaskCompleted')).toHaveLength(1);
  });
});

describe('finishIfSettled on a task that does not sync', () => {
  it.each([
    ['COMPLETED', { processed: 2, skipped: 1 }],
    ['PARTIAL', { processed: 2, failed: 1 }],
    ['FAILED', { processed: 0, failed: 3 }],
  ] as const)(
    'ends it %s as before, without touching the sync ledger or saying anything of a sync',
    async (status: TerminalStatus, records) => {
      const task = settled(records, { sync: undefined, dataset: undefined });
      const ledger = memorySync(task);
      const events = recordingEvents();
      const deps: SettleTaskDeps = {
        catchup: memoryCatchup(),
        sync: fakeSync(),
        tasks: ledger.tasks,
        events,
        logger: silentLogger,
        now: () => NOW,
      };
      await finishIfSettled(task, deps);

      expect(ledger.current()).toMatchObject({ status, completedAt: NOW.toISOString(), completionAnnounced: true });
      expect(ledger.current().sync).toBeUndefined();
      const completions = detailsOf(events.published, 'TaskCompleted');
      expect(events.published).toHaveLength(1);
      expect(completions).toHaveLength(1);
      expect(completions[0]).toMatchObject({ taskId: 'full-1', status, vectors: { upserted: 3, metadataUpdated: 0, deleted: 0 } });
      expect(completions[0]).not.toHaveProperty('sync');
      expect(buildStatusView(ledger.current(), 0.02)).not.toHaveProperty('sync');
    },
  );
});
