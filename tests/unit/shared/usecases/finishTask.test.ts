/**
 * TaskCompleted once: a terminal task is re-announced only when its announcement was lost, never
 * while the invocation that ended it may still be publishing.
 */
import { catchupKeyOf, fullSyncKeyOf } from '../../../../shared/domain/catchup';
import type { Task, TerminalStatus } from '../../../../shared/domain/task';
import { ANNOUNCEMENT_LEASE_MS, failTaskOfInvalidEvent, finishTask } from '../../../../shared/usecases/finishTask';
import { finishIfSettled, type SettleTaskDeps } from '../../../../shared/usecases/settleTask';
import { detailsOf, fakeSync, fakeTasks, recordingEvents, silentLogger, memoryCatchup } from '../../../helpers/fakes';

const ENDED_AT = new Date('2026-11-28T12:00:00.000Z');

function completedTask(overrides: Partial<Task> = {}): Task {
  return {
    taskId: 'task-1',
    status: 'COMPLETED',
    dataSource: 's3_csv',
    namespace: 'ns',
    request: { schemaVersion: 1, taskId: 'task-1', source: { type: 's3_csv', key: 'incoming/a.csv' } } as Task['request'],
    planned: true,
    records: { total: 2, processed: 2, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {} },
    chunks: { total: 1, completed: 1, failed: 0 },
    tokens: 10,
    vectors: { upserted: 2, metadataUpdated: 0, deleted: 0 },
    errors: [],
    errorCount: 0,
    createdAt: '2026-11-28T11:59:00.000Z',
    updatedAt: ENDED_AT.toISOString(),
    completedAt: ENDED_AT.toISOString(),
    completionAnnounced: false,
    ...overrides,
  };
}

function fakeDeps(now: Date) {
  const events = recordingEvents();
  const marked: string[] = [];
  const deps: SettleTaskDeps = {
    catchup: memoryCatchup(),
    sync: fakeSync(),
    tasks: fakeTasks({ markCompletionAnnounced: async (taskId) => void marked.push(taskId) }),
    events,
    logger: silentLogger,
    now: () => now,
  };
  return { deps, published: events.published, marked };
}

describe('finishIfSettled on a task that has ended', () => {
  it('does not announce while the invocation that ended the task may still be announcing it', async () => {
    const { deps, published } = fakeDeps(new Date(ENDED_AT.getTime() + ANNOUNCEMENT_LEASE_MS - 1));
    await finishIfSettled(completedTask(), deps);
    expect(published).toEqual([]);
  });

  it('re-announces, once noted, a task whose announcement was lost', async () => {
    const { deps, published, marked } = fakeDeps(new Date(ENDED_AT.getTime() + ANNOUNCEMENT_LEASE_MS));
    await finishIfSettled(completedTask(), deps);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      name: 'TaskCompleted',
      detail: { taskId: 'task-1', status: 'COMPLETED', records: { total: 2, processed: 2 } },
    });
    expect(marked).toEqual(['task-1']);
  });

  it('never announces a task already announced', async () => {
    const { deps, published } = fakeDeps(new Date(ENDED_AT.getTime() + 10 * ANNOUNCEMENT_LEASE_MS));
    await finishIfSettled(completedTask({ completionAnnounced: true }), deps);
    expect(published).toEqual([]);
  });
});

describe('finishIfSettled on a task still open', () => {
  function openDeps() {
    const events = recordingEvents();
    const finishes: { status: TerminalStatus; error?: string }[] = [];
    const deps: SettleTaskDeps = {
      catchup: memoryCatchup(),
      sync: fakeSync(),
      tasks: fakeTasks({
        finish: async (taskId, status, now, error) => {
          finishes.push({ status, error });
          return completedTask({ taskId, status, completedAt: now.toISOString() });
        },
        markCompletionAnnounced: async () => undefined,
      }),
      events,
      logger: silentLogger,
      now: () => ENDED_AT,
    };
    return { deps, published: events.published, finishes };
  }

  const running = (records: Partial<Task['records']>, overrides: Partial<Task> = {}) =>
    completedTask({ status: 'RUNNING', completedAt: undefined, records: { ...completedTask().records, ...records }, ...overrides });

  it.each([
    ['COMPLETED when no record failed', { processed: 1, skipped: 1, failed: 0 }, 'COMPLETED'],
    ['PARTIAL when some records failed', { processed: 1, skipped: 0, failed: 1 }, 'PARTIAL'],
    ['FAILED when every record failed', { processed: 0, skipped: 0, failed: 2 }, 'FAILED'],
  ] as const)('ends a settled task %s', async (_case, records, status) => {
    const { deps, published, finishes } = openDeps();
    await finishIfSettled(running(records), deps);
    expect(finishes).toEqual([{ status, error: undefined }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([expect.objectContaining({ status })]);
  });

  it('leaves a task open while a chunk is still out, or while its plan is not complete', async () => {
    const { deps, published, finishes } = openDeps();
    await finishIfSettled(running({}, { chunks: { total: 2, completed: 1, failed: 0 } }), deps);
    await finishIfSettled(running({}, { planned: false }), deps);
    expect(finishes).toEqual([]);
    expect(published).toEqual([]);
  });
});

describe('finishTask', () => {
  it('announces only when its own write ended the task', async () => {
    const events = recordingEvents();
    const deps: SettleTaskDeps = {
      catchup: memoryCatchup(),
      sync: fakeSync(),
      tasks: fakeTasks({ finish: async () => undefined }),
      events,
      logger: silentLogger,
      now: () => ENDED_AT,
    };
    expect(await finishTask('task-1', 'FAILED', deps, 'too late')).toBeUndefined();
    expect(events.published).toEqual([]);
  });
});

describe('failTaskOfInvalidEvent', () => {
  function depsKnowing(known: string[]) {
    const events = recordingEvents();
    const finishes: { taskId: string; error?: string }[] = [];
    const deps: SettleTaskDeps = {
      catchup: memoryCatchup(),
      sync: fakeSync(),
      tasks: fakeTasks({
        get: async (taskId) => (known.includes(taskId) ? completedTask({ taskId, status: 'RUNNING', completedAt: undefined }) : undefined),
        finish: async (taskId, status, now, error) => {
          finishes.push({ taskId, error });
          return completedTask({ taskId, status, completedAt: now.toISOString(), errors: error ? [error] : [] });
        },
        markCompletionAnnounced: async () => undefined,
      }),
      events,
      logger: silentLogger,
      now: () => ENDED_AT,
    };
    return { deps, published: events.published, finishes };
  }

  it('fails the task an invalid internal event names, with the reason', async () => {
    const { deps, published, finishes } = depsKnowing(['task-1']);
    await failTaskOfInvalidEvent({ taskId: 'task-1', chunkIndex: 'zero' }, 'ChunkPlanned', '/chunkIndex must be integer', deps);
    const error = 'an invalid ChunkPlanned event was rejected: /chunkIndex must be integer';
    expect(finishes).toEqual([{ taskId: 'task-1', error }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ taskId: 'task-1', status: 'FAILED', errors: [error] }),
    ]);
  });

  it.each([
    ['names a task that does not exist', { taskId: 'someone-else' }],
    ['has no task id', { chunkIndex: 0 }],
    ['has a task id that is no string', { taskId: 7 }],
    ['is not an object', null],
  ])('does nothing when the event %s', async (_case, detail) => {
    const { deps, published, finishes } = depsKnowing(['task-1']);
    await failTaskOfInvalidEvent(detail, 'ChunkEmbedded', 'bad', deps);
    expect(finishes).toEqual([]);
    expect(published).toEqual([]);
  });
});

describe('finishTask and the catch-up watermark', () => {
  const started = '2026-11-28T11:59:30.000Z';
  const key = catchupKeyOf(completedTask().request, 'ns');

  async function finishAs(status: TerminalStatus, request: Partial<Task['request']> = {}) {
    const { deps } = fakeDeps(ENDED_AT);
    await deps.catchup.begin(key, 'task-1');
    const task = completedTask({ status, startedAt: started, request: { ...completedTask().request, ...request } });
    deps.tasks.finish = async () => task;
    await finishTask('task-1', status, deps);
    return deps.catchup.get(catchupKeyOf(task.request, 'ns'));
  }

  it('moves the watermark to the start of a COMPLETED run, and notes it as no longer going', async () => {
    expect(await finishAs('COMPLETED')).toEqual({ watermark: { taskId: 'task-1', startedAt: started }, running: [], version: 1 });
  });

  it.each(['PARTIAL', 'FAILED', 'CANCELLED'] as const)('leaves the watermark where it was after a %s run', async (status) => {
    expect(await finishAs(status)).toEqual({ running: [], version: 1 });
  });

  it('leaves it after a dry run, which wrote nothing', async () => {
    expect((await finishAs('COMPLETED', { dryRun: true })).watermark).toBeUndefined();
  });

  it('never moves it back to an earlier run that ends later', async () => {
    const { deps } = fakeDeps(ENDED_AT);
    await deps.catchup.end(key, 'later', { taskId: 'later', startedAt: '2026-11-28T11:59:50.000Z' });
    deps.tasks.finish = async () => completedTask({ startedAt: started });
    await finishTask('task-1', 'COMPLETED', deps);
    expect((await deps.catchup.get(key)).watermark).toEqual({ taskId: 'later', startedAt: '2026-11-28T11:59:50.000Z' });
  });

  it.each(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const)('frees the dataset of a full sync that ends %s', async (status) => {
    const { deps } = fakeDeps(ENDED_AT);
    const task = completedTask({ status, request: { ...completedTask().request, sync: 'full', dataset: 'people' } });
    const fullSyncKey = fullSyncKeyOf(task.request, 'ns') as string;
    await deps.catchup.claim(fullSyncKey, 'task-1', 0);
    deps.tasks.finish = async () => task;
    await finishTask('task-1', status, deps);
    expect((await deps.catchup.get(fullSyncKey)).running).toEqual([]);
  });
});
