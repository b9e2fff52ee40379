/**
 * TaskCompleted once: a terminal task is re-announced only when its announcement was lost, never
 * while the invocation that ended it may still be publishing.
 */
import type { Task } from '../../../../shared/domain/task';
import { ANNOUNCEMENT_LEASE_MS, finishIfSettled, type FinishTaskDeps } from '../../../../shared/usecases/finishTask';
import { fakeTasks, recordingEvents, silentLogger } from '../../../helpers/fakes';

const ENDED_AT = new Date('2026-11-28T12:00:00.000Z');

function completedTask(overrides: Partial<Task> = {}): Task {
  return {
    taskId: 'task-1',
    status: 'COMPLETED',
    dataSource: 's3_csv',
    namespace: 'ns',
    request: { schemaVersion: 1, taskId: 'task-1', source: { type: 's3_csv', key: 'incoming/a.csv' } } as Task['request'],
    planned: true,
    records: { total: 2, processed: 2, skipped: 0, failed: 0, truncated: 0, skippedReasons: {} },
    chunks: { total: 1, completed: 1, failed: 0 },
    tokens: 10,
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
  const deps: FinishTaskDeps = {
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
    expect(published[0]).toMatchObject({ name: 'TaskCompleted', detail: { taskId: 'task-1', status: 'COMPLETED', records: { total: 2, processed: 2 } } });
    expect(marked).toEqual(['task-1']);
  });

  it('never announces a task already announced', async () => {
    const { deps, published } = fakeDeps(new Date(ENDED_AT.getTime() + 10 * ANNOUNCEMENT_LEASE_MS));
    await finishIfSettled(completedTask({ completionAnnounced: true }), deps);
    expect(published).toEqual([]);
  });
});
