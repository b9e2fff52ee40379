/**
 * Catch-ups' bookkeeping on the task table, against dynalite: runs noted as going and forgotten when they end, a claim that
 * holds only at the version it read, a watermark that moves forward only; and the task repository settling start_date=auto once.
 */
import { createDynamoCatchupLedger } from '../../../../../shared/adapters/dynamodb/catchupLedger';
import { createDynamoTaskRepository } from '../../../../../shared/adapters/dynamodb/taskRepository';
import type { CatchupLedger, TaskRepository } from '../../../../../shared/ports';
import { useEmulators } from '../../../../helpers/emulators';

const TABLE = 'catchup-test';
const NOW = new Date('2026-11-28T13:00:00.000Z');

describe('DynamoDB catch-up ledger (dynalite)', () => {
  const emulators = useEmulators(TABLE);
  let catchup: CatchupLedger;
  let tasks: TaskRepository;

  beforeAll(() => {
    catchup = createDynamoCatchupLedger(emulators().dynamo, TABLE);
    tasks = createDynamoTaskRepository(emulators().dynamo, TABLE);
  });

  it('answers an empty entry for a source it never saw', async () => {
    expect(await catchup.get('never')).toEqual({ running: [], version: 0 });
  });

  it('notes runs as going (a redelivery once), and forgets each as it ends', async () => {
    await catchup.begin('runs', 'a');
    await catchup.begin('runs', 'b');
    await catchup.begin('runs', 'a');
    expect(await catchup.get('runs')).toEqual({ running: ['a', 'b'], version: 3 });
    await catchup.end('runs', 'a');
    await catchup.end('runs', 'b');
    expect(await catchup.get('runs')).toEqual({ running: [], version: 3 });
  });

  it('claims only at the version its caller read, leaving the claimer the only run going', async () => {
    expect(await catchup.claim('claims', 'first', 0)).toBe(true);
    expect(await catchup.claim('claims', 'second', 0)).toBe(false);
    await catchup.begin('claims', 'manual');
    expect(await catchup.claim('claims', 'third', 1)).toBe(false);
    expect(await catchup.claim('claims', 'third', 2)).toBe(true);
    expect(await catchup.get('claims')).toEqual({ running: ['third'], version: 3 });
  });

  it('moves the watermark to a completed run’s start, never back, and creates no entry for an end that moves nothing', async () => {
    await catchup.end('marks', 'x');
    expect(await catchup.get('marks')).toEqual({ running: [], version: 0 });
    await catchup.end('marks', 'later', { taskId: 'later', startedAt: '2026-11-28T10:00:00.000Z' });
    await catchup.end('marks', 'earlier', { taskId: 'earlier', startedAt: '2026-11-27T10:00:00.000Z' });
    expect((await catchup.get('marks')).watermark).toEqual({ taskId: 'later', startedAt: '2026-11-28T10:00:00.000Z' });
  });

  it('settles a task’s start_date=auto once: a second settling reads the first', async () => {
    const request = {
      schemaVersion: 1 as const,
      taskId: 'auto-1',
      startDate: 'auto',
      source: { type: 'metabase' as const, questionId: 7 },
    };
    await tasks.create({ taskId: 'auto-1', dataSource: 'metabase', namespace: 'ns', request }, NOW);
    const basis = { from: 'watermark' as const, overlapDays: 1, watermark: { taskId: 'w', startedAt: '2026-11-20T00:00:00.000Z' } };
    const settled = await tasks.settleStartDate('auto-1', '2026-11-19', basis, NOW);
    expect(settled).toMatchObject({ request: { startDate: '2026-11-19' }, startDateBasis: basis });
    const again = await tasks.settleStartDate('auto-1', undefined, { from: 'none', overlapDays: 1 }, NOW);
    expect(again).toMatchObject({ request: { startDate: '2026-11-19' }, startDateBasis: basis });
  });

  it('settles no date at all when there is none to read from', async () => {
    const request = {
      schemaVersion: 1 as const,
      taskId: 'auto-2',
      startDate: 'auto',
      source: { type: 'metabase' as const, questionId: 7 },
    };
    await tasks.create({ taskId: 'auto-2', dataSource: 'metabase', namespace: 'ns', request }, NOW);
    const settled = await tasks.settleStartDate('auto-2', undefined, { from: 'none', overlapDays: 1 }, NOW);
    expect(settled.request.startDate).toBeUndefined();
    expect(settled.startDateBasis).toEqual({ from: 'none', overlapDays: 1 });
  });
});
