/**
 * The `VectorStore` port on the official `@pinecone-database/pinecone` (v9) client.
 *
 * Retries live here, in one place: v9 retries only 5xx (three times, 200 ms base) and never 429,
 * and its errors carry neither the HTTP status (bar inside the message) nor the response headers.
 * So the client's own retries are turned off (`maxRetries: 0`), a wrapping `fetch` notes the
 * status, `retry-after` and body of every answer in the context of the call that sent it, and the
 * adapters' retry policy retries each operation on 429, 5xx and network failures, waiting
 * `retry-after` when Pinecone sends one. A failure ends as a `ProviderError`: a
 * `ProviderRejectedError` for a 400, a `ProviderUnavailableError` once the retries are spent.
 *
 * Upserts, the hot path, bypass the client: their body is written from the Float32Arrays
 * (upsertBody.ts) and posted to the same route with the client's headers and API version, on a
 * kept-alive node:http(s) connection (fetch would copy each ~2 MB body twice before sending it),
 * noted and retried as the client's calls are. The index host is resolved once (the control
 * plane, when only a name is given) for both.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Errors, Pinecone } from '@pinecone-database/pinecone';
import { X_PINECONE_API_VERSION } from '@pinecone-database/pinecone/dist/pinecone-generated-ts-fetch/db_data';
import { buildUserAgent } from '@pinecone-database/pinecone/dist/utils';
import { redactSecrets } from '../../domain/redaction';
import { ConfigurationError, ProviderError, ProviderRejectedError, ProviderUnavailableError, type ProviderFailure } from '../../errors';
import type { Logger, VectorMatch, VectorRecord, VectorStore } from '../../ports';
import { isServerError, retry, retryAfterMs, warnBeforeRetry } from '../retry';
import { upsertBody } from './upsertBody';

/** Six attempts, backing off from 500 ms (to at most 20 s): up to 15.5 s of waiting, retry-afters aside, before an operation fails. */
const PINECONE_RETRY = { attempts: 6, baseMs: 500, capMs: 20_000 } as const;

export interface PineconeVectorStoreOptions {
  apiKey: string;
  /** Resolved to a host through the control plane once, when `indexHost` is not given. */
  indexName?: string;
  /** Data-plane host; a bare host gets `https://`, `http://` (e.g. Pinecone Local, the simulator) is kept. */
  indexHost?: string;
  /** Attempts per operation, the first included (default `PINECONE_RETRY.attempts`). */
  maxAttempts?: number;
  /** First backoff, doubled per attempt up to `maxDelayMs`, then jittered (defaults: `PINECONE_RETRY`). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt (default 30 s): the client sets none, and a hung request would hold a Lambda to its timeout. */
  timeoutMs?: number;
  /** Longest `retry-after` honoured as given; longer ones are cut to this (default 60 s). */
  maxRetryAfterMs?: number;
  /** How to wait between attempts; tests pass one that records the delays. */
  sleep?: (ms: number) => Promise<void>;
  /** Where an attempt about to be retried is one WARN line. */
  logger?: Pick<Logger, 'warn'>;
}

/** What the wrapping fetch saw of the last answer to the current call. */
interface Observed {
  status?: number;
  retryAfterMs?: number;
  message?: string;
}

const MAX_FETCH_IDS = 1000;
/** Ids per delete request (Pinecone's limit). */
const MAX_DELETE_IDS = 1000;
/** Keeps a fetch URL well under the 60 KB of request headers a proxy such as Envoy accepts by default. */
const MAX_FETCH_QUERY_BYTES = 16 * 1024;

export function createPineconeVectorStore(options: PineconeVectorStoreOptions): VectorStore {
  const { apiKey, indexName, timeoutMs = 30_000, maxRetryAfterMs, sleep, logger } = options;
  const budget = {
    attempts: options.maxAttempts ?? PINECONE_RETRY.attempts,
    baseMs: options.baseDelayMs ?? PINECONE_RETRY.baseMs,
    capMs: options.maxDelayMs ?? PINECONE_RETRY.capMs,
  };
  // A trailing slash would double the one that starts every data-plane path.
  const indexHost = options.indexHost?.replace(/\/+$/, '');
  if (!indexHost && !indexName) throw new ConfigurationError('Pinecone needs PINECONE_INDEX_HOST or PINECONE_INDEX_NAME');

  const observed = new AsyncLocalStorage<Observed>();
  const observingFetch: typeof fetch = async (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    const seen = observed.getStore();
    if (seen) {
      seen.status = response.status;
      seen.retryAfterMs = retryAfterMs(response.headers);
      seen.message = response.ok ? undefined : messageOf(await response.clone().text(), response.status);
    }
    return response;
  };
  const pc = new Pinecone({ apiKey, maxRetries: 0, fetchApi: observingFetch });
  // With a host no control-plane call is made; with a name only, the index is described once.
  let host: Promise<string> | undefined;
  const dataPlane = (): Promise<string> =>
    (host ??= (indexHost ? Promise.resolve(indexHost) : pc.describeIndex(indexName as string).then((index) => index.host))
      .then(withScheme)
      .catch((error: unknown) => {
        host = undefined;
        throw error;
      }));
  let index: ReturnType<Pinecone['index']> | undefined;
  const dataIndex = async () => (index ??= pc.index({ host: await dataPlane() }));
  const upsertHeaders = {
    'Api-Key': apiKey,
    'Content-Type': 'application/json',
    'User-Agent': buildUserAgent({}),
    'X-Pinecone-Api-Version': X_PINECONE_API_VERSION,
  };
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const postUpsert = async (body: Buffer): Promise<void> => {
    const url = new URL(`${await dataPlane()}/vectors/upsert`);
    let answer: Answer;
    try {
      answer = await post(url, { ...upsertHeaders, 'Content-Length': String(body.length) }, body, agents, timeoutMs);
    } catch (error) {
      throw new Errors.PineconeConnectionError(error as Error, url.href);
    }
    const ok = answer.status >= 200 && answer.status < 300;
    const seen = observed.getStore();
    if (seen) {
      seen.status = answer.status;
      seen.retryAfterMs = retryAfterMs({ get: (name) => headerValue(answer.headers[name]) });
      // The answer to a success ({"upsertedCount": n}) says nothing the caller needs.
      seen.message = ok ? undefined : messageOf(answer.text, answer.status);
    }
    if (!ok) throw new Error(`HTTP ${answer.status}`);
  };

  const call = <T>(operation: string, run: () => Promise<T>): Promise<T> =>
    retry(
      async (attempt) => {
        const seen: Observed = {};
        try {
          return await observed.run(seen, run);
        } catch (error) {
          throw providerError(error, seen, operation, attempt, apiKey);
        }
      },
      budget,
      {
        retryable: (error) => error instanceof ProviderUnavailableError,
        retryAfter: (error) => (error as ProviderError).retryAfterMs,
        maxRetryAfterMs,
        sleep,
        onRetry: warnBeforeRetry(logger, `Pinecone ${operation}`),
      },
    );

  const namespaceOf = (namespace: string): string | undefined => namespace || undefined;

  return {
    description: `pinecone (index ${indexName ?? indexHost})`,

    async upsert(namespace, records) {
      if (records.length === 0) return;
      const body = upsertBody(records, namespaceOf(namespace));
      await call('upsert', () => postUpsert(body));
    },

    async fetch(namespace, ids) {
      const found = new Map<string, VectorRecord>();
      for (const batch of fetchBatches([...new Set(ids)])) {
        const response = await call('fetch', async () => (await dataIndex()).fetch({ ids: batch, namespace: namespaceOf(namespace) }));
        for (const [id, record] of Object.entries(response.records)) {
          found.set(id, { id, values: Float32Array.from(record.values ?? []), metadata: record.metadata ?? {} });
        }
      }
      return found;
    },

    async delete(namespace, ids) {
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += MAX_DELETE_IDS) {
        const batch = unique.slice(i, i + MAX_DELETE_IDS);
        await call('delete', async () => (await dataIndex()).deleteMany({ ids: batch, namespace: namespaceOf(namespace) }));
      }
    },

    async query(namespace, vector, topK, filter): Promise<VectorMatch[]> {
      const response = await call('query', async () =>
        (await dataIndex()).query({
          vector: Array.from(vector),
          topK,
          includeMetadata: true,
          includeValues: false,
          namespace: namespaceOf(namespace),
          ...(filter ? { filter } : {}),
        }),
      );
      return response.matches.map((match) => ({ id: match.id, score: match.score ?? 0, metadata: match.metadata ?? {} }));
    },
  };
}

/** The client's rule for a host: a bare one gets https://. */
function withScheme(host: string): string {
  return /^https?:\/\//.test(host) ? host : `https://${host}`;
}

/** Splits ids by Pinecone's 1000-id limit and by URL length, since fetch carries them in the query string. */
function fetchBatches(ids: string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const size = `ids=${encodeURIComponent(id)}&`.length;
    if (batch.length > 0 && (batch.length === MAX_FETCH_IDS || bytes + size > MAX_FETCH_QUERY_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(id);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** One attempt's failure, as typed as the answer (if one came) allows; Pinecone's words without the key, as they become a task's error. */
function providerError(error: unknown, seen: Observed, operation: string, attempt: number, apiKey: string): ProviderError {
  const status = seen.status !== undefined && seen.status >= 400 ? seen.status : undefined;
  // No failed answer seen means the request never completed (network failure, timeout): worth retrying.
  const networkFailure = status === undefined && error instanceof Errors.PineconeConnectionError;
  const detail = redactSecrets(seen.message ?? (error instanceof Error ? error.message : String(error)), [apiKey]);
  const message = `Pinecone ${operation} failed${status ? ` with HTTP ${status}` : ''} after ${attempt} attempt(s): ${detail}`;
  const failure: ProviderFailure = { provider: 'pinecone', status, operation, attempts: attempt, retryAfterMs: seen.retryAfterMs };
  if (status === 429 || isServerError(status) || networkFailure) return new ProviderUnavailableError(message, failure, { cause: error });
  // v9 maps a 403 to PineconeBadRequestError too, so the status decides, not the client's class.
  if (status === 400) return new ProviderRejectedError(message, failure, { cause: error });
  return new ProviderError(message, failure, { cause: error });
}

/** Pinecone's data plane answers `{code, message, details}`; other planes nest `error.message`; a 401 may be plain text. */
function messageOf(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    const message = body.error?.message ?? body.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself is the message
  }
  return text || `HTTP ${status}`;
}

/** A status, its headers and its body as text. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One POST of a body already in bytes; a timeout or a broken connection rejects. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  agents: { http: HttpAgent; https: HttpsAgent },
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const request = send(url, { method: 'POST', headers, agent: secure ? agents.https : agents.http }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(parts).toString('utf8') }),
      );
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
