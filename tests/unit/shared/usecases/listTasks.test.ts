/** `GET /tasks`: parameters checked into a query, pages of the listing shown with the `/status` names. */
import { parseTaskListQuery } from '../../../../shared/domain/taskList';
import { InvalidInputError } from '../../../../shared/errors';
import type { TaskQueries, TaskSummary } from '../../../../shared/ports';
import { listTasks } from '../../../../shared/usecases/listTasks';

function summary(overrides: Partial<TaskSummary> = {}): TaskSummary {
  return {
    taskId: 'run:1',
    status: 'RUNNING',
    dataSource: 's3_csv',
    namespace: 'ns',
    dataset: 'uploads/a.csv',
    dryRun: false,
    planned: true,
    records: { total: 8, processed: 3, skipped: 1, failed: 0 },
    tokens: 120,
    createdAt: '2026-01-01T12:00:00.000Z',
    updatedAt: '2026-01-01T12:01:00.000Z',
    startedAt: '2026-01-01T12:00:01.000Z',
    ...overrides,
  };
}

function listing(pages: { tasks: TaskSummary[]; cursor?: string }) {
  const asked: Parameters<TaskQueries['list']>[] = [];
  const taskQueries: TaskQueries = {
    list: async (...args) => {
      asked.push(args);
      return pages;
    },
    chunkResults: async () => {
      throw new Error('not expected');
    },
  };
  return { deps: { taskQueries }, asked };
}

describe('listTasks', () => {
  it('passes the filters and page on, and shows each task as a list item with its status URL', async () => {
    const { deps, asked } = listing({ tasks: [summary(), summary({ taskId: 'b', planned: false, status: 'PENDING' })], cursor: 'next' });
    const query = parseTaskListQuery({ limit: '2', status: 'RUNNING', data_source: 's3_csv', dataset: ' uploads/a.csv ', cursor: 'c1' });
    const answer = await listTasks(query, deps);

    expect(asked).toEqual([
      [
        { status: 'RUNNING', dataSource: 's3_csv', dataset: 'uploads/a.csv' },
        { limit: 2, cursor: 'c1' },
      ],
    ]);
    expect(answer.next_cursor).toBe('next');
    expect(answer.tasks[0]).toEqual({
      task_id: 'run:1',
      status: 'RUNNING',
      data_source: 's3_csv',
      namespace: 'ns',
      dataset: 'uploads/a.csv',
      dry_run: false,
      records: { total: 8, processed: 3, skipped: 1, failed: 0 },
      progress: 0.5,
      embedding_tokens: 120,
      created_at: '2026-01-01T12:00:00.000Z',
      started_at: '2026-01-01T12:00:01.000Z',
      updated_at: '2026-01-01T12:01:00.000Z',
      completed_at: null,
      status_url: '/tasks/run%3A1',
    });
    // Before planning ends the total is not known, as in /status.
    expect(answer.tasks[1]).toMatchObject({ records: { total: null }, progress: null });
  });

  it('defaults to 20 tasks a page, unfiltered, and says when there is no next page', async () => {
    const { deps, asked } = listing({ tasks: [] });
    expect(await listTasks(parseTaskListQuery({}), deps)).toEqual({ tasks: [], next_cursor: null });
    expect(asked).toEqual([[{}, { limit: 20 }]]);
  });

  it.each([
    [{ limit: '0' }, 'limit', /whole number from 1 to 100/],
    [{ limit: '101' }, 'limit', /whole number from 1 to 100/],
    [{ limit: '2.5' }, 'limit', /got "2.5"/],
    [{ status: 'DONE' }, 'status', /one of PENDING, RUNNING/],
    [{ data_source: 'ftp' }, 'data_source', /one of s3_csv, metabase, inline/],
    [{ stauts: 'RUNNING' }, 'stauts', /unknown parameter "stauts"/],
  ])('refuses %j naming %s', (params, parameter, message) => {
    expect(() => parseTaskListQuery(params)).toThrow(InvalidInputError);
    expect(() => parseTaskListQuery(params)).toThrow(
      expect.objectContaining({ field: parameter, message: expect.stringMatching(message) }),
    );
  });
});
