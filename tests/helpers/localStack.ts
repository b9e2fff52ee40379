/**
 * Starts the local runtime against the in-repo OpenAI and Pinecone simulators, reached through
 * the official clients: the integration tests' whole product on one machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ChunkPlanned } from '../../shared/events/types';
import { startOpenAISimulator, type OpenAISimulator, type OpenAISimulatorOptions } from '../../simulators/openai';
import { startPineconeSimulator, type PineconeSimulator, type PineconeSimulatorOptions } from '../../simulators/pinecone';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime';

export const TEST_API_KEY = 'integration-test-key';
export const OPENAI_KEY = 'sk-test-simulator';
export const PINECONE_KEY = 'pcsk-test-simulator';
export const NAMESPACE = 'integration';

export interface LocalStack {
  runtime: LocalRuntime;
  openai: OpenAISimulator;
  pinecone: PineconeSimulator;
  api(pathAndQuery: string, init?: RequestInit & { apiKey?: string | null }): Promise<{ status: number; body: any }>;
  putObject(key: string, body: Buffer | string): Promise<void>;
  /** Polls /status until the task is terminal (the queues settle first). */
  waitForTask(taskId: string): Promise<any>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  openai?: OpenAISimulatorOptions;
  pinecone?: PineconeSimulatorOptions;
  env?: Record<string, string>;
  runtime?: Partial<LocalRuntimeOptions>;
  /**
   * `lancedb`: no PINECONE_API_KEY, so the runtime keeps vectors in LanceDB on disk (under the
   * stack's data directory), as `npm start` does without keys; the Pinecone simulator still runs,
   * unused. Default `pinecone`: the simulator, through the official client.
   */
  vectorStore?: 'pinecone' | 'lancedb';
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const openai = await startOpenAISimulator({ apiKey: OPENAI_KEY, ...options.openai });
  const pinecone = await startPineconeSimulator({ apiKey: PINECONE_KEY, ...options.pinecone });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-test-'));
  const runtime = await startLocalRuntime({
    dataDir,
    env: {
      PATH: process.env.PATH,
      API_KEY: TEST_API_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_REQUESTS_PER_SECOND: '10000',
      OPENAI_MAX_RETRIES: '2',
      ...(options.vectorStore === 'lancedb' ? {} : { PINECONE_API_KEY: PINECONE_KEY, PINECONE_INDEX_HOST: pinecone.url }),
      PINECONE_NAMESPACE: NAMESPACE,
      ...options.env,
    },
    retryDelayMs: () => 10,
    ...options.runtime,
  });

  const api: LocalStack['api'] = async (pathAndQuery, init = {}) => {
    const { apiKey = TEST_API_KEY, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (apiKey !== null) headers.set('x-api-key', apiKey);
    const response = await fetch(`${runtime.apiUrl}${pathAndQuery}`, { ...rest, headers });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  return {
    runtime,
    openai,
    pinecone,
    api,
    async putObject(key, body) {
      await runtime.emulators.s3.send(
        new PutObjectCommand({
          Bucket: runtime.config.bucketName,
          Key: key,
          Body: Buffer.from(body),
          ContentLength: Buffer.byteLength(body),
        }),
      );
    },
    async waitForTask(taskId) {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        await runtime.waitForIdle(60_000);
        const { body } = await api(`/status?task_id=${encodeURIComponent(taskId)}`);
        if (!['PENDING', 'RUNNING'].includes(body?.status)) return body;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`task ${taskId} did not finish`);
    },
    async stop() {
      await runtime.stop();
      await openai.close();
      await pinecone.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A RUNNING task of one JSON Lines chunk holding `rows`, planned (its totals recorded) but with its
 * ChunkPlanned never delivered: what a lost or dead-lettered message leaves. Returns that ChunkPlanned.
 */
export async function plannedOneChunkTask(stack: LocalStack, taskId: string, rows: object[]): Promise<ChunkPlanned> {
  const { deps } = stack.runtime;
  const key = `tasks/${taskId}/chunk-000000.jsonl`;
  await stack.putObject(key, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
  const head = await deps.objects.head(key);
  const request = { schemaVersion: 1 as const, taskId, source: { type: 's3_csv' as const, key: `exports/${taskId}.csv` } };
  await deps.tasks.create({ taskId, dataSource: 's3_csv', namespace: NAMESPACE, request }, new Date());
  await deps.tasks.start(taskId, new Date());
  await deps.tasks.completePlan(taskId, { records: rows.length, chunks: 1 }, new Date());
  return {
    schemaVersion: 1,
    taskId,
    chunkIndex: 0,
    namespace: NAMESPACE,
    dataSource: 's3_csv',
    recordCount: rows.length,
    firstRecordNumber: 1,
    dataset: request.source.key,
    columns: { text: 'formatted_text', id: 'id', date: 'date' },
    source: {
      type: 'jsonl',
      bucket: deps.objects.bucket,
      key,
      etag: head?.etag as string,
      header: Object.keys(rows[0] ?? {}),
      sourceUri: `s3://${deps.objects.bucket}/${key}`,
    },
  };
}
