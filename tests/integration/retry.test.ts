/**
 * POST /tasks/{task_id}/retry through the local runtime: a PARTIAL task's failed chunks run again
 * under the same task id, counts move from failed to processed exactly, the records it had already
 * written are not embedded again, and TaskCompleted is announced again with the attempt; a task
 * that cannot be retried answers 409 with the reason.
 */
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const rows = [
  'id,formatted_text',
  'a-1,alpha tea from Darjeeling',
  'a-2,beta coffee from Kenya',
  'a-3,gamma cocoa from Ghana',
  'a-4,delta mate from Paraguay',
];

describe('retry of failed parts (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ env: { CHUNK_SIZE: '2' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function run(key: string, csv: string): Promise<any> {
    await stack.putObject(key, csv);
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=${key}`);
    return stack.waitForTask(started.body.task_id);
  }
  const completions = (taskId: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'TaskCompleted' && (event.detail as { taskId: string }).taskId === taskId)
      .map((event) => event.detail as Record<string, any>);

  it('runs a PARTIAL task’s failed records again: COMPLETED, exact counts, no token spent twice', async () => {
    // OpenAI refuses the first requests: the embedder narrows them down to single records, which fail.
    stack.openai.failNext(3, 400);
    const first = await run('retry/partial.csv', `${rows.join('\n')}\n`);
    expect(first.status).toBe('PARTIAL');
    expect(first.records.total).toBe(4);
    expect(first.records.failed).toBeGreaterThan(0);
    const failedBefore = first.records.failed;
    const tokensBefore = first.embedding_tokens;
    const openaiTokensBefore = stack.openai.stats.tokens;
    const openaiInputsBefore = stack.openai.stats.inputs;

    const retried = await stack.api(`/tasks/${first.task_id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ task_id: first.task_id, status: 'RUNNING' });
    const after = await stack.waitForTask(first.task_id);
    expect(after).toMatchObject({
      status: 'COMPLETED',
      records: { total: 4, processed: 4, skipped: 0, failed: 0 },
      chunks: { total: 2, completed: 2, failed: 0 },
      errors: [],
    });
    // Only the failed records were embedded again; the task's tokens are each record's once.
    const retryTokens = stack.openai.stats.tokens - openaiTokensBefore;
    expect(after.embedding_tokens).toBe(tokensBefore + retryTokens);
    expect(stack.openai.stats.inputs - openaiInputsBefore).toBe(failedBefore);
    expect(
      stack.pinecone
        .dump(NAMESPACE)
        .filter((vector) => vector.id.startsWith('a-'))
        .map((vector) => vector.id)
        .sort(),
    ).toEqual(['a-1', 'a-2', 'a-3', 'a-4']);
    const announced = completions(first.task_id);
    expect(announced.map((detail) => [detail.status, detail.attempt])).toEqual([
      ['PARTIAL', undefined],
      ['COMPLETED', 2],
    ]);
  });

  it('retries through a TaskRetryRequested event too, once however often the event comes', async () => {
    stack.openai.failNext(3, 400);
    const first = await run('retry/by-event.csv', `${rows.join('\n').replaceAll('a-', 'e-')}\n`);
    expect(first.status).toBe('PARTIAL');
    const event = { schemaVersion: 1 as const, taskId: first.task_id, attempt: 1, requestedBy: 'ops-bot' };
    await stack.runtime.deps.events.publish('TaskRetryRequested', [event]);
    expect(await stack.waitForTask(first.task_id)).toMatchObject({ status: 'COMPLETED', records: { processed: 4, failed: 0 } });
    // The same request again (a redelivery, a second click): the task is no longer at attempt 1, so nothing runs.
    const inputs = stack.openai.stats.inputs;
    await stack.runtime.deps.events.publish('TaskRetryRequested', [event]);
    await stack.runtime.waitForIdle();
    expect(stack.openai.stats.inputs).toBe(inputs);
    expect(completions(first.task_id).map((detail) => detail.attempt)).toEqual([undefined, 2]);
  });

  it('answers 409 with the reason for a COMPLETED or CANCELLED task, and 404 for an unknown one', async () => {
    const done = await run('retry/done.csv', 'id,formatted_text\nd-1,one\n');
    const completed = await stack.api(`/tasks/${done.task_id}/retry`, { method: 'POST' });
    expect(completed).toMatchObject({
      status: 409,
      body: { error: expect.stringMatching(/completed with no failed record/), parameter: 'task_id' },
    });
    const request = { schemaVersion: 1 as const, taskId: 'cancelled-1', source: { type: 's3_csv' as const, key: 'retry/none.csv' } };
    await stack.runtime.deps.tasks.create({ taskId: 'cancelled-1', dataSource: 's3_csv', namespace: NAMESPACE, request }, new Date());
    await stack.runtime.deps.tasks.finish('cancelled-1', 'CANCELLED', new Date());
    expect(await stack.api('/tasks/cancelled-1/retry', { method: 'POST' })).toMatchObject({
      status: 409,
      body: { error: 'task cancelled-1 was cancelled: start its source again to run it' },
    });
    expect((await stack.api('/tasks/nowhere/retry', { method: 'POST' })).status).toBe(404);
  });
});
