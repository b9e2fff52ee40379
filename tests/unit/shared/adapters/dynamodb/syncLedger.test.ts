/**
 * A full sync's bookkeeping on the task table, against dynalite: it begins once, moves only from its current place (adding each
 * step's counts once, deletions to the task's vector counts too), keeps the first copy of each scanned page, and is skipped only
 * before it began; the task repository reads it all back.
 */
import { createDynamoSyncLedger } from '../../../../../shared/adapters/dynamodb/syncLedger';
import { createDynamoTaskRepository } from '../../../../../shared/adapters/dynamodb/taskRepository';
import type { SyncProgress } from '../../../../../shared/domain/task';
import type { ChunkEmbedded } from '../../../../../shared/events/types';
import type { SyncLedger, SyncPage, TaskRepository } from '../../../../../shared/ports';
import { useEmulators } from '../../../../helpers/emulators';

const TABLE = 'sync-test';
const START = Date.parse('2026-11-28T13:00:00.000Z');
const at = (seconds: number) => new Date(START + seconds * 1000);

describe('DynamoDB sync ledger (dynalite)', () => {
  const emulators = useEmulators(TABLE);
  let tasks: TaskRepository;
  let sync: SyncLedger;

  beforeAll(() => {
    tasks = createDynamoTaskRepository(emulators().dynamo, TABLE);
    sync = createDynamoSyncLedger(emulators().dynamo, TABLE);
  });

  async function createTask(taskId: string, options: { start?: boolean } = {}): Promise<void> {
    const request = {
      schemaVersion: 1 as const,
      taskId,
      source: { type: 's3_csv' as const, key: 'incoming/full/catalog/a.csv' },
      sync: 'full' as const,
    };
    await tasks.create({ taskId, dataSource: 's3_csv', namespace: 'shop', request }, at(0));
    if (options.start ?? true) await tasks.start(taskId, at(0));
  }

  const syncOf = async (taskId: string) => (await tasks.get(taskId))?.sync;
  const begun = (claimedAt: Date): SyncProgress => ({
    phase: 'scan',
    page: 0,
    pages: 0,
    scanned: 0,
    unseen: 0,
    deleted: 0,
    sampleIds: [],
    claimedAt: claimedAt.toISOString(),
  });

  describe('begin', () => {
    it('begins the sync of a RUNNING task once, even when asked twice at the same time', async () => {
      await createTask('begin-1');
      const results = await Promise.all([sync.begin('begin-1', at(1)), sync.begin('begin-1', at(1))]);
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ taskId: 'begin-1', status: 'RUNNING', updatedAt: at(1).toISOString() });
      expect(winners[0]?.sync).toEqual(begun(at(1)));

      expect(await sync.begin('begin-1', at(2))).toBeUndefined();
      expect(await syncOf('begin-1')).toEqual(begun(at(1)));
    });

    it('does not begin the sync of a task that is not RUNNING, nor create one that does not exist', async () => {
      await createTask('begin-pending', { start: false });
      expect(await sync.begin('begin-pending', at(1))).toBeUndefined();
      expect(await syncOf('begin-pending')).toBeUndefined();

      await createTask('begin-ended');
      await tasks.finish('begin-ended', 'CANCELLED', at(1));
      expect(await sync.begin('begin-ended', at(2))).toBeUndefined();
      expect(await syncOf('begin-ended')).toBeUndefined();

      expect(await sync.begin('begin-unknown', at(1))).toBeUndefined();
      expect(await tasks.get('begin-unknown')).toBeUndefined();
    });
  });

  describe('advance', () => {
    const chunkWithDeletes = (taskId: string): ChunkEmbedded => ({
      schemaVersion: 1,
      taskId,
      chunkIndex: 0,
      outcome: 'completed',
      records: { total: 4, processed: 4, skipped: 0, failed: 0, truncated: 0 },
      tokens: 0,
      vectors: { upserted: 1, metadataUpdated: 1, deleted: 2 },
      finishedAt: at(0).toISOString(),
    });

    it('moves only from the current place, adding counts once; deletions count in the task’s vectors too', async () => {
      await createTask('adv-1');
      await tasks.recordChunk(chunkWithDeletes('adv-1'), at(0));
      await sync.begin('adv-1', at(1));

      const first = await sync.advance(
        'adv-1',
        { phase: 'scan', page: 0 },
        { phase: 'scan', page: 1 },
        { scanned: 500, unseen: 2, sampleIds: ['a', 'b'] },
        at(2),
      );
      const expectedAfterFirst = { ...begun(at(2)), page: 1, scanned: 500, unseen: 2, sampleIds: ['a', 'b'] };
      expect(first?.sync).toEqual(expectedAfterFirst);

      // The same step again (a redelivery), a step ahead of the place, and one of the other phase: none applies.
      expect(
        await sync.advance('adv-1', { phase: 'scan', page: 0 }, { phase: 'scan', page: 1 }, { scanned: 500, unseen: 2 }, at(3)),
      ).toBeUndefined();
      expect(await sync.advance('adv-1', { phase: 'scan', page: 2 }, { phase: 'scan', page: 3 }, { scanned: 500 }, at(3))).toBeUndefined();
      expect(
        await sync.advance('adv-1', { phase: 'delete', page: 1 }, { phase: 'delete', page: 2 }, { deleted: 9 }, at(3)),
      ).toBeUndefined();
      expect(await syncOf('adv-1')).toEqual(expectedAfterFirst);

      // Two deliveries of the current step at once: one applies.
      const raced = await Promise.all(
        [1, 2].map(() =>
          sync.advance(
            'adv-1',
            { phase: 'scan', page: 1 },
            { phase: 'delete', page: 0 },
            { scanned: 20, unseen: 1, sampleIds: ['a', 'b', 'z'], pages: 2 },
            at(4),
          ),
        ),
      );
      expect(raced.filter((result) => result !== undefined)).toHaveLength(1);

      await sync.advance('adv-1', { phase: 'delete', page: 0 }, { phase: 'delete', page: 1 }, { deleted: 2 }, at(5));
      await sync.advance('adv-1', { phase: 'delete', page: 0 }, { phase: 'delete', page: 1 }, { deleted: 2 }, at(6));
      const done = await sync.advance('adv-1', { phase: 'delete', page: 1 }, { phase: 'done', page: 0 }, { deleted: 1 }, at(7));

      const expected: SyncProgress = {
        phase: 'done',
        page: 0,
        pages: 2,
        scanned: 520,
        unseen: 3,
        deleted: 3,
        sampleIds: ['a', 'b', 'z'],
        claimedAt: at(7).toISOString(),
      };
      expect(done?.sync).toEqual(expected);
      expect(done?.vectors).toEqual({ upserted: 1, metadataUpdated: 1, deleted: 2 + 3 });
      const read = await tasks.get('adv-1');
      expect(read?.sync).toEqual(expected);
      expect(read?.vectors).toEqual({ upserted: 1, metadataUpdated: 1, deleted: 5 });
      expect(read).toMatchObject({ status: 'RUNNING', records: { processed: 4 }, updatedAt: at(7).toISOString() });
    });

    it('does not move the sync of a task that has ended, or whose sync never began', async () => {
      await createTask('adv-ended');
      await sync.begin('adv-ended', at(1));
      await tasks.finish('adv-ended', 'CANCELLED', at(2));
      expect(
        await sync.advance('adv-ended', { phase: 'scan', page: 0 }, { phase: 'scan', page: 1 }, { scanned: 5 }, at(3)),
      ).toBeUndefined();
      expect(await syncOf('adv-ended')).toEqual(begun(at(1)));

      await createTask('adv-never');
      expect(
        await sync.advance('adv-never', { phase: 'scan', page: 0 }, { phase: 'scan', page: 1 }, { scanned: 5 }, at(3)),
      ).toBeUndefined();
      expect(await syncOf('adv-never')).toBeUndefined();
    });
  });

  describe('savePage', () => {
    it('keeps the first page written under a number, and answers it to every later write', async () => {
      await createTask('page-1');
      const first: SyncPage = { unseenIds: ['a', 'b'], scanned: 500, cursor: 'cursor-1' };
      const second: SyncPage = { unseenIds: ['c'], scanned: 499 };
      expect(await sync.savePage('page-1', 0, first, at(1))).toStrictEqual(first);
      expect(await sync.savePage('page-1', 0, second, at(2))).toStrictEqual(first);
      expect(await sync.page('page-1', 0)).toStrictEqual(first);

      const raced = await Promise.all([sync.savePage('page-1', 1, second, at(3)), sync.savePage('page-1', 1, first, at(3))]);
      expect(raced[0]).toStrictEqual(raced[1]);
      // The last page has no cursor, and reads back without one.
      expect(await sync.page('page-1', 1)).toStrictEqual(raced[0]);
      expect(await sync.page('page-1', 2)).toBeUndefined();
      expect(await sync.page('page-other', 0)).toBeUndefined();
      // Page items live beside the task item without disturbing it.
      expect(await tasks.get('page-1')).toMatchObject({ taskId: 'page-1', status: 'RUNNING' });
      expect(await syncOf('page-1')).toBeUndefined();
    });

    it(`stores a page of 500 ids of 512 characters (under DynamoDB's 400 KB)`, async () => {
      await createTask('page-big');
      const ids = Array.from({ length: 500 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(508)}`);
      await sync.savePage('page-big', 0, { unseenIds: ids, scanned: 500, cursor: 'c' }, at(1));
      expect(await sync.page('page-big', 0)).toStrictEqual({ unseenIds: ids, scanned: 500, cursor: 'c' });
    });
  });

  describe('skip', () => {
    it('skips a sync that never began, with the reason; begin then does nothing', async () => {
      await createTask('skip-1');
      await sync.skip('skip-1', 'the run read 0 records', at(1));
      const skipped: SyncProgress = {
        phase: 'skipped',
        page: 0,
        pages: 0,
        scanned: 0,
        unseen: 0,
        deleted: 0,
        sampleIds: [],
        skippedReason: 'the run read 0 records',
      };
      expect(await syncOf('skip-1')).toEqual(skipped);
      expect(await sync.begin('skip-1', at(2))).toBeUndefined();
      await sync.skip('skip-1', 'another reason', at(3));
      expect(await syncOf('skip-1')).toEqual(skipped);
    });

    it('leaves a sync that has begun as it is, and creates no task', async () => {
      await createTask('skip-begun');
      await sync.begin('skip-begun', at(1));
      await sync.skip('skip-begun', 'too late', at(2));
      expect(await syncOf('skip-begun')).toEqual(begun(at(1)));

      await sync.skip('skip-unknown', 'no such task', at(1));
      expect(await tasks.get('skip-unknown')).toBeUndefined();
    });
  });

  it('reads back through the task repository a sync the guard stopped: its reason, pages, sample and claim', async () => {
    await createTask('read-1');
    await sync.begin('read-1', at(1));
    const reason = "would delete 8 of the dataset's 10 vectors (80%), more than SYNC_MAX_DELETE_FRACTION (50%)";
    const returned = await sync.advance(
      'read-1',
      { phase: 'scan', page: 0 },
      { phase: 'skipped', page: 0 },
      { scanned: 10, unseen: 8, sampleIds: ['s-1', 's-2'], pages: 1, skippedReason: reason },
      at(2),
    );
    const expected: SyncProgress = {
      phase: 'skipped',
      page: 0,
      pages: 1,
      scanned: 10,
      unseen: 8,
      deleted: 0,
      sampleIds: ['s-1', 's-2'],
      skippedReason: reason,
      claimedAt: at(2).toISOString(),
    };
    expect(returned?.sync).toEqual(expected);
    expect(await syncOf('read-1')).toEqual(expected);
    expect((await tasks.get('read-1'))?.vectors).toEqual({ upserted: 0, metadataUpdated: 0, deleted: 0 });
  });
});
