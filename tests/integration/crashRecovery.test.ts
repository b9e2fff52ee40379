/**
 * Local mode survives its process: the runtime runs in a child process (persisted, as `npm start`
 * runs it) against the OpenAI and Pinecone simulators in this one. A 4,000-row CSV task is started,
 * embedding is held once some chunks are done, and the child is killed (SIGKILL) or stopped
 * (SIGTERM) with embedder invocations in flight. Started again on the same data directory and
 * ports, it finishes the task by itself: COMPLETED, every row counted once, one vector per row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { connectEmulators } from '../../local/emulators';
import { startOpenAISimulator, type OpenAISimulator } from '../../simulators/openai';
import { startPineconeSimulator, type PineconeSimulator } from '../../simulators/pinecone';
import { GENERATED_HEADER, generatedRow } from '../helpers/generatedCsv';
import { NAMESPACE, OPENAI_KEY, PINECONE_KEY, TEST_API_KEY } from '../helpers/localStack';
import type { RuntimeProcessOptions } from '../helpers/runtimeProcess';

const ROWS = 4000;
const CHUNK_SIZE = 100;
const CSV = GENERATED_HEADER + Array.from({ length: ROWS }, (_, i) => generatedRow(i + 1)).join('');
const EXPECTED_IDS = Array.from({ length: ROWS }, (_, i) => `row-${i + 1}`).sort();
const ENTRY = path.join(__dirname, '../helpers/runtimeProcess.ts');

/**
 * How the embeddings answer: at once, or, after the first few requests, `held` for a time that
 * outlasts the child (killed before) or `slow` enough to be in flight when it is told to stop.
 */
interface Embeddings {
  mode: 'fast' | 'held' | 'slow';
  answeredFast: number;
  delayed: number;
}
const FAST_REQUESTS = 8;
const latencyOf = (embeddings: Embeddings) => () => {
  if (embeddings.mode === 'fast' || embeddings.answeredFast < FAST_REQUESTS) {
    embeddings.answeredFast += 1;
    return 0;
  }
  embeddings.delayed += 1;
  return embeddings.mode === 'held' ? 120_000 : 1_500;
};

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function startChild(options: RuntimeProcessOptions, env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(options)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let errors = '';
  child.stderr!.on('data', (data: Buffer) => (errors += data.toString()));
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (data: Buffer) => {
      pending += data.toString();
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (line === 'ready') resolve({ process: child, lines, exited });
      }
    });
    void exited.then((code) => reject(new Error(`the runtime exited (${code}) before it was ready: ${errors}`)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls (never sleeps as synchronisation) until `check` answers something, or fails after timeoutMs. */
async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('local mode survives its process (runtime in a child process)', () => {
  let openai: OpenAISimulator;
  let pinecone: PineconeSimulator;
  const embeddings: Embeddings = { mode: 'fast', answeredFast: 0, delayed: 0 };
  const children: Child[] = [];
  const dataDirs: string[] = [];

  beforeAll(async () => {
    openai = await startOpenAISimulator({ apiKey: OPENAI_KEY, latencyMs: latencyOf(embeddings) });
    pinecone = await startPineconeSimulator({ apiKey: PINECONE_KEY });
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
  });

  afterAll(async () => {
    await openai?.close();
    await pinecone?.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function setUp() {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-crash-'));
    dataDirs.push(dataDir);
    const options: RuntimeProcessOptions = {
      dataDir,
      port: await freePort(),
      s3Port: await freePort(),
      dynamoPort: await freePort(),
      eventsPort: await freePort(),
    };
    const env = {
      API_KEY: TEST_API_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_REQUESTS_PER_SECOND: '10000',
      PINECONE_API_KEY: PINECONE_KEY,
      PINECONE_INDEX_HOST: pinecone.url,
      PINECONE_NAMESPACE: NAMESPACE,
      CHUNK_SIZE: String(CHUNK_SIZE),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    const start = async () => {
      const child = await startChild(options, env);
      children.push(child);
      return child;
    };
    const api = async (pathAndQuery: string) => {
      const response = await fetch(`http://127.0.0.1:${options.port}${pathAndQuery}`, { headers: { 'x-api-key': TEST_API_KEY } });
      return { status: response.status, body: (await response.json()) as any };
    };
    return { options, start, api };
  }

  /** Starts the task and returns once some records are counted and embedder invocations are waiting on OpenAI. */
  async function startTaskAndHoldMidway(stack: Awaited<ReturnType<typeof setUp>>, mode: Embeddings['mode']): Promise<string> {
    Object.assign(embeddings, { mode, answeredFast: 0, delayed: 0 });
    pinecone.reset();
    const emulators = connectEmulators({
      dynamoEndpoint: `http://127.0.0.1:${stack.options.dynamoPort}`,
      s3Endpoint: `http://127.0.0.1:${stack.options.s3Port}`,
      region: 'us-east-1',
      onObjectCreated: () => undefined,
      close: async () => undefined,
    });
    try {
      await emulators.s3.send(
        new PutObjectCommand({
          Bucket: 'vectordb-catchup-local',
          Key: 'uploads/crash.csv',
          Body: CSV,
          ContentLength: Buffer.byteLength(CSV),
        }),
      );
    } finally {
      await emulators.close();
    }
    const started = await stack.api('/process?data_source=s3_csv&s3_key=uploads/crash.csv');
    expect(started.status).toBe(202);
    const taskId: string = started.body.task_id;
    const midway = await pollUntil('some records processed and embeddings in flight', async () => {
      const { body } = await stack.api(`/status?task_id=${taskId}`);
      return body.records.processed > 0 && embeddings.delayed > 0 ? body : undefined;
    });
    expect(midway.status).toBe('RUNNING');
    expect(midway.records.processed).toBeLessThan(ROWS);
    return taskId;
  }

  async function expectCompletedExactly(stack: Awaited<ReturnType<typeof setUp>>, taskId: string): Promise<void> {
    const status = await pollUntil('the task to end', async () => {
      const { body } = await stack.api(`/status?task_id=${taskId}`);
      return ['PENDING', 'RUNNING'].includes(body.status) ? undefined : body;
    });
    expect(status.status).toBe('COMPLETED');
    expect(status.records).toMatchObject({ total: ROWS, processed: ROWS, skipped: 0, failed: 0 });
    expect(status.chunks).toEqual({ total: ROWS / CHUNK_SIZE, completed: ROWS / CHUNK_SIZE, failed: 0 });
    const detail = await stack.api(`/tasks/${taskId}`);
    expect(detail.body.chunk_states.chunks).toHaveLength(ROWS / CHUNK_SIZE);
    for (const chunk of detail.body.chunk_states.chunks)
      expect(chunk).toMatchObject({ state: 'completed', records: { total: CHUNK_SIZE, processed: CHUNK_SIZE, skipped: 0, failed: 0 } });
    const ids = pinecone.dump(NAMESPACE).map((vector) => vector.id);
    expect(new Set(ids).size).toBe(ROWS);
    expect(ids.sort()).toEqual(EXPECTED_IDS);
  }

  it('killed (SIGKILL) mid-task and started again, finishes the task by itself with every row once', async () => {
    const stack = await setUp();
    const first = await stack.start();
    const taskId = await startTaskAndHoldMidway(stack, 'held');

    first.process.kill('SIGKILL');
    await first.exited;
    embeddings.mode = 'fast';
    const second = await stack.start();
    // The embedder invocations held on OpenAI died with the process: their messages are delivered again.
    expect(second.lines.join('\n')).toMatch(
      /recovered: \d+ message\(s\) in flight when the last run stopped \(.*embedder \d+.*\), delivered again now/,
    );

    await expectCompletedExactly(stack, taskId);
  });

  it('stopped (SIGTERM) mid-task, lets its running handlers finish, says so, and the next start finishes the task', async () => {
    const stack = await setUp();
    const first = await stack.start();
    const taskId = await startTaskAndHoldMidway(stack, 'slow');

    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const said = first.lines.join('\n');
    expect(said).toMatch(/stopping: no new messages received; waiting up to 10 s for [1-9]\d* running handler\(s\)/);
    const [, inFlight, finished] = /stopped: (\d+) message\(s\) were in flight, (\d+) finished, handed back 0/.exec(said) ?? [];
    expect(Number(inFlight)).toBeGreaterThan(0);
    expect(finished).toBe(inFlight);

    embeddings.mode = 'fast';
    const second = await stack.start();
    expect(second.lines.join('\n')).not.toMatch(/recovered:/);
    await expectCompletedExactly(stack, taskId);
  });
});
