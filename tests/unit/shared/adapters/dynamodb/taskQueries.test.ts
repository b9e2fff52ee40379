/** The operators' reads of the task table, against dynalite: tasks newest first through the byCreated index, and chunk results. */
import { createDynamoTaskQueries } from '../../../../../shared/adapters/dynamodb/taskQueries';
import { createDynamoTaskRepository } from '../../../../../shared/adapters/dynamodb/taskRepository';
import type { DataSource, TaskRequest } from '../../../../../shared/domain/task';
import { InvalidInputError } from '../../../../../shared/errors';
import type { ChunkEmbedded } from '../../../../../shared/events/types';
import type { TaskQueries, TaskRepository } from '../../../../../shared/ports';
import { useEmulators } from '../../../../helpers/emulators';

describe('DynamoDB task queries (dynalite)', () => {
  const emulators = useEmulators('task-queries-test');
  let tasks: TaskRepository;
  let queries: TaskQueries;
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

  /** Tasks t00…t11, one a minute; every third from Metabase, t05 a dry run of dataset "catalog". */
  beforeAll(async () => {
    tasks = createDynamoTaskRepository(emulators().dynamo, 'task-queries-test');
    queries = createDynamoTaskQueries(emulators().dynamo, 'task-queries-test');
    for (let i = 0; i < 12; i += 1) {
      const taskId = `t${String(i).padStart(2, '0')}`;
      const dataSource: DataSource = i % 3 === 0 ? 'metabase' : 's3_csv';
      const request: TaskRequest = {
        schemaVersion: 1,
        taskId,
        source: dataSource === 'metabase' ? { type: 'metabase', questionId: 7 } : { type: 's3_csv', key: `uploads/${taskId}.csv` },
        ...(i === 5 ? { dataset: 'catalog', dryRun: true } : {}),
      };
      await tasks.create({ taskId, dataSource, namespace: 'ns', request }, at(i));
    }
    await tasks.start('t04', at(20));
    await tasks.finish('t04', 'FAILED', at(21), 'boom');
  });

  const ids = (page: { tasks: { taskId: string }[] }) => page.tasks.map((task) => task.taskId);

  it('lists tasks newest first and pages through them with the cursor, each once', async () => {
    const first = await queries.list({}, { limit: 5 });
    expect(ids(first)).toEqual(['t11', 't10', 't09', 't08', 't07']);
    const second = await queries.list({}, { limit: 5, cursor: first.cursor });
    expect(ids(second)).toEqual(['t06', 't05', 't04', 't03', 't02']);
    const last = await queries.list({}, { limit: 5, cursor: second.cursor });
    expect(ids(last)).toEqual(['t01', 't00']);
    expect(last.cursor).toBeUndefined();
  });

  it('answers what a list shows of each task, kept up to date as the task moves', async () => {
    const { tasks: listed } = await queries.list({ status: 'FAILED' }, { limit: 10 });
    expect(listed).toEqual([
      {
        taskId: 't04',
        status: 'FAILED',
        dataSource: 's3_csv',
        namespace: 'ns',
        dataset: 'uploads/t04.csv',
        dryRun: false,
        planned: false,
        records: { total: 0, processed: 0, skipped: 0, failed: 0 },
        tokens: 0,
        createdAt: at(4).toISOString(),
        updatedAt: at(21).toISOString(),
        startedAt: at(20).toISOString(),
        completedAt: at(21).toISOString(),
      },
    ]);
  });

  it('filters by data source and dataset, also across pages', async () => {
    const metabase = await queries.list({ dataSource: 'metabase' }, { limit: 3 });
    expect(ids(metabase)).toEqual(['t09', 't06', 't03']);
    expect(ids(await queries.list({ dataSource: 'metabase' }, { limit: 3, cursor: metabase.cursor }))).toEqual(['t00']);
    const catalog = await queries.list({ dataset: 'catalog', status: 'PENDING' }, { limit: 3 });
    expect(catalog).toMatchObject({ tasks: [{ taskId: 't05', dataset: 'catalog', dryRun: true }] });
    expect(catalog.cursor).toBeUndefined();
    expect((await queries.list({ dataset: 'nothing-here' }, { limit: 3 })).tasks).toEqual([]);
  });

  it('refuses a cursor it did not give, naming the parameter', async () => {
    for (const cursor of ['not-a-cursor', Buffer.from(JSON.stringify(['HASH#x', 'HASH', 'TASKS', 'x'])).toString('base64url')]) {
      const answer = queries.list({}, { limit: 5, cursor });
      await expect(answer).rejects.toThrow(InvalidInputError);
      await expect(answer).rejects.toMatchObject({ field: 'cursor' });
    }
  });

  it("answers the recorded chunks of a range in index order, none of another task's", async () => {
    const chunk = (taskId: string, chunkIndex: number): ChunkEmbedded => ({
      schemaVersion: 1,
      taskId,
      chunkIndex,
      outcome: chunkIndex === 3 ? 'failed' : 'completed',
      records: { total: 2, processed: 1, skipped: 0, failed: 1, truncated: 0 },
      tokens: 5,
      errors: [{ recordNumber: chunkIndex * 2 + 1, id: `r${chunkIndex}`, message: 'bad row' }],
      finishedAt: at(30 + chunkIndex).toISOString(),
    });
    await tasks.start('t01', at(29));
    for (const index of [3, 0, 1, 12]) await tasks.recordChunk(chunk('t01', index), at(40));
    await tasks.start('t02', at(29));
    await tasks.recordChunk(chunk('t02', 2), at(40));

    const found = await queries.chunkResults('t01', { from: 1, to: 12 });
    expect(found.map((result) => result.chunkIndex)).toEqual([1, 3]);
    expect(found[1]).toEqual({ ...chunk('t01', 3), recordedAt: at(40).toISOString() });
    expect(await queries.chunkResults('t01', { from: 0, to: 0 })).toEqual([]);
  });
});
