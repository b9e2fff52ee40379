/**
 * retryTask on small fakes: a PARTIAL task's failed chunks announced again at the next attempt,
 * and a full sync's retry refused while another full sync of its dataset runs.
 */
import { fullSyncKeyOf } from '../../../../shared/domain/catchup';
import type { Task, TaskRequest } from '../../../../shared/domain/task';
import { ConflictError } from '../../../../shared/errors';
import type { RecordedChunk, TaskQueries } from '../../../../shared/ports';
import { retryTask, type RetryTaskDeps } from '../../../../shared/usecases/retryTask';
import {
  aChunkPlan,
  aTask,
  configWith,
  detailsOf,
  fakeTasks,
  memoryCatchup,
  memoryPlans,
  recordingEvents,
  silentLogger,
} from '../../../helpers/fakes';

const NOW = new Date('2026-12-02T12:00:00.000Z');
const FULL_SYNC: TaskRequest = {
  schemaVersion: 1,
  taskId: 'full-1',
  sync: 'full',
  dataset: 'people',
  source: { type: 's3_csv', key: 'a.csv' },
};

const plan = (chunkIndex: number) =>
  aChunkPlan({
    taskId: 'full-1',
    chunkIndex,
    source: {
      type: 'csv_range',
      bucket: 'test-bucket',
      key: 'a.csv',
      etag: '"e"',
      byteStart: 0,
      byteEnd: 10,
      header: ['id', 'formatted_text'],
    },
  });

const result = (chunkIndex: number, failed: number): RecordedChunk => ({
  schemaVersion: 1,
  taskId: 'full-1',
  chunkIndex,
  outcome: failed === 2 ? 'failed' : 'completed',
  records: { total: 2, processed: 2 - failed, skipped: 0, failed, truncated: 0 },
  tokens: 0,
  finishedAt: NOW.toISOString(),
});

async function retryDeps(task: Task, others: Task[] = []) {
  const events = recordingEvents();
  const plans = memoryPlans();
  await plans.save([plan(0), plan(1)], NOW);
  const reopened: number[][] = [];
  const taskQueries: TaskQueries = { list: async () => ({ tasks: [] }), chunkResults: async () => [result(0, 0), result(1, 2)] };
  const deps: RetryTaskDeps = {
    config: configWith(),
    tasks: fakeTasks({
      get: async (taskId) => [task, ...others].find((candidate) => candidate.taskId === taskId),
      reopen: async (_taskId, attempt, chunks) => {
        reopened.push(chunks.map((chunk) => chunk.chunkIndex));
        return { ...task, status: 'RUNNING', attempt: attempt + 1 };
      },
    }),
    taskQueries,
    plans,
    catchup: memoryCatchup(),
    events,
    logger: silentLogger,
    now: () => NOW,
  };
  return { deps, published: events.published, reopened };
}

const partial = (request: TaskRequest = FULL_SYNC) =>
  aTask({ taskId: 'full-1', status: 'PARTIAL', planned: true, request, chunks: { total: 2, completed: 1, failed: 1 } });

describe('retryTask', () => {
  it('announces only the failed chunks again, at the next attempt', async () => {
    const { deps, published, reopened } = await retryDeps(partial({ ...FULL_SYNC, sync: undefined }));
    const view = await retryTask('full-1', deps);
    expect(view.status).toBe('RUNNING');
    expect(reopened).toEqual([[1]]);
    expect(detailsOf(published, 'ChunkPlanned').map(({ chunkIndex, attempt }) => ({ chunkIndex, attempt }))).toEqual([
      { chunkIndex: 1, attempt: 2 },
    ]);
  });

  it('claims the dataset again for a full sync', async () => {
    const { deps } = await retryDeps(partial());
    await retryTask('full-1', deps);
    expect((await deps.catchup.get(fullSyncKeyOf(FULL_SYNC, 'ns') as string)).running).toEqual(['full-1']);
  });

  it('refuses a full sync while another full sync of its dataset runs, reopening nothing', async () => {
    const other = aTask({
      taskId: 'full-2',
      status: 'RUNNING',
      request: { ...FULL_SYNC, taskId: 'full-2', source: { type: 's3_csv', key: 'b.csv' } },
    });
    const { deps, published, reopened } = await retryDeps(partial(), [other]);
    await deps.catchup.claim(fullSyncKeyOf(FULL_SYNC, 'ns') as string, 'full-2', 0);

    const retrying = retryTask('full-1', deps);

    await expect(retrying).rejects.toBeInstanceOf(ConflictError);
    await expect(retrying).rejects.toThrow(
      'task full-1 is a full sync of dataset "people" and task full-2, a full sync of the same dataset, is still RUNNING: ' +
        'retry it once that one has ended',
    );
    expect(reopened).toEqual([]);
    expect(published).toEqual([]);
  });
});
