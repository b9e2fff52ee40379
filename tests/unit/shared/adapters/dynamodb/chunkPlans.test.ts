/** Chunk plans on the task table, against dynalite: kept once however often saved, and answered until their chunk is recorded. */
import { createDynamoChunkPlans } from '../../../../../shared/adapters/dynamodb/chunkPlans';
import { createDynamoTaskRepository } from '../../../../../shared/adapters/dynamodb/taskRepository';
import { useEmulators } from '../../../../helpers/emulators';
import { aChunkPlan } from '../../../../helpers/fakes';

const TABLE = 'plans-test';
const NOW = new Date('2026-12-01T12:00:00.000Z');

const plan = (chunkIndex: number) => aChunkPlan({ taskId: 'plans-1', chunkIndex });

describe('DynamoDB chunk plans (dynalite)', () => {
  const emulators = useEmulators(TABLE);

  it('answers every plan whose chunk has no result, in index order, 60 of them across batches', async () => {
    const plans = createDynamoChunkPlans(emulators().dynamo, TABLE);
    const tasks = createDynamoTaskRepository(emulators().dynamo, TABLE);
    const all = Array.from({ length: 60 }, (_, i) => plan(i));
    await plans.save(all, NOW);
    await plans.save(all.slice(0, 10), NOW);
    const request = { schemaVersion: 1 as const, taskId: 'plans-1', source: { type: 's3_csv' as const, key: 'a.csv' } };
    await tasks.create({ taskId: 'plans-1', dataSource: 's3_csv', namespace: 'ns', request }, NOW);
    for (const chunkIndex of [0, 7, 59]) {
      const records = { total: 2, processed: 2, skipped: 0, failed: 0, truncated: 0 };
      await tasks.recordChunk(
        { schemaVersion: 1, taskId: 'plans-1', chunkIndex, outcome: 'completed', records, tokens: 4, finishedAt: NOW.toISOString() },
        NOW,
      );
    }
    const unrecorded = await plans.unrecorded('plans-1');
    expect(unrecorded.map((chunk) => chunk.chunkIndex)).toEqual(all.map((_, i) => i).filter((i) => ![0, 7, 59].includes(i)));
    expect(unrecorded[0]).toEqual(plan(1));
  });
});
