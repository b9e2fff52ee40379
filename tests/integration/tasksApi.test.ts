/**
 * GET /tasks and GET /tasks/{task_id} through the local runtime: real runs listed newest first
 * from the byCreated index, paged and filtered, and one run's chunks, rate, cost and errors.
 */
import { startLocalStack, type LocalStack } from '../helpers/localStack';

describe('task API (local runtime)', () => {
  let stack: LocalStack;
  /** Task ids in the order they were started. */
  const started: string[] = [];

  /** Starts a run and waits for its end, so that each run is created after the one before. */
  async function run(params: string): Promise<string> {
    const { status, body } = await stack.api(`/process?data_source=s3_csv&${params}`);
    expect(status).toBe(202);
    await stack.waitForTask(body.task_id);
    started.push(body.task_id);
    return body.task_id;
  }

  beforeAll(async () => {
    // Two records a chunk: the five rows of people.csv make three chunks.
    stack = await startLocalStack({ env: { CHUNK_SIZE: '2' } });
    await stack.putObject(
      'uploads/people.csv',
      'id,formatted_text\n1,Ada Lovelace\n2,Alan Turing\n,no id on this row\n4,Grace Hopper\n5,Edsger Dijkstra\n',
    );
    await stack.putObject('uploads/catalog.csv', 'id,formatted_text\nc1,Red running shoes\nc2,Green tea\n');
    await run('s3_key=uploads/people.csv&task_id=people-1');
    await run('s3_key=uploads/catalog.csv&dataset=catalog&task_id=catalog-1');
    await run('s3_key=uploads/catalog.csv&dataset=catalog&dry_run=true&force=true&task_id=catalog-dry');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const idsOf = (body: { tasks: { task_id: string }[] }) => body.tasks.map((task) => task.task_id);

  it('lists tasks newest first, each as /status counts it', async () => {
    const { status, body } = await stack.api('/tasks');
    expect(status).toBe(200);
    expect(idsOf(body)).toEqual([...started].reverse());
    expect(body.next_cursor).toBeNull();
    const people = body.tasks.find((task: { task_id: string }) => task.task_id === 'people-1');
    const { body: statusOf } = await stack.api('/status?task_id=people-1');
    expect(people).toEqual({
      task_id: 'people-1',
      status: 'PARTIAL',
      data_source: 's3_csv',
      namespace: statusOf.namespace,
      dataset: 'uploads/people.csv',
      dry_run: false,
      records: { total: 5, processed: 4, skipped: 0, failed: 1 },
      progress: 1,
      embedding_tokens: statusOf.embedding_tokens,
      created_at: statusOf.created_at,
      started_at: statusOf.started_at,
      updated_at: statusOf.updated_at,
      completed_at: statusOf.completed_at,
      status_url: '/tasks/people-1',
    });
  });

  it('pages with an opaque cursor, each task once', async () => {
    const first = await stack.api('/tasks?limit=2');
    expect(idsOf(first.body)).toEqual(['catalog-dry', 'catalog-1']);
    expect(typeof first.body.next_cursor).toBe('string');
    const second = await stack.api(`/tasks?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body).toMatchObject({ tasks: [{ task_id: 'people-1' }], next_cursor: null });
  });

  it('filters by status, data source and dataset', async () => {
    expect(idsOf((await stack.api('/tasks?status=PARTIAL')).body)).toEqual(['people-1']);
    expect(idsOf((await stack.api('/tasks?dataset=catalog')).body)).toEqual(['catalog-dry', 'catalog-1']);
    expect((await stack.api('/tasks?dataset=catalog&status=COMPLETED&limit=1')).body).toMatchObject({
      tasks: [{ task_id: 'catalog-dry', dry_run: true }],
    });
    expect(idsOf((await stack.api('/tasks?data_source=metabase')).body)).toEqual([]);
  });

  it('answers 400 naming the parameter for a bad limit, status or cursor', async () => {
    for (const [query, parameter] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['status=DONE', 'status'],
      ['data_source=ftp', 'data_source'],
      ['cursor=bogus', 'cursor'],
      ['sort=asc', 'sort'],
    ]) {
      const { status, body } = await stack.api(`/tasks?${query}`);
      expect({ query, status, parameter: body.parameter }).toEqual({ query, status: 400, parameter });
    }
  });

  it('describes a task: the /status document exactly, plus each chunk, rate, cost and the last errors with record numbers', async () => {
    const { body: statusOf } = await stack.api('/status?task_id=people-1');
    const { status, body } = await stack.api('/tasks/people-1');
    expect(status).toBe(200);
    expect(body).toMatchObject(statusOf);
    expect(body.chunk_states).toEqual({
      from: 0,
      to: 3,
      next_from: null,
      chunks: [
        {
          index: 0,
          state: 'completed',
          records: { total: 2, processed: 2, skipped: 0, failed: 0 },
          tokens: expect.any(Number),
          finished_at: expect.any(String),
        },
        {
          index: 1,
          state: 'completed',
          records: { total: 2, processed: 1, skipped: 0, failed: 1 },
          tokens: expect.any(Number),
          finished_at: expect.any(String),
        },
        {
          index: 2,
          state: 'completed',
          records: { total: 1, processed: 1, skipped: 0, failed: 0 },
          tokens: expect.any(Number),
          finished_at: expect.any(String),
        },
      ],
    });
    expect(body.last_errors).toEqual([
      { chunk: 1, record_number: 3, id: null, message: 'column "id" is empty: a vector needs an id', at: expect.any(String) },
    ]);
    expect(body.eta_seconds).toBe(0);
    expect(body.records_per_second).toBeGreaterThan(0);
    expect(body.cost).toEqual({
      price_per_million_tokens: 0.02,
      tokens: statusOf.embedding_tokens,
      spent_usd: Math.round(statusOf.embedding_tokens * 2) / 1e8,
      estimated_total_usd: Math.round(statusOf.embedding_tokens * 2) / 1e8,
    });
  });

  it('shows a window of chunks from chunks_from', async () => {
    const { body } = await stack.api('/tasks/people-1?chunks_from=2');
    expect(body.chunk_states).toMatchObject({ from: 2, to: 3, next_from: null, chunks: [{ index: 2 }] });
    expect(body.last_errors).toEqual([]);
  });

  it('answers 404 for an unknown task and 400 for a bad chunks_from, behind the API key', async () => {
    expect(await stack.api('/tasks/nope')).toEqual({ status: 404, body: { error: 'no task with task_id "nope"' } });
    expect((await stack.api('/tasks/people-1?chunks_from=-1')).body.parameter).toBe('chunks_from');
    expect((await stack.api('/tasks/people-1?chunk=1')).body.parameter).toBe('chunk');
    for (const route of ['/tasks', '/tasks/people-1']) {
      expect(await stack.api(route, { apiKey: null })).toEqual({ status: 403, body: { message: 'Forbidden' } });
      expect(await stack.api(route, { apiKey: 'wrong' })).toEqual({ status: 403, body: { message: 'Forbidden' } });
    }
    expect((await stack.api('/tasks/people-1', { method: 'POST' })).status).toBe(405);
  });
});
