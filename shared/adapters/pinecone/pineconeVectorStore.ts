/**
 * The `VectorStore` port on the official `@pinecone-database/pinecone` (v9) client.
 *
 * Retries live here, in one place: v9 retries only 5xx (three times, 200 ms base) and never 429,
 * and its errors carry neither the HTTP status (bar inside the message) nor the response headers.
 * So the client's own retries are turned off (`maxRetries: 0`), a wrapping `fetch` notes the
 * status, `retry-after` and body of every answer in the context of the call that sent it, and each
 * operation is retried on 429, 5xx and network failures with exponential backoff and jitter,
 * waiting `retry-after` instead when Pinecone sends one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Pinecone, type PineconeRecord } from '@pinecone-database/pinecone';
import { CatchupError, ConfigurationError } from '../../errors';
import type { VectorMatch, VectorRecord, VectorStore } from '../../ports';

export interface PineconeVectorStoreOptions {
  apiKey: string;
  /** Resolved to a host through the control plane once, when `indexHost` is not given. */
  indexName?: string;
  /** Data-plane host; a bare host gets `https://`, `http://` (e.g. Pinecone Local, the simulator) is kept. */
  indexHost?: string;
  /** Attempts per operation, the first included (default 6). */
  maxAttempts?: number;
  /** First backoff (default 500 ms), doubled per attempt up to `maxDelayMs` (default 20 s), then jittered. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt (default 30 s): the client sets none, and a hung request would hold a Lambda to its timeout. */
  timeoutMs?: number;
  /** Longest `retry-after` honoured as given; longer ones are cut to this (default 60 s). */
  maxRetryAfterMs?: number;
  /** How to wait between attempts; tests pass one that records the delays. */
  sleep?: (ms: number) => Promise<void>;
}

/** Pinecone refused or failed an operation, after any retries. */
export class VectorStoreProviderError extends CatchupError {
  constructor(
    message: string,
    readonly operation: string,
    /** HTTP status; undefined when no response arrived. */
    readonly status: number | undefined,
    /** True when the same request may succeed later (throttling, server or network trouble). */
    readonly retryable: boolean,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the wrapping fetch saw of the last answer to the current call. */
interface Observed {
  status?: number;
  retryAfterMs?: number;
  message?: string;
}

const MAX_FETCH_IDS = 1000;
/** Keeps a fetch URL well under the 60 KB of request headers a proxy such as Envoy accepts by default. */
const MAX_FETCH_QUERY_BYTES = 16 * 1024;

export function createPineconeVectorStore(options: PineconeVectorStoreOptions): VectorStore {
  const { apiKey, indexName, maxAttempts = 6, baseDelayMs = 500, maxDelayMs = 20_000, timeoutMs = 30_000, maxRetryAfterMs = 60_000 } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
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
      seen.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      seen.message = response.ok ? undefined : await errorMessage(response.clone());
    }
    return response;
  };
  const pc = new Pinecone({ apiKey, maxRetries: 0, fetchApi: observingFetch });
  // With a host the client makes no control-plane call; with a name only, it describes the index once.
  const index = pc.index(indexHost ? { host: indexHost } : { name: indexName });

  const call = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const seen: Observed = {};
      try {
        return await observed.run(seen, run);
      } catch (error) {
        const status = seen.status !== undefined && seen.status >= 400 ? seen.status : undefined;
        // No failed answer seen means the request never completed (network failure, timeout): worth retrying.
        const networkFailure = status === undefined && isConnectionError(error);
        const retryable = status === 429 || (status !== undefined && status >= 500) || networkFailure;
        if (!retryable || attempt >= maxAttempts) {
          const detail = seen.message ?? (error instanceof Error ? error.message : String(error));
          throw new VectorStoreProviderError(
            `Pinecone ${operation} failed${status ? ` with HTTP ${status}` : ''} after ${attempt} attempt(s): ${detail}`,
            operation,
            status,
            retryable,
            attempt,
            { cause: error },
          );
        }
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        // Half fixed, half random: concurrent callers spread out, and none retries immediately.
        const jittered = backoff / 2 + Math.random() * (backoff / 2);
        await sleep(seen.retryAfterMs !== undefined ? Math.min(seen.retryAfterMs, maxRetryAfterMs) : jittered);
      }
    }
  };

  const namespaceOf = (namespace: string): string | undefined => namespace || undefined;

  return {
    description: `pinecone (index ${indexName ?? indexHost})`,

    async upsert(namespace, records) {
      if (records.length === 0) return;
      // The client serialises plain arrays; a batch's worth is made only for the request.
      const payload: PineconeRecord[] = records.map(({ id, values, metadata }) =>
        Object.keys(metadata).length > 0 ? { id, values: Array.from(values), metadata } : { id, values: Array.from(values) },
      );
      await call('upsert', () => index.upsert({ records: payload, namespace: namespaceOf(namespace) }));
    },

    async fetch(namespace, ids) {
      const found = new Map<string, VectorRecord>();
      for (const batch of fetchBatches([...new Set(ids)])) {
        const response = await call('fetch', () => index.fetch({ ids: batch, namespace: namespaceOf(namespace) }));
        for (const [id, record] of Object.entries(response.records)) {
          found.set(id, { id, values: Float32Array.from(record.values ?? []), metadata: record.metadata ?? {} });
        }
      }
      return found;
    },

    async query(namespace, vector, topK): Promise<VectorMatch[]> {
      const response = await call('query', () =>
        index.query({ vector: Array.from(vector), topK, includeMetadata: true, includeValues: false, namespace: namespaceOf(namespace) }),
      );
      return response.matches.map((match) => ({ id: match.id, score: match.score ?? 0, metadata: match.metadata ?? {} }));
    },
  };
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

function isConnectionError(error: unknown): boolean {
  return error instanceof Error && error.name === 'PineconeConnectionError';
}

/** `retry-after` in seconds (fractions accepted) or as an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Pinecone's data plane answers `{code, message, details}`; other planes nest `error.message`; a 401 may be plain text. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    const message = body.error?.message ?? body.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself is the message
  }
  return text || `HTTP ${response.status}`;
}
