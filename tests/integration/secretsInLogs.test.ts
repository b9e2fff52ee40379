/**
 * Secrets never leak. The product runs with real-looking secrets (OpenAI `sk-proj-…`, Pinecone
 * `pcsk_…`, Metabase `mb_…`, the API key) through every path that logs: successful runs, each
 * provider answering errors (OpenAI 400/429/500 and refusing the key with its 401, which quotes
 * the key's start and end; Pinecone 4xx/5xx and its 401; Metabase failing and refusing the key),
 * missing and wrong API keys, and a request that fails with a 500. Every line written to stdout,
 * stderr or the console, every answer (status, headers, body) and every task's /status and
 * /tasks/{task_id} must hold none of the secrets, nor a recognisable piece of one.
 */
import { inspect } from 'node:util';
import { startMetabaseSimulator, type MetabaseSimulator } from '../../simulators/metabase';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

const SECRETS = {
  OPENAI_API_KEY: 'sk-proj-Qm7vT2xRk9LpZ4wN8cHf3Jd6Ys1Ab5Ge0UiKoXtVnWqT3BlbkFJ8hRz2LcYp5MvQx',
  PINECONE_API_KEY: 'pcsk_4Hq2Zt_9XmRvLw7KcP3nYfB8sJd5TgA1eUoNiVbQ6rMxCyWzE2kDj',
  METABASE_API_KEY: 'mb_Vq3Zr8TnKx5Lw1Hp7Yd2Fg9Jc4Ms6Ab0UeRt=',
  API_KEY: 'Lq9Wz3Rt7Xn2Kv5Hp8Yd4Fm6Jc1Bs0GeUy',
};
/** What the providers expect in the stack where they refuse the configured keys. */
const OTHER_KEYS = {
  openai: 'sk-proj-other0000000000000000000000',
  pinecone: 'pcsk_other_000000000000000000',
  metabase: 'mb_other000000000000',
};

/** The well-known starts of the secrets, which alone identify nothing. */
const PUBLIC_PREFIX = /^(sk-proj-|pcsk_|mb_)/;

/**
 * The pieces of a secret that would identify it: every 6 characters of it past its well-known
 * start, and its last 4 (what a masked key such as `sk-proj-****…Qx4z` shows).
 */
function identifyingPieces(secret: string): string[] {
  const body = secret.replace(PUBLIC_PREFIX, '');
  const pieces = new Set([secret.slice(-4)]);
  for (let i = 0; i + 6 <= body.length; i++) pieces.add(body.slice(i, i + 6));
  return [...pieces];
}

describe('secrets in logs and answers (local runtime, simulators)', () => {
  const captured: string[] = [];
  const restores: (() => void)[] = [];
  let savedLogLevel: string | undefined;
  let metabase: MetabaseSimulator;
  let refusingMetabase: MetabaseSimulator;
  /** The providers accept the keys: runs succeed, or fail as each provider's errors make them. */
  let stack: LocalStack;
  /** OpenAI and Metabase refuse the configured keys, as they would revoked or mistyped ones. */
  let refusing: LocalStack;
  /** Pinecone refuses its key (OpenAI accepts, so that the upsert is reached). */
  let pineconeRefusing: LocalStack;

  /** Keeps every write to stdout and stderr, and every console call, for the checks below. */
  function capture(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((chunk: string | Uint8Array) => {
        captured.push(Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write;
      restores.push(() => {
        stream.write = original;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        captured.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 10 }))).join(' '));
      });
      restores.push(() => spy.mockRestore());
    }
  }

  const questions = (rows: number) => ({
    232: { rows: Array.from({ length: rows }, (_, i) => ({ id: i + 1, formatted_text: `listing ${i + 1}` })) },
    235: { rows: [], failWith: 'ERROR: column "formatted_txt" does not exist' },
    236: { rows: [], forbidden: true },
  });

  beforeAll(async () => {
    savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    // Every log line the code writes, debug included.
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    capture();
    metabase = await startMetabaseSimulator({ apiKey: SECRETS.METABASE_API_KEY, questions: questions(30) });
    refusingMetabase = await startMetabaseSimulator({ apiKey: OTHER_KEYS.metabase, questions: questions(3) });
    const env = (metabaseUrl: string) => ({
      ...SECRETS,
      METABASE_URL: metabaseUrl,
      METABASE_QUESTION_ID: '232',
      CHUNK_SIZE: '10',
      OPENAI_MAX_RETRIES: '1',
      PINECONE_MAX_RETRIES: '1',
    });
    stack = await startLocalStack({
      openai: { apiKey: SECRETS.OPENAI_API_KEY },
      pinecone: { apiKey: SECRETS.PINECONE_API_KEY },
      env: env(metabase.url),
    });
    refusing = await startLocalStack({
      openai: { apiKey: OTHER_KEYS.openai },
      pinecone: { apiKey: SECRETS.PINECONE_API_KEY },
      env: env(refusingMetabase.url),
    });
    pineconeRefusing = await startLocalStack({
      openai: { apiKey: SECRETS.OPENAI_API_KEY },
      pinecone: { apiKey: OTHER_KEYS.pinecone },
      env: env(metabase.url),
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await refusing?.stop();
    await pineconeRefusing?.stop();
    await metabase?.close();
    await refusingMetabase?.close();
    for (const restore of restores.reverse()) restore();
    if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  });

  /** Calls the API as a caller would, keeping the whole answer. */
  async function call(on: LocalStack, pathAndQuery: string, init: RequestInit & { apiKey?: string | null } = {}) {
    const { apiKey = SECRETS.API_KEY, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (apiKey !== null) headers.set('x-api-key', apiKey);
    const response = await fetch(`${on.runtime.apiUrl}${pathAndQuery}`, { ...rest, headers });
    const body = await response.text();
    captured.push(JSON.stringify([...response.headers]), body);
    return { status: response.status, body: body ? JSON.parse(body) : undefined };
  }

  /** Starts a task, waits for its end, and keeps its /status and /tasks/{task_id}. */
  async function run(on: LocalStack, query: string): Promise<any> {
    const started = await call(on, `/process?${query}`);
    expect(started.status).toBe(202);
    const taskId = started.body.task_id;
    for (let attempt = 0; attempt < 400; attempt++) {
      await on.runtime.waitForIdle(60_000);
      const status = await call(on, `/status?task_id=${taskId}`);
      if (!['PENDING', 'RUNNING'].includes(status.body.status)) {
        await call(on, `/tasks/${taskId}`);
        return status.body;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`task ${taskId} did not end`);
  }

  const csv = (rows: number) =>
    ['id,formatted_text', ...Array.from({ length: rows }, (_, i) => `${i + 1},record ${i + 1} text`)].join('\n');

  it('runs a CSV file and a Metabase question to COMPLETED', async () => {
    await stack.putObject('uploads/ok.csv', csv(25));
    expect((await run(stack, 'data_source=s3_csv&s3_key=uploads/ok.csv')).status).toBe('COMPLETED');
    expect((await run(stack, 'question_id=232')).status).toBe('COMPLETED');
  });

  it.each([
    [400, 'a rejected input'],
    [429, 'throttling beyond the retries'],
    [500, 'a server error beyond the retries'],
  ])('survives OpenAI answering %i (%s) and logs it', async (status) => {
    await stack.putObject(`uploads/openai-${status}.csv`, csv(12));
    stack.openai.failNext(2, status);
    const ended = await run(stack, `data_source=s3_csv&s3_key=uploads/openai-${status}.csv&force=true`);
    expect(['COMPLETED', 'PARTIAL']).toContain(ended.status);
  });

  it.each([400, 403, 429, 500, 503])('survives Pinecone answering %i and logs it', async (status) => {
    await stack.putObject(`uploads/pinecone-${status}.csv`, csv(12));
    stack.pinecone.failNext(2, status);
    const ended = await run(stack, `data_source=s3_csv&s3_key=uploads/pinecone-${status}.csv&force=true`);
    expect(['COMPLETED', 'PARTIAL', 'FAILED']).toContain(ended.status);
  });

  it('fails the Metabase questions that fail or are forbidden, with their reasons', async () => {
    expect((await run(stack, 'question_id=235')).status).toBe('FAILED');
    expect((await run(stack, 'question_id=236')).status).toBe('FAILED');
  });

  it('ends the tasks whose providers refuse the configured keys, naming the refusal', async () => {
    await refusing.putObject('uploads/refused.csv', csv(5));
    const embedding = await run(refusing, 'data_source=s3_csv&s3_key=uploads/refused.csv');
    expect(embedding.status).not.toBe('COMPLETED');
    // OpenAI's 401 quotes the key's start and end: the task's error keeps the words, not the key.
    expect(JSON.stringify(embedding.errors)).toMatch(/Incorrect API key provided: sk-\[redacted\]/);
    const question = await run(refusing, 'question_id=232');
    expect(question.status).toBe('FAILED');
    expect(JSON.stringify(question.errors)).toMatch(/Metabase rejected METABASE_API_KEY/);
    await pineconeRefusing.putObject('uploads/refused.csv', csv(5));
    const upsert = await run(pineconeRefusing, 'data_source=s3_csv&s3_key=uploads/refused.csv');
    expect(upsert.status).not.toBe('COMPLETED');
    expect(JSON.stringify(upsert.errors)).toMatch(/HTTP 401/);
  });

  it('answers missing, wrong and nearly right API keys alike, echoing none', async () => {
    const answers = [];
    for (const apiKey of [null, 'wrong', SECRETS.API_KEY.slice(0, -1), `${SECRETS.API_KEY}x`, SECRETS.OPENAI_API_KEY]) {
      answers.push(await call(stack, '/status?task_id=x', { apiKey }));
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(answers[0]).toEqual({ status: 403, body: { message: 'Forbidden' } });
  });

  it('answers a request that fails inside with 500, the details in the logs only', async () => {
    const { tasks } = stack.runtime.deps;
    const get = tasks.get;
    // The kind of failure that would carry credentials: a client error quoting the request it sent.
    tasks.get = async () => {
      throw new Error(
        `request failed: GET /tasks?key=${SECRETS.API_KEY} with headers {"authorization":"Bearer ${SECRETS.OPENAI_API_KEY}","api-key":"${SECRETS.PINECONE_API_KEY}","x-api-key":"${SECRETS.METABASE_API_KEY}"}`,
      );
    };
    try {
      expect(await call(stack, '/status?task_id=anything')).toEqual({
        status: 500,
        body: { error: 'internal error; see the service logs' },
      });
    } finally {
      tasks.get = get;
    }
  });

  it('wrote the logs of every path above: errors of each provider, failed attempts, the 500', () => {
    const text = captured.join('\n');
    expect(text).toMatch(/"level":"ERROR".*request failed/);
    expect(text).toMatch(/message failed; SQS will retry it/);
    expect(text).toMatch(/Incorrect API key provided: sk-\[redacted\]/);
    expect(text).toMatch(/Metabase rejected METABASE_API_KEY/);
    expect(text).toMatch(/Pinecone upsert failed with HTTP 401/);
    // The 500's error, logged with every credential it quoted redacted.
    expect(text).toMatch(/"authorization\\":\\"\[redacted\]\\",\\"api-key\\":\\"\[redacted\]\\",\\"x-api-key\\":\\"\[redacted\]/);
  });

  it.each(Object.keys(SECRETS) as (keyof typeof SECRETS)[])(
    'no log line, answer, status or task detail holds %s or a piece of it',
    (name) => {
      const pieces = identifyingPieces(SECRETS[name]);
      // Each text that leaks, once, shown around the first piece found in it.
      const leaks = captured.flatMap((text) => {
        const piece = pieces.find((candidate) => text.includes(candidate));
        if (!piece) return [];
        const at = text.indexOf(piece);
        return [{ piece, around: text.slice(Math.max(0, at - 120), at + 40) }];
      });
      expect(leaks).toEqual([]);
    },
  );
});
