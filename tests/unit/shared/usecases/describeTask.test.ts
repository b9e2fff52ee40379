/** `GET /tasks/{task_id}`: the `/status` document, each chunk's state in a window, the rate, time left, cost and last errors. */
import { parseTaskDetailQuery } from '../../../../shared/domain/taskDetail';
import { buildStatusView, type Task } from '../../../../shared/domain/task';
import { InvalidInputError, NotFoundError } from '../../../../shared/errors';
import type { RecordedChunk, TaskQueries } from '../../../../shared/ports';
import { describeTask, type DescribeTaskDeps } from '../../../../shared/usecases/describeTask';
import { aTask, configWith, fakeTasks } from '../../../helpers/fakes';

const NOW = new Date('2026-01-01T12:01:40.000Z');

function chunk(chunkIndex: number, overrides: Partial<RecordedChunk> = {}): RecordedChunk {
  return {
    schemaVersion: 1,
    taskId: 'big',
    chunkIndex,
    outcome: 'completed',
    records: { total: 100, processed: 98, skipped: 2, failed: 0, truncated: 0 },
    tokens: 1000,
    finishedAt: `2026-01-01T12:00:${String(10 + chunkIndex).padStart(2, '0')}.000Z`,
    ...overrides,
  };
}

function depsHolding(task: Task | undefined, chunks: RecordedChunk[] = [], env: Record<string, string> = {}) {
  const ranges: { from: number; to: number }[] = [];
  const taskQueries: TaskQueries = {
    list: async () => {
      throw new Error('not expected');
    },
    chunkResults: async (taskId, range) => {
      ranges.push(range);
      return chunks.filter((c) => c.taskId === taskId && c.chunkIndex >= range.from && c.chunkIndex < range.to);
    },
  };
  const deps: DescribeTaskDeps = { config: configWith(env), tasks: fakeTasks({ get: async () => task }), taskQueries, now: () => NOW };
  return { deps, ranges };
}

/** A planned run of 5 chunks of 100 records, started 100 s before NOW, 3 chunks in (one failed). */
const running = aTask({
  taskId: 'big',
  planned: true,
  startedAt: '2026-01-01T12:00:00.000Z',
  records: { ...aTask().records, total: 500, processed: 196, skipped: 4, failed: 100, skippedReasons: { empty_text: 4 } },
  chunks: { total: 5, completed: 2, failed: 1 },
  tokens: 2000,
});

describe('describeTask', () => {
  it('answers the /status document with each chunk of the plan, pending ones included', async () => {
    const failed = chunk(3, {
      outcome: 'failed',
      records: { total: 100, processed: 0, skipped: 0, failed: 100, truncated: 0 },
      tokens: 0,
      errors: [{ message: 'embedding provider unavailable' }],
    });
    const { deps, ranges } = depsHolding(running, [chunk(0), chunk(1), failed]);
    const view = await describeTask('big', { chunksFrom: 0 }, deps);

    expect(view).toMatchObject(buildStatusView(running, 0.02));
    expect(ranges).toEqual([{ from: 0, to: 5 }]);
    expect(view.chunk_states).toEqual({
      from: 0,
      to: 5,
      next_from: null,
      chunks: [
        {
          index: 0,
          state: 'completed',
          records: { total: 100, processed: 98, skipped: 2, failed: 0 },
          tokens: 1000,
          finished_at: chunk(0).finishedAt,
        },
        {
          index: 1,
          state: 'completed',
          records: { total: 100, processed: 98, skipped: 2, failed: 0 },
          tokens: 1000,
          finished_at: chunk(1).finishedAt,
        },
        { index: 2, state: 'pending' },
        {
          index: 3,
          state: 'failed',
          records: { total: 100, processed: 0, skipped: 0, failed: 100 },
          tokens: 0,
          finished_at: failed.finishedAt,
        },
        { index: 4, state: 'pending' },
      ],
    });
  });

  it('reckons the rate, the time left and the cost from the records handled so far', async () => {
    const { deps } = depsHolding(running, [], { EMBEDDING_PRICE_PER_MILLION_TOKENS: '0.5' });
    const view = await describeTask('big', { chunksFrom: 0 }, deps);

    // 300 records in 100 s; 200 left.
    expect(view.records_per_second).toBe(3);
    expect(view.eta_seconds).toBe(67);
    // 2,000 tokens for 300 of 500 records: 0.001 USD spent, ~0.00167 for the whole run.
    expect(view.cost).toEqual({ price_per_million_tokens: 0.5, tokens: 2000, spent_usd: 0.001, estimated_total_usd: 0.00166667 });
  });

  it('says nothing of rate, time left or total cost before there is anything to reckon from; an ended task has none left', async () => {
    const pending = aTask({ taskId: 'p', status: 'PENDING' });
    const { deps } = depsHolding(pending);
    expect(await describeTask('p', { chunksFrom: 0 }, deps)).toMatchObject({
      records_per_second: null,
      eta_seconds: null,
      cost: { spent_usd: 0, estimated_total_usd: null },
      chunk_states: { from: 0, to: 1000, next_from: null, chunks: [] },
    });
    const ended = { ...running, status: 'PARTIAL' as const, completedAt: '2026-01-01T12:00:50.000Z' };
    expect(await describeTask('big', { chunksFrom: 0 }, depsHolding(ended).deps)).toMatchObject({
      records_per_second: 6,
      eta_seconds: 0,
      cost: { spent_usd: 0.00004, estimated_total_usd: 0.00004 },
    });
  });

  it('spends nothing in a dry run, whose total is what the run would cost', async () => {
    const dry = { ...running, request: { ...running.request, dryRun: true } };
    const { cost } = await describeTask('big', { chunksFrom: 0 }, depsHolding(dry).deps);
    expect(cost).toMatchObject({ spent_usd: 0, estimated_total_usd: 0.00006667 });
  });

  it('shows the last record errors of the chunks shown, newest first, with their record numbers', async () => {
    const withErrors = [
      chunk(0, { errors: [{ recordNumber: 7, id: 'r7', message: 'ragged row' }] }),
      chunk(2, {
        errors: [
          { recordNumber: 201, id: 'r201', message: 'no id' },
          { recordNumber: 250, message: 'embedding rejected' },
        ],
      }),
    ];
    const { last_errors } = await describeTask('big', { chunksFrom: 0 }, depsHolding(running, withErrors).deps);
    expect(last_errors).toEqual([
      { chunk: 2, record_number: 250, id: null, message: 'embedding rejected', at: withErrors[1].finishedAt },
      { chunk: 2, record_number: 201, id: 'r201', message: 'no id', at: withErrors[1].finishedAt },
      { chunk: 0, record_number: 7, id: 'r7', message: 'ragged row', at: withErrors[0].finishedAt },
    ]);
  });

  it('shows at most 1,000 chunks from chunks_from, and where the next window starts', async () => {
    const huge = { ...running, chunks: { total: 2500, completed: 0, failed: 0 } };
    const { deps, ranges } = depsHolding(huge);
    expect((await describeTask('big', parseTaskDetailQuery({ chunks_from: '1000' }), deps)).chunk_states).toMatchObject({
      from: 1000,
      to: 2000,
      next_from: 2000,
    });
    const last = await describeTask('big', parseTaskDetailQuery({ chunks_from: '2000' }), deps);
    expect(last.chunk_states).toMatchObject({ from: 2000, to: 2500, next_from: null });
    expect(last.chunk_states.chunks).toHaveLength(500);
    expect(ranges).toEqual([
      { from: 1000, to: 2000 },
      { from: 2000, to: 2500 },
    ]);
  });

  it('answers NotFoundError for an unknown task, and refuses a bad chunks_from naming it', async () => {
    await expect(describeTask('nope', { chunksFrom: 0 }, depsHolding(undefined).deps)).rejects.toThrow(NotFoundError);
    for (const params of [{ chunks_from: '-1' }, { chunks_from: 'x' }]) {
      expect(() => parseTaskDetailQuery(params)).toThrow(InvalidInputError);
      expect(() => parseTaskDetailQuery(params)).toThrow(expect.objectContaining({ field: 'chunks_from' }));
    }
    expect(() => parseTaskDetailQuery({ chunk_from: '1' })).toThrow(expect.objectContaining({ field: 'chunk_from' }));
  });
});
