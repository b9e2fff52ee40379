/**
 * The large-CSV loop's steps: a segment plans byte ranges from where the last one stopped and
 * hands on a state to resume from; the last step records the totals; a failed loop fails the task.
 */
import type { Task, TerminalStatus } from '../../../../shared/domain/task';
import { SourceError } from '../../../../shared/errors';
import type { ChunkPlanned } from '../../../../shared/events/types';
import type { LargeCsvPlanState, ObjectStore } from '../../../../shared/ports';
import type { SettleTaskDeps } from '../../../../shared/usecases/settleTask';
import { failPlan, finishPlan, planSegment, reasonOf, type PlanSegmentDeps } from '../../../../shared/usecases/largeCsvPlan';
import {
  aTask,
  configWith,
  detailsOf,
  fakeObjects,
  fakeTasks,
  memoryObjects,
  recordingEvents,
  recordingLogger,
  silentLogger,
  fakeSync,
  memoryCatchup,
  memoryPlans,
} from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:30:00.000Z');
const KEY = 'uploads/big.csv';
const CSV = 'id,formatted_text\n1,alpha\n2,bravo\n3,charlie\n4,delta\n5,echo\n';
const HEADER = ['id', 'formatted_text'];
/** Two records a chunk (CHUNK_SIZE=2): records 1-2, 3-4 and 5. */
const BOUNDARIES = [CSV.indexOf('1,'), CSV.indexOf('3,'), CSV.indexOf('5,'), CSV.length];

function stateOf(overrides: Partial<LargeCsvPlanState>): LargeCsvPlanState {
  const start = { taskId: 'big-1', key: KEY, etag: '"e"', size: CSV.length, nextOffset: 0, chunkIndex: 0, recordsSoFar: 0, segments: 0 };
  return { ...start, done: false, ...overrides };
}

describe('planSegment', () => {
  const task = aTask({ taskId: 'big-1', namespace: 'people' });

  function segmentDeps(objects: ObjectStore, stored: { task?: Task } = { task }) {
    const events = recordingEvents();
    const deps: PlanSegmentDeps = {
      catchup: memoryCatchup(),
      plans: memoryPlans(),
      sync: fakeSync(),
      config: configWith({ CHUNK_SIZE: '2' }),
      objects,
      tasks: fakeTasks({ get: async () => stored.task }),
      events,
      logger: silentLogger,
      now: () => NOW,
    };
    return { deps, published: events.published };
  }

  async function startState(objects: ObjectStore): Promise<LargeCsvPlanState> {
    const head = await objects.head(KEY);
    if (!head) throw new Error(`${KEY} is missing`);
    return stateOf({ etag: head.etag, size: head.size });
  }

  /** What each chunk must say (toMatchObject: the contract may grow fields these tests do not cover). */
  function expectedChunks(etag: string): Partial<ChunkPlanned>[] {
    return [0, 1, 2].map((chunkIndex) => ({
      schemaVersion: 1,
      taskId: 'big-1',
      namespace: 'people',
      dataSource: 's3_csv',
      columns: { text: 'formatted_text', id: 'id', date: 'date' },
      chunkIndex,
      recordCount: chunkIndex < 2 ? 2 : 1,
      firstRecordNumber: 2 * chunkIndex + 1,
      source: {
        type: 'csv_range',
        bucket: 'test-bucket',
        key: KEY,
        etag,
        byteStart: BOUNDARIES[chunkIndex],
        byteEnd: BOUNDARIES[chunkIndex + 1],
        header: ['id', 'formatted_text'],
        delimiter: ',',
      },
    }));
  }

  it('plans the whole file in one segment when the budget allows, and says it is done', async () => {
    const objects = memoryObjects({ [KEY]: CSV });
    const { deps, published } = segmentDeps(objects);
    const state = await startState(objects);
    const next = await planSegment(state, deps, 60_000);

    expect(detailsOf(published, 'ChunkPlanned')).toMatchObject(expectedChunks(state.etag));
    expect(published).toHaveLength(3);
    const planned = { header: HEADER, delimiter: ',', nextOffset: CSV.length, chunkIndex: 3, recordsSoFar: 5 };
    expect(next).toEqual({ ...state, ...planned, segments: 1, done: true });
    expect(objects.reads).toEqual([{ key: KEY, start: 0, end: undefined }]);
  });

  it('reads and announces the version the task was pinned to', async () => {
    const objects = memoryObjects({ [KEY]: CSV });
    const { deps, published } = segmentDeps(objects);
    const state = { ...(await startState(objects)), versionId: 'v1' };
    await planSegment(state, deps, 60_000);

    expect(objects.reads).toEqual([{ key: KEY, start: 0, end: undefined, versionId: 'v1' }]);
    const sources = detailsOf(published, 'ChunkPlanned').map((chunk) => chunk.source);
    expect(sources.map((source) => source.type === 'csv_range' && source.versionId)).toEqual(['v1', 'v1', 'v1']);
  });

  it('stops after a whole chunk once the budget is spent, and the next segments resume where it stopped', async () => {
    const objects = memoryObjects({ [KEY]: CSV });
    const { deps, published } = segmentDeps(objects);
    const states = [await startState(objects)];
    while (!states[states.length - 1].done) {
      if (states.length > 10) throw new Error('the segments never finished');
      states.push(await planSegment(states[states.length - 1], deps, 0));
    }

    const progress = states.slice(1).map(({ nextOffset, chunkIndex, recordsSoFar, segments, done }) => ({
      nextOffset,
      chunkIndex,
      recordsSoFar,
      segments,
      done,
    }));
    expect(progress).toEqual([
      { nextOffset: BOUNDARIES[1], chunkIndex: 1, recordsSoFar: 2, segments: 1, done: false },
      { nextOffset: BOUNDARIES[2], chunkIndex: 2, recordsSoFar: 4, segments: 2, done: false },
      { nextOffset: BOUNDARIES[3], chunkIndex: 3, recordsSoFar: 5, segments: 3, done: true },
    ]);
    expect(states[1]).toMatchObject({ header: HEADER, delimiter: ',' });
    // The same chunks as one pass would cut, each announced once.
    expect(detailsOf(published, 'ChunkPlanned')).toMatchObject(expectedChunks(states[0].etag));
    expect(objects.reads.map((read) => read.start)).toEqual([0, BOUNDARIES[1], BOUNDARIES[2]]);
  });

  it('stops planning a task that has ended meanwhile, without reading the object', async () => {
    const { deps, published } = segmentDeps(fakeObjects({}), { task: aTask({ taskId: 'big-1', status: 'CANCELLED' }) });
    const state = stateOf({ nextOffset: BOUNDARIES[2], chunkIndex: 2, recordsSoFar: 4, header: HEADER, delimiter: ',', segments: 1 });
    expect(await planSegment(state, deps, 60_000)).toEqual({ ...state, done: true });
    expect(published).toEqual([]);
  });

  it('reads nothing once the state has reached the end of the object', async () => {
    const { deps, published } = segmentDeps(fakeObjects({}));
    const state = stateOf({ nextOffset: CSV.length, chunkIndex: 3, recordsSoFar: 5, header: HEADER, delimiter: ',', segments: 3 });
    expect(await planSegment(state, deps, 60_000)).toEqual({ ...state, done: true });
    expect(published).toEqual([]);
  });

  it('fails the segment, announcing nothing, when the header has no text column', async () => {
    const objects = memoryObjects({ [KEY]: 'id,body\n1,alpha\n' });
    const { deps, published } = segmentDeps(objects);
    const failure = planSegment(await startState(objects), deps, 60_000);
    await expect(failure).rejects.toThrow(SourceError);
    const reason = 's3://test-bucket/uploads/big.csv has no text column "formatted_text"; its columns are: id, body';
    await expect(failure).rejects.toThrow(reason);
    expect(published).toEqual([]);
  });

  it("resolves a start_date task's date column on the header in every segment, and notes a file without one once", async () => {
    const request = { ...task.request, startDate: '2025-01-01' };
    const dated = 'id,formatted_text,Created_At\n1,alpha,2024-12-31\n2,bravo,2025-01-02\n3,charlie,2025-01-03\n';
    const objects = memoryObjects({ [KEY]: dated, 'uploads/undated.csv': CSV });
    const warnings: string[] = [];
    const { deps, published } = segmentDeps(objects);
    deps.tasks = fakeTasks({
      get: async () => ({ ...task, request }),
      addWarning: async (_taskId, warning) => void warnings.push(warning),
    });

    let state = await startState(objects);
    while (!state.done) state = await planSegment(state, deps, 0);
    const chunks = detailsOf(published, 'ChunkPlanned');
    expect(chunks.map((chunk) => [chunk.columns.date, chunk.startDate])).toEqual([
      ['Created_At', '2025-01-01'],
      ['Created_At', '2025-01-01'],
    ]);
    expect(warnings).toEqual([]);

    const head = await objects.head('uploads/undated.csv');
    state = stateOf({ key: 'uploads/undated.csv', etag: head?.etag, size: head?.size });
    while (!state.done) state = await planSegment(state, deps, 0);
    const undated = detailsOf(published, 'ChunkPlanned').slice(2);
    expect(undated).toHaveLength(3);
    for (const chunk of undated) expect(chunk).not.toHaveProperty('startDate');
    expect(warnings).toEqual([
      expect.stringMatching(/^start_date 2025-01-01 was not applied: s3:\/\/test-bucket\/uploads\/undated\.csv has no/),
    ]);
  });

  it('fails the segment of a task that does not exist', async () => {
    const { deps } = segmentDeps(fakeObjects({}), {});
    const failure = planSegment(stateOf({}), deps, 60_000);
    await expect(failure).rejects.toThrow(SourceError);
    await expect(failure).rejects.toThrow('task big-1 does not exist');
  });
});

describe('finishPlan and failPlan', () => {
  const done = stateOf({ nextOffset: CSV.length, chunkIndex: 3, recordsSoFar: 5, header: HEADER, delimiter: ',', segments: 3, done: true });

  /** A task table holding `initial`, whose terminal write succeeds only while the task is open. */
  function stepDeps(initial: Task | undefined, completedChunks = 0) {
    let task = initial;
    const events = recordingEvents();
    const logger = recordingLogger();
    const plans: { records: number; chunks: number }[] = [];
    const finishes: { status: TerminalStatus; error?: string }[] = [];
    const deps: SettleTaskDeps = {
      catchup: memoryCatchup(),
      sync: fakeSync(),
      tasks: fakeTasks({
        get: async () => task,
        completePlan: async (_taskId, totals) => {
          plans.push(totals);
          task = aTask({ taskId: 'big-1', planned: true, chunks: { total: totals.chunks, completed: completedChunks, failed: 0 } });
          return task;
        },
        finish: async (_taskId, status, now, error) => {
          finishes.push({ status, error });
          if (!task || (task.status !== 'RUNNING' && task.status !== 'PENDING')) return undefined;
          task = { ...task, status, completedAt: now.toISOString(), errors: error ? [error] : [] };
          return task;
        },
        markCompletionAnnounced: async () => undefined,
      }),
      events,
      logger,
      now: () => NOW,
    };
    return { deps, published: events.published, logger, plans, finishes };
  }

  it('finishPlan records the totals the loop carried, leaving the end to the last chunk', async () => {
    const { deps, published, plans } = stepDeps(aTask({ taskId: 'big-1' }), 1);
    await finishPlan(done, deps);
    expect(plans).toEqual([{ records: 5, chunks: 3 }]);
    expect(published).toEqual([]);
  });

  it('finishPlan ends the task itself when every chunk was in before the plan was', async () => {
    const { deps, published, finishes } = stepDeps(aTask({ taskId: 'big-1' }), 3);
    await finishPlan(done, deps);
    expect(finishes).toEqual([{ status: 'COMPLETED', error: undefined }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ taskId: 'big-1', status: 'COMPLETED', chunks: { total: 3, completed: 3, failed: 0 } }),
    ]);
  });

  it('finishPlan records nothing for a task that ended meanwhile, or no longer exists', async () => {
    const cancelled = aTask({ taskId: 'big-1', status: 'CANCELLED', completedAt: NOW.toISOString(), completionAnnounced: true });
    for (const task of [cancelled, undefined]) {
      const { deps, published, plans } = stepDeps(task);
      await finishPlan(done, deps);
      expect(plans).toEqual([]);
      expect(published).toEqual([]);
    }
  });

  it('failPlan fails the task with the reason and announces it', async () => {
    const { deps, published, finishes } = stepDeps(aTask({ taskId: 'big-1' }));
    await failPlan('big-1', 'execution ABORTED', deps);
    expect(finishes).toEqual([{ status: 'FAILED', error: 'large-CSV planning failed: execution ABORTED' }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ taskId: 'big-1', status: 'FAILED', errors: ['large-CSV planning failed: execution ABORTED'] }),
    ]);
  });

  it('failPlan of an unknown task only warns', async () => {
    const { deps, published, finishes, logger } = stepDeps(undefined);
    await failPlan('ghost', 'execution TIMED_OUT', deps);
    expect(finishes).toEqual([]);
    expect(published).toEqual([]);
    expect(logger.entries.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: 'warn', message: 'large-CSV execution failed for an unknown task' },
    ]);
  });
});

describe('reasonOf', () => {
  it.each([
    ['no error at all', undefined, 'fallback'],
    [
      "a Lambda's JSON cause",
      { Error: 'SourceError', Cause: JSON.stringify({ errorType: 'SourceError', errorMessage: 'the object is gone' }) },
      'SourceError: the object is gone',
    ],
    ['a plain-text cause', { Error: 'States.TaskFailed', Cause: 'the task failed' }, 'States.TaskFailed: the task failed'],
    ['JSON without errorMessage, kept as it came', { Error: 'X', Cause: '{"other":1}' }, 'X: {"other":1}'],
    ['an error name only', { Error: 'States.Timeout' }, 'States.Timeout'],
    ['a cause only', { Cause: 'out of memory' }, 'out of memory'],
    ['an empty error', {}, 'fallback'],
  ])('%s', (_case, error, expected) => {
    expect(reasonOf(error, 'fallback')).toBe(expected);
  });
});
