/** Cancelling: a task still running ends CANCELLED and is announced; one already ended is left as it ended. */
import type { Task, TerminalStatus } from '../../../../shared/domain/task';
import { NotFoundError } from '../../../../shared/errors';
import { cancelTask, type CancelTaskDeps } from '../../../../shared/usecases/cancelTask';
import { aTask, configWith, detailsOf, fakeTasks, recordingEvents, silentLogger, memoryCatchup } from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:05:00.000Z');

/** A repository holding one task whose `finish` succeeds only while the task is running, as the conditional write does. */
function depsHolding(initial: Task | undefined) {
  let current = initial;
  const events = recordingEvents();
  const calls = { finish: [] as { status: TerminalStatus; error?: string }[], announced: [] as string[] };
  const deps: CancelTaskDeps = {
    catchup: memoryCatchup(),
    config: configWith(),
    tasks: fakeTasks({
      get: async () => current,
      finish: async (_taskId, status, now, error) => {
        calls.finish.push({ status, error });
        if (!current || (current.status !== 'PENDING' && current.status !== 'RUNNING')) return undefined;
        current = { ...current, status, completedAt: now.toISOString(), errors: error ? [error, ...current.errors] : current.errors };
        return current;
      },
      markCompletionAnnounced: async (taskId) => void calls.announced.push(taskId),
    }),
    events,
    logger: silentLogger,
    now: () => NOW,
  };
  return { deps, published: events.published, calls };
}

describe('cancelTask', () => {
  it('cancels a running task, answers its new state and announces TaskCompleted once', async () => {
    const records = { total: 10, processed: 4, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {} };
    const running = aTask({ taskId: 'run-1', planned: true, records });
    const { deps, published, calls } = depsHolding(running);
    const outcome = await cancelTask('run-1', deps);

    expect(outcome.cancelled).toBe(true);
    expect(outcome.task).toMatchObject({
      task_id: 'run-1',
      status: 'CANCELLED',
      completed_at: NOW.toISOString(),
      errors: ['cancelled by request'],
    });
    expect(outcome.task.records).toMatchObject({ total: 10, processed: 4 });
    expect(calls.finish).toEqual([{ status: 'CANCELLED', error: 'cancelled by request' }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([expect.objectContaining({ taskId: 'run-1', status: 'CANCELLED' })]);
    expect(published).toHaveLength(1);
    expect(calls.announced).toEqual(['run-1']);
  });

  it('leaves a task that had already ended as it ended, announcing nothing', async () => {
    const endedAt = '2026-11-28T12:01:00.000Z';
    const ended = aTask({ taskId: 'done-1', status: 'COMPLETED', planned: true, completedAt: endedAt, completionAnnounced: true });
    const { deps, published, calls } = depsHolding(ended);
    const outcome = await cancelTask('done-1', deps);

    expect(outcome.cancelled).toBe(false);
    expect(outcome.task).toMatchObject({ task_id: 'done-1', status: 'COMPLETED', completed_at: endedAt, errors: [] });
    expect(published).toEqual([]);
    expect(calls.announced).toEqual([]);
  });

  it('answers how a task ended when it ended between the read and the cancel', async () => {
    const running = aTask({ taskId: 'race-1' });
    const events = recordingEvents();
    const reads = [running, { ...running, status: 'COMPLETED' as const, completedAt: NOW.toISOString(), completionAnnounced: true }];
    const deps: CancelTaskDeps = {
      catchup: memoryCatchup(),
      config: configWith(),
      tasks: fakeTasks({ get: async () => reads.shift(), finish: async () => undefined }),
      events,
      logger: silentLogger,
      now: () => NOW,
    };
    const outcome = await cancelTask('race-1', deps);

    expect(outcome).toMatchObject({ cancelled: false, task: { task_id: 'race-1', status: 'COMPLETED' } });
    expect(events.published).toEqual([]);
  });

  it('answers NotFoundError for an unknown task and ends nothing', async () => {
    const { deps, published, calls } = depsHolding(undefined);
    const answer = cancelTask('nope', deps);
    await expect(answer).rejects.toThrow(NotFoundError);
    await expect(answer).rejects.toThrow('no task with task_id "nope"');
    expect(calls.finish).toEqual([]);
    expect(published).toEqual([]);
  });
});
