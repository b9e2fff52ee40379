/**
 * Provider faults, one scenario each, through the local runtime and the official clients: OpenAI
 * 500/503 bursts, connection resets, answers lost after the tokens were billed, slow answers;
 * Pinecone 429 storms, 503s, resets, upserts that landed but whose answer was lost; a Metabase
 * export that dies mid-stream. Each run ends COMPLETED with every record processed exactly once,
 * one vector per record, and the task's tokens the sum of its records' tokens, whatever was retried.
 * Each retried fault is a WARN line of the task's chunk, no ERROR and no stack: nobody need act.
 */
import { startMetabaseSimulator, type MetabaseSimulator } from '../../simulators/metabase';
import { captureLogLines, type CapturedLogLines } from '../helpers/capturedLogLines';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const METABASE_KEY = 'mb_fault_matrix_key_0123456789';
const ROWS = 24;
const rows = (prefix: string) =>
  Array.from({ length: ROWS }, (_, i) => ({
    id: `${prefix}-${i + 1}`,
    formatted_text: `${prefix} record ${i + 1}: ${'green tea '.repeat(1 + (i % 4))}`,
  }));
const csv = (prefix: string) =>
  `id,formatted_text\n${rows(prefix)
    .map((row) => `${row.id},${row.formatted_text}`)
    .join('\n')}\n`;

describe('provider fault matrix (local runtime)', () => {
  let stack: LocalStack;
  let metabase: MetabaseSimulator;
  let slow = false;
  let logs: CapturedLogLines;
  let savedLogLevel: string | undefined;

  beforeAll(async () => {
    savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    logs = captureLogLines();
    metabase = await startMetabaseSimulator({
      apiKey: METABASE_KEY,
      questions: {
        301: { rows: rows('mb'), truncateAfterRows: 10, truncateTimes: 2 },
        302: { rows: rows('mbdead'), truncateAfterRows: 10 },
      },
    });
    stack = await startLocalStack({
      openai: { latencyMs: () => (slow ? 300 : 0) },
      env: {
        CHUNK_SIZE: '6',
        METABASE_URL: metabase.url,
        METABASE_API_KEY: METABASE_KEY,
        OPENAI_MAX_RETRIES: '4',
        PINECONE_MAX_RETRIES: '6',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await metabase?.close();
    logs.restore();
    if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  });
  beforeEach(() => logs.clear());

  /** The run's log lines: WARNs only, `count` or more retry lines naming `operation`, each with the task (and its chunk, for a chunk's work). */
  function expectRetriedAsWarnings(taskId: string, operation: RegExp, count: number, keys: object = { chunk_index: expect.any(Number) }) {
    expect(logs.lines.filter((line) => line.level !== 'WARN')).toEqual([]);
    expect(logs.lines.filter((line) => 'stack' in line || JSON.stringify(line).includes('"stack"'))).toEqual([]);
    const retries = logs.lines.filter((line) => operation.test(String(line.message)));
    expect(retries.length).toBeGreaterThanOrEqual(count);
    for (const line of retries) expect(line).toMatchObject({ task_id: taskId, ...keys, attempt: expect.any(Number) });
  }

  /** Runs `prefix`'s rows and checks the exact outcome: every record once, one vector each, its tokens counted once. */
  async function expectExact(taskId: string, prefix: string) {
    const status = await stack.waitForTask(taskId);
    expect(status).toMatchObject({
      status: 'COMPLETED',
      records: { total: ROWS, processed: ROWS, skipped: 0, failed: 0 },
      chunks: { total: 4, completed: 4, failed: 0 },
      vectors: { upserted: ROWS },
    });
    const ids = stack.pinecone
      .dump(NAMESPACE)
      .map((vector) => vector.id)
      .filter((id) => id.startsWith(`${prefix}-`));
    expect(new Set(ids).size).toBe(ROWS);
    expect(ids).toHaveLength(ROWS);
    return status;
  }

  async function csvRun(prefix: string) {
    await stack.putObject(`faults/${prefix}.csv`, csv(prefix));
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=faults/${prefix}.csv`);
    return expectExact(started.body.task_id, prefix);
  }

  const OPENAI_RETRY = /^OpenAI embeddings failed; retrying$/;
  const PINECONE_RETRY = /^Pinecone upsert failed; retrying$/;
  it.each([
    ['an OpenAI 500 burst', 'oa500', () => stack.openai.failNext(3, 500), OPENAI_RETRY, 3],
    ['an OpenAI 503 burst', 'oa503', () => stack.openai.failNext(3, 503), OPENAI_RETRY, 3],
    ['OpenAI connection resets', 'oareset', () => stack.openai.dropNext(2, 'before'), OPENAI_RETRY, 2],
    ['OpenAI answers lost after billing', 'oalost', () => stack.openai.dropNext(2, 'after'), OPENAI_RETRY, 2],
    ['a Pinecone 429 storm', 'pc429', () => stack.pinecone.failNext(8, 429, { retryAfterSeconds: 0.01 }), PINECONE_RETRY, 8],
    ['Pinecone 503s', 'pc503', () => stack.pinecone.failNext(3, 503), PINECONE_RETRY, 3],
    ['Pinecone connection resets', 'pcreset', () => stack.pinecone.dropNext(2, 'before'), PINECONE_RETRY, 2],
    ['Pinecone upserts that landed but whose answer was lost', 'pclost', () => stack.pinecone.dropNext(2, 'after'), PINECONE_RETRY, 2],
  ])('survives %s with exact counts, each retry a WARN line', async (_, prefix, inject, operation, faults) => {
    inject();
    const status = await csvRun(prefix);
    // Every injected fault was met by a request.
    expect(stack.openai.pendingFaults() + stack.pinecone.pendingFaults()).toBe(0);
    expectRetriedAsWarnings(status.task_id, operation, faults);
  });

  it('survives slow OpenAI answers with exact counts', async () => {
    slow = true;
    try {
      await csvRun('oaslow');
    } finally {
      slow = false;
    }
  });

  it('survives a Metabase export that dies mid-stream (twice): planning runs again, every row once', async () => {
    const started = await stack.api('/process?data_source=metabase&question_id=301');
    await expectExact(started.body.task_id, 'mb');
    expectRetriedAsWarnings(started.body.task_id, /^message failed; SQS will retry it$/, 2, {});
  });

  it('fails a task whose Metabase export dies every time, once planning has been tried its wired number of times, naming why', async () => {
    const started = await stack.api('/process?data_source=metabase&question_id=302');
    const status = await stack.waitForTask(started.body.task_id);
    expect(status).toMatchObject({ status: 'FAILED', records: { processed: 0, failed: 0 } });
    expect(status.errors[0]).toMatch(/^planning failed: Metabase question 302: the response (broke off|ended) after \d+ rows/);
    // The last attempt needs a person: one ERROR line, the attempts before it WARN lines.
    expect(logs.lines.filter((line) => line.level === 'ERROR').map((line) => line.message)).toEqual(['message failed on its last attempt']);
  });
});
