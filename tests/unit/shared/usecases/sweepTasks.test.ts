/**
 * The sweeper's choices for one stuck task: announce its request again while it is not planned (not an inline one: its records are
 * gone), give it up after MAX_SWEEPS sweeps, and leave alone a task that moved, or was swept by someone else, since it was read.
 */
import type { Task } from '../../../../shared/domain/task';
import type { TaskQueries } from '../../../../shared/ports';
import { MAX_SWEEPS, sweepStuckTasks, type SweepDeps } from '../../../../shared/usecases/sweepTasks';
import {
  aTask,
  configWith,
  detailsOf,
  fakeSync,
  fakeTasks,
  memoryCatchup,
  memoryPlans,
  recordingEvents,
  silentLogger,
} from '../../../helpers/fakes';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const HOURS_AGO = new Date(NOW.getTime() - 3 * 3600_000).toISOString();

function sweeperDeps(stored: Task, options: { sweepWins?: boolean } = {}) {
  let task = stored;
  const events = recordingEvents();
  const finishes: { status: string; error?: string }[] = [];
  const taskQueries: TaskQueries = {
    list: async ({ status }) => ({
      tasks: task.status === status ? [{ ...task, dataset: 'd', dryRun: false, records: task.records }] : [],
    }),
    chunkResults: async () => [],
  };
  const deps: SweepDeps = {
    config: configWith({ STUCK_TASK_MINUTES: '60' }),
    taskQueries,
    plans: memoryPlans(),
    catchup: memoryCatchup(),
    sync: fakeSync(),
    events,
    logger: silentLogger,
    now: () => NOW,
    tasks: fakeTasks({
      get: async () => task,
      noteSweep: async () => options.sweepWins ?? true,
      finish: async (_id, status, now, error) => {
        finishes.push({ status, ...(error ? { error } : {}) });
        task = { ...task, status, completedAt: now.toISOString() };
        return task;
      },
      markCompletionAnnounced: async () => undefined,
    }),
  };
  return { deps, published: events.published, finishes };
}

const unplanned = (overrides: Partial<Task> = {}) => aTask({ status: 'RUNNING', planned: false, updatedAt: HOURS_AGO, ...overrides });

describe('sweepStuckTasks', () => {
  it('announces the request of a task that never got planned again', async () => {
    const { deps, published } = sweeperDeps(unplanned());
    expect(await sweepStuckTasks(deps)).toEqual({ checked: 1, reannounced: ['task-1'], givenUp: [] });
    expect(detailsOf(published, 'TaskRequested')).toEqual([unplanned().request]);
  });

  it(`fails it, with the reason, after ${MAX_SWEEPS} sweeps without progress`, async () => {
    const { deps, finishes } = sweeperDeps(unplanned({ sweeps: MAX_SWEEPS, sweptAt: HOURS_AGO }));
    expect(await sweepStuckTasks(deps)).toMatchObject({ givenUp: ['task-1'] });
    expect(finishes).toEqual([
      { status: 'FAILED', error: 'planning never finished: no progress for 60 minutes, after 2 re-announcements' },
    ]);
  });

  it('fails an unplanned inline task at once: its records travelled in the lost event only', async () => {
    const inline = unplanned({ request: { schemaVersion: 1, taskId: 'task-1', source: { type: 'inline', name: 'crm', records: [{}] } } });
    const { deps, published, finishes } = sweeperDeps(inline);
    expect(await sweepStuckTasks(deps)).toMatchObject({ givenUp: ['task-1'] });
    expect(detailsOf(published, 'TaskRequested')).toEqual([]);
    expect(finishes).toHaveLength(1);
  });

  it('leaves alone a task that is not stuck yet, and one that moved or was swept since it was read', async () => {
    const recent = sweeperDeps(unplanned({ updatedAt: new Date(NOW.getTime() - 59 * 60_000).toISOString() }));
    expect(await sweepStuckTasks(recent.deps)).toEqual({ checked: 1, reannounced: [], givenUp: [] });
    const raced = sweeperDeps(unplanned(), { sweepWins: false });
    expect(await sweepStuckTasks(raced.deps)).toEqual({ checked: 1, reannounced: [], givenUp: [] });
    expect(raced.published).toEqual([]);
  });
});
