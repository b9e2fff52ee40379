/** The REST edge through the local runtime: API keys, parameter validation, and clear answers. */
import { startLocalStack, type LocalStack } from '../helpers/localStack';

describe('REST API (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
    await stack.putObject('uploads/small.csv', 'id,formatted_text\n1,hello\n');
    await stack.putObject('uploads/empty.csv', '');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('requires x-api-key on every route, answering a missing and a wrong key alike, as API Gateway does', async () => {
    const raw = async (route: string, init: RequestInit = {}) => {
      const response = await fetch(`${stack.runtime.apiUrl}${route}`, init);
      const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
      return { status: response.status, headers, body: await response.text() };
    };
    const posted = { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } };
    const refused = {
      status: 403,
      headers: expect.objectContaining({ 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' }),
      body: '{"message":"Forbidden"}',
    };
    for (const [route, init] of [
      ['/process?s3_key=uploads/small.csv', {}],
      ['/status?task_id=x', {}],
      ['/process', posted],
    ] as [string, RequestInit][]) {
      const missing = await raw(route, init);
      const wrong = await raw(route, { ...init, headers: { ...init.headers, 'x-api-key': 'wrong' } });
      const empty = await raw(route, { ...init, headers: { ...init.headers, 'x-api-key': '' } });
      expect(missing).toEqual(refused);
      expect(wrong).toEqual(missing);
      expect(empty).toEqual(missing);
    }
  });

  it.each([
    ['/process?data_source=s3_csv&s3_key=uploads/small.csv&start_date=2025-13-01', 'start_date', /real date/],
    ['/process?data_source=s3_csv&s3_key=uploads/small.csv&start_date=01/02/2025', 'start_date', /YYYY-MM-DD/],
    ['/process?data_source=ftp&s3_key=uploads/small.csv', 'data_source', /one of s3_csv, metabase/],
    ['/process?data_source=s3_csv', 's3_key', /required/],
    ['/process?data_source=s3_csv&s3_key=s3://someone-else/file.csv', 's3_key', /reads only "vectordb-catchup-local"/],
    ['/process?data_source=s3_csv&s3_key=../etc/passwd', 's3_key', /\.\./],
    ['/process?data_source=s3_csv&s3_key=uploads/small.csv&start_dat=2025-01-01', 'start_dat', /unknown parameter "start_dat"/],
    ['/process?data_source=s3_csv&s3_key=uploads/small.csv&task_id=has%20space', 'task_id', /task_id must be/],
  ])('answers 400 naming the parameter for %s', async (route, parameter, message) => {
    const { status, body } = await stack.api(route);
    expect(status).toBe(400);
    expect(body.parameter).toBe(parameter);
    expect(body.error).toMatch(message);
  });

  it('answers 404 naming a missing s3_key, and 422 for an empty file', async () => {
    expect(await stack.api('/process?data_source=s3_csv&s3_key=uploads/nope.csv')).toEqual({
      status: 404,
      body: { error: 's3_key "uploads/nope.csv" does not exist in bucket "vectordb-catchup-local"', parameter: 's3_key' },
    });
    const empty = await stack.api('/process?data_source=s3_csv&s3_key=uploads/empty.csv');
    expect(empty.status).toBe(422);
    expect(empty.body.error).toMatch(/empty file/);
  });

  it('says plainly when Metabase (the older default source) is not configured, and checks question_id', async () => {
    expect((await stack.api('/process?start_date=2025-01-01')).body).toEqual({
      error: 'question_id is required for data_source=metabase (no METABASE_QUESTION_ID is configured)',
      parameter: 'question_id',
    });
    expect((await stack.api('/process?start_date=2025-01-01&question_id=abc')).body.parameter).toBe('question_id');
    const { status, body } = await stack.api('/process?start_date=2025-01-01&question_id=232');
    expect(status).toBe(503);
    expect(body).toMatchObject({ parameter: 'data_source', error: expect.stringMatching(/needs METABASE_URL and METABASE_API_KEY/) });
  });

  it('answers 404 for an unknown task and 400 without task_id', async () => {
    expect(await stack.api('/status?task_id=does-not-exist')).toEqual({
      status: 404,
      body: { error: 'no task with task_id "does-not-exist"' },
    });
    expect((await stack.api('/status')).body).toEqual({ error: 'task_id is required', parameter: 'task_id' });
  });

  it('starts a task from a JSON body, idempotently by task_id, and from an s3:// URL of its own bucket', async () => {
    const post = (body: unknown) =>
      stack.api('/process', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const first = await post({
      data_source: 's3_csv',
      s3_key: 's3://vectordb-catchup-local/uploads/small.csv',
      task_id: 'my-run-1',
      namespace: 'other-ns',
    });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      task_id: 'my-run-1',
      status: 'PENDING',
      namespace: 'other-ns',
      status_url: '/status?task_id=my-run-1',
    });
    const again = await post({ data_source: 's3_csv', s3_key: 'uploads/small.csv', task_id: 'my-run-1' });
    expect(again.status).toBe(200);
    expect(again.body.message).toMatch(/already exists/);
    const done = await stack.waitForTask('my-run-1');
    expect(done).toMatchObject({ status: 'COMPLETED', namespace: 'other-ns', records: { total: 1, processed: 1 } });
    expect(stack.pinecone.dump('other-ns').map((vector) => vector.id)).toEqual(['1']);
  });

  it('rejects a POST that is not a JSON object with 415, malformed JSON with 422', async () => {
    const text = await stack.api('/process', { method: 'POST', body: 's3_key=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const malformed = await stack.api('/process', { method: 'POST', body: '{"s3_key":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(422);
    const list = await stack.api('/process', { method: 'POST', body: '[1]', headers: { 'content-type': 'application/json' } });
    expect(list.status).toBe(415);
  });

  it('answers an unknown route with 404 and a wrong method with 405', async () => {
    expect((await stack.api('/nope')).status).toBe(404);
    expect((await stack.api('/status', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('POST /cancel (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('cancels a pending task, announces it, and skips its chunks; a second cancel answers 409', async () => {
    const { tasks } = stack.runtime.deps;
    const request = { schemaVersion: 1 as const, taskId: 'to-cancel', source: { type: 's3_csv' as const, key: 'x.csv' } };
    await tasks.create({ taskId: 'to-cancel', dataSource: 's3_csv', namespace: 'ns', request }, new Date());
    const cancelled = await stack.api('/cancel?task_id=to-cancel', { method: 'POST' });
    expect(cancelled).toMatchObject({ status: 200, body: { task_id: 'to-cancel', status: 'CANCELLED', errors: ['cancelled by request'] } });
    expect(
      stack.runtime.bus
        .published()
        .filter((event) => event['detail-type'] === 'TaskCompleted')
        .map((event) => event.detail),
    ).toEqual([expect.objectContaining({ taskId: 'to-cancel', status: 'CANCELLED' })]);
    expect((await stack.api('/cancel?task_id=to-cancel', { method: 'POST' })).status).toBe(409);
    expect((await stack.api('/cancel?task_id=nope', { method: 'POST' })).status).toBe(404);
    expect((await stack.api('/cancel', { method: 'POST' })).body).toEqual({ error: 'task_id is required', parameter: 'task_id' });
    expect((await stack.api('/cancel?task_id=to-cancel', { method: 'POST', apiKey: null })).status).toBe(403);
  });

  it('a cancelled task plans and embeds nothing when its request arrives afterwards', async () => {
    await stack.putObject('c/file.csv', 'id,formatted_text\n1,one\n2,two\n');
    const request = { schemaVersion: 1 as const, taskId: 'late', source: { type: 's3_csv' as const, key: 'c/file.csv' } };
    await stack.runtime.deps.tasks.create({ taskId: 'late', dataSource: 's3_csv', namespace: 'ns', request }, new Date());
    expect((await stack.api('/cancel?task_id=late', { method: 'POST' })).status).toBe(200);
    await stack.runtime.bus.publish([{ detailType: 'TaskRequested', source: 'test', detail: request }]);
    await stack.runtime.waitForIdle(30_000);
    const { body } = await stack.api('/status?task_id=late');
    expect(body).toMatchObject({ status: 'CANCELLED', records: { processed: 0 }, chunks: { total: null } });
    expect(stack.runtime.bus.published().filter((event) => event['detail-type'] === 'ChunkPlanned')).toEqual([]);
    expect(stack.openai.stats.inputs).toBe(0);
  });
});
