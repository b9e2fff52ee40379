/**
 * Requesting a task: a new one is recorded PENDING and announced; a repeat announces again only
 * when the first announcement was evidently lost; a bus that cannot be reached fails the task.
 */
import type { Task, TaskRequest } from '../../../../shared/domain/task';
import type { NewTask } from '../../../../shared/ports';
import { REANNOUNCE_AFTER_MS, requestTask, type RequestTaskDeps } from '../../../../shared/usecases/requestTask';
import { aTask, configWith, detailsOf, fakeTasks, recordingEvents } from '../../../helpers/fakes';

const CREATED_AT = new Date('2026-11-28T12:00:00.000Z');
const request: TaskRequest = {
  schemaVersion: 1,
  taskId: 'req-1',
  source: { type: 's3_csv', key: 'uploads/people.csv' },
  requestedBy: 'api',
};

function pendingTask(overrides: Partial<Task> = {}): Task {
  return aTask({ taskId: 'req-1', status: 'PENDING', request, createdAt: CREATED_AT.toISOString(), ...overrides });
}

function depsFor(existing: Task | undefined, now: Date, options: { busDown?: Error } = {}) {
  const events = recordingEvents({ failWith: options.busDown });
  const created: { task: NewTask; now: Date }[] = [];
  const finished: unknown[][] = [];
  const deps: RequestTaskDeps = {
    config: configWith({ PINECONE_NAMESPACE: 'people' }),
    tasks: fakeTasks({
      create: async (task, at) => {
        created.push({ task, now: at });
        return existing ? { created: false, task: existing } : { created: true, task: pendingTask({ namespace: task.namespace }) };
      },
      finish: async (...args) => {
        finished.push(args);
        return pendingTask({ status: 'FAILED' });
      },
    }),
    events,
    now: () => now,
  };
  return { deps, published: events.published, created, finished };
}

describe('requestTask', () => {
  it('records a new task PENDING in the configured namespace and announces it once', async () => {
    const { deps, published, created } = depsFor(undefined, CREATED_AT);
    const result = await requestTask(request, deps);

    expect(result.created).toBe(true);
    expect(result.task.status).toBe('PENDING');
    expect(created).toEqual([{ task: { taskId: 'req-1', dataSource: 's3_csv', namespace: 'people', request }, now: CREATED_AT }]);
    expect(published).toEqual([{ name: 'TaskRequested', detail: request }]);
  });

  it("uses the request's own namespace over the configured one", async () => {
    const { deps, created } = depsFor(undefined, CREATED_AT);
    await requestTask({ ...request, namespace: 'elsewhere' }, deps);
    expect(created[0].task.namespace).toBe('elsewhere');
  });

  it('announces nothing for a repeat while the first announcement may still be on its way', async () => {
    const { deps, published } = depsFor(pendingTask(), new Date(CREATED_AT.getTime() + REANNOUNCE_AFTER_MS));
    const result = await requestTask(request, deps);
    expect(result).toEqual({ created: false, task: pendingTask() });
    expect(published).toEqual([]);
  });

  it('re-announces a repeat of a task still PENDING past REANNOUNCE_AFTER_MS (its announcement was lost)', async () => {
    const { deps, published } = depsFor(pendingTask(), new Date(CREATED_AT.getTime() + REANNOUNCE_AFTER_MS + 1));
    const result = await requestTask(request, deps);
    expect(result.created).toBe(false);
    expect(detailsOf(published, 'TaskRequested')).toEqual([request]);
    expect(published).toHaveLength(1);
  });

  it('never re-announces a repeat of a task that is running or has ended, however old', async () => {
    const long = new Date(CREATED_AT.getTime() + 100 * REANNOUNCE_AFTER_MS);
    for (const status of ['RUNNING', 'COMPLETED', 'FAILED'] as const) {
      const { deps, published } = depsFor(pendingTask({ status }), long);
      expect((await requestTask(request, deps)).task.status).toBe(status);
      expect(published).toEqual([]);
    }
  });

  it('marks the task FAILED with the reason and rethrows when TaskRequested cannot be published', async () => {
    const busDown = new Error('connect ECONNREFUSED');
    const { deps, published, finished } = depsFor(undefined, CREATED_AT, { busDown });

    await expect(requestTask(request, deps)).rejects.toBe(busDown);
    expect(finished).toEqual([['req-1', 'FAILED', CREATED_AT, 'could not publish TaskRequested: connect ECONNREFUSED']]);
    expect(published).toEqual([]);
  });

  it('also fails a repeated task whose re-announcement cannot be published', async () => {
    const busDown = new Error('throttled');
    const now = new Date(CREATED_AT.getTime() + REANNOUNCE_AFTER_MS + 1);
    const { deps, finished } = depsFor(pendingTask(), now, { busDown });

    await expect(requestTask(request, deps)).rejects.toBe(busDown);
    expect(finished).toEqual([['req-1', 'FAILED', now, 'could not publish TaskRequested: throttled']]);
  });
});
