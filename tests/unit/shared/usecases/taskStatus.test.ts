/** `/status`: the task's view, priced with the configured token price; an unknown id is NotFoundError. */
import type { Task } from '../../../../shared/domain/task';
import { NotFoundError } from '../../../../shared/errors';
import { taskStatus, type TaskStatusDeps } from '../../../../shared/usecases/taskStatus';
import { aTask, configWith, fakeTasks } from '../../../helpers/fakes';

function depsHolding(task: Task | undefined, env: Record<string, string> = {}) {
  const asked: string[] = [];
  const deps: TaskStatusDeps = {
    config: configWith(env),
    tasks: fakeTasks({
      get: async (taskId) => {
        asked.push(taskId);
        return task;
      },
    }),
  };
  return { deps, asked };
}

describe('taskStatus', () => {
  it('answers the view of a running task: no total before planning ends, no progress yet', async () => {
    const records = { total: 0, processed: 3, skipped: 1, failed: 0, truncated: 0, split: 0, skippedReasons: { empty_text: 1 } };
    const { deps, asked } = depsHolding(aTask({ taskId: 't-1', records }));
    const view = await taskStatus('t-1', deps);

    expect(asked).toEqual(['t-1']);
    expect(view).toMatchObject({
      task_id: 't-1',
      status: 'RUNNING',
      data_source: 's3_csv',
      source: { type: 's3_csv', key: 'uploads/a.csv' },
      records: { total: null, processed: 3, skipped: 1, failed: 0, skipped_reasons: { empty_text: 1 } },
      chunks: { total: null },
      progress: null,
      dry_run: false,
    });
    expect(view).not.toHaveProperty('estimate');
  });

  it("prices a dry run's tokens with EMBEDDING_PRICE_PER_MILLION_TOKENS", async () => {
    const task = aTask({
      taskId: 'dry-1',
      status: 'COMPLETED',
      planned: true,
      request: { schemaVersion: 1, taskId: 'dry-1', source: { type: 's3_csv', key: 'uploads/a.csv' }, dryRun: true },
      records: { total: 4, processed: 2, skipped: 2, failed: 0, truncated: 0, split: 0, skippedReasons: { unchanged: 2 } },
      chunks: { total: 1, completed: 1, failed: 0 },
      tokens: 3_000_000,
      // What a dry run would have upserted: the records it would embed.
      vectors: { upserted: 2, metadataUpdated: 0, deleted: 0 },
    });
    const { deps } = depsHolding(task, { EMBEDDING_PRICE_PER_MILLION_TOKENS: '0.5' });
    const view = await taskStatus('dry-1', deps);

    expect(view.progress).toBe(1);
    expect(view.estimate).toEqual({ records_to_embed: 2, tokens: 3_000_000, cost_usd: 1.5, final: true });
  });

  it('answers NotFoundError for an unknown task', async () => {
    const { deps } = depsHolding(undefined);
    const answer = taskStatus('nope', deps);
    await expect(answer).rejects.toThrow(NotFoundError);
    await expect(answer).rejects.toThrow('no task with task_id "nope"');
  });
});
