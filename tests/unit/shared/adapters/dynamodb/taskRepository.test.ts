/** The task table's exactly-once writes, against dynalite (which has no transactions, like the design assumes). */
import { createDynamoTaskRepository } from '../../../../../shared/adapters/dynamodb/taskRepository';
import type { TaskRepository } from '../../../../../shared/ports';
import type { ChunkEmbedded } from '../../../../../shared/events/types';
import { useEmulators } from '../../../../helpers/emulators';

describe('DynamoDB task repository (dynalite)', () => {
  const emulators = useEmulators('tasks-test');
  let tasks: TaskRepository;
  const now = new Date('2025-06-01T00:00:00Z');
  const request = { schemaVersion: 1 as const, taskId: 't1', source: { type: 's3_csv' as const, key: 'a.csv' } };
  const chunk = (chunkIndex: number, processed: number, failed = 0): ChunkEmbedded => ({
    schemaVersion: 1,
    taskId: 't1',
    chunkIndex,
    outcome: 'completed',
    records: { total: processed + failed + 1, processed, skipped: 1, failed, truncated: 0, skippedReasons: { empty_text: 1 } },
    tokens: processed * 10,
    errors: failed ? [{ recordNumber: 1, message: 'bad' }] : [],
    finishedAt: now.toISOString(),
  });

  beforeAll(() => {
    tasks = createDynamoTaskRepository(emulators().dynamo, 'tasks-test');
  });

  it('creates a task once; a second create returns the existing one', async () => {
    expect((await tasks.create({ taskId: 't1', dataSource: 's3_csv', namespace: 'ns', request }, now)).created).toBe(true);
    const again = await tasks.create({ taskId: 't1', dataSource: 's3_csv', namespace: 'other', request }, now);
    expect(again.created).toBe(false);
    expect(again.task).toMatchObject({ status: 'PENDING', namespace: 'ns', planned: false });
  });

  it('adds each chunk exactly once, however often it is delivered, concurrently too', async () => {
    await tasks.start('t1', now);
    const results = await Promise.all(
      [chunk(0, 5), chunk(0, 5), chunk(1, 3, 2), chunk(1, 3, 2), chunk(0, 5)].map((c) => tasks.recordChunk(c, now)),
    );
    expect(results.filter((result) => result.applied)).toHaveLength(2);
    const task = await tasks.get('t1');
    expect(task?.records).toMatchObject({ processed: 8, skipped: 2, failed: 2, skippedReasons: { empty_text: 2 } });
    expect(task?.chunks).toMatchObject({ completed: 2, failed: 0 });
    expect(task?.tokens).toBe(80);
    expect(task?.errors).toEqual(['record 1: bad']);
    expect(await tasks.isChunkRecorded('t1', 1)).toBe(true);
    expect(await tasks.isChunkRecorded('t1', 2)).toBe(false);
  });

  it('records the plan once and finishes once', async () => {
    const planned = await tasks.completePlan('t1', { records: 12, chunks: 2 }, now);
    expect(planned).toMatchObject({ planned: true, records: { total: 12 }, chunks: { total: 2 } });
    expect((await tasks.completePlan('t1', { records: 99, chunks: 9 }, now)).records.total).toBe(12);
    const finished = await Promise.all([tasks.finish('t1', 'PARTIAL', now), tasks.finish('t1', 'COMPLETED', now)]);
    expect(finished.filter(Boolean)).toHaveLength(1);
    expect(await tasks.start('t1', now)).toBeUndefined();
    expect((await tasks.get('t1'))?.status).toBe(finished.find(Boolean)?.status);
  });

  it('keeps each task-level warning once, however often it is noted', async () => {
    await tasks.create({ taskId: 't2', dataSource: 's3_csv', namespace: 'ns', request: { ...request, taskId: 't2' } }, now);
    expect((await tasks.get('t2'))?.warnings).toBeUndefined();
    await Promise.all([tasks.addWarning('t2', 'first', now), tasks.addWarning('t2', 'first', now)]);
    await tasks.addWarning('t2', 'second', now);
    await tasks.addWarning('t2', 'first', now);
    expect((await tasks.get('t2'))?.warnings).toEqual(['first', 'second']);
  });

  it('counts a sweep only of a task as the sweeper read it, and leaves its last progress as it was', async () => {
    await tasks.create({ taskId: 't3', dataSource: 's3_csv', namespace: 'ns', request: { ...request, taskId: 't3' } }, now);
    const read = (await tasks.start('t3', now)) as NonNullable<Awaited<ReturnType<TaskRepository['get']>>>;
    const later = new Date(now.getTime() + 60_000);
    expect(await Promise.all([tasks.noteSweep('t3', read, later), tasks.noteSweep('t3', read, later)])).toEqual(
      expect.arrayContaining([true, false]),
    );
    const swept = await tasks.get('t3');
    expect(swept).toMatchObject({ sweeps: 1, sweptAt: later.toISOString(), updatedAt: read.updatedAt });
    expect(await tasks.noteSweep('t3', swept as NonNullable<typeof swept>, later)).toBe(true);
    await tasks.finish('t3', 'FAILED', later);
    expect(await tasks.noteSweep('t3', (await tasks.get('t3')) as NonNullable<typeof swept>, later)).toBe(false);
  });
});
