/**
 * The `Embedder` port on the official `openai` client: one `embed()` is one
 * `POST /embeddings` request. It asks for base64 explicitly, so that the client hands the strings
 * over as they came and each becomes a Float32Array here: the client's own decoding would turn
 * every vector into a number[] of twice the size. The client retries
 * 408/409/429/5xx and connection failures itself, honouring `retry-after-ms` then `retry-after`
 * (up to 60 s) or else backing off exponentially up to 8 s; `maxRetries` sets how often. Batching
 * and cutting inputs to the token limit are the domain's work, not this adapter's.
 *
 * A failure the client gives up on becomes a `ProviderError`: a `ProviderRejectedError` for a
 * 400, a `ProviderUnavailableError` for what outlasted the retries. Each result (and each such
 * error) carries `rateLimit`: the `x-ratelimit-*` headers of the answer and the 429s the client
 * met (and retried) on the way, counted by a fetch wrapper per embed() call, so that the pacer can
 * learn from every 429 even when the client rode it out. The client waits exactly the retry-after
 * it is given (which `retryAfterMs` reads as the client does); the wrapper first waits a random
 * extra part of it (up to a quarter, at most 1 s), so that consumers throttled together do not
 * retry together.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, BadRequestError, OpenAI } from 'openai';
import { readRateLimitHeaders } from '../../domain/pacer';
import { redactSecrets } from '../../domain/redaction';
import { ProviderError, ProviderRejectedError, ProviderUnavailableError, type ProviderFailure } from '../../errors';
import type { Embedder, EmbeddingResult, Logger, Vector } from '../../ports';
import { failureReason } from '../failureReason';
import { isRetryableStatus, retryAfterMs, warnBeforeRetry } from '../retry';

type RateLimit = NonNullable<EmbeddingResult['rateLimit']>;

/** The 429s answered to one embed() call's attempts. */
interface Throttles {
  count: number;
  retryAfterMs?: number;
}

export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** Any OpenAI-compatible server, e.g. the simulator; the client's default is https://api.openai.com/v1. */
  baseURL?: string;
  model?: string;
  dimensions?: number;
  /** Retries by the client after the first attempt (default 6). */
  maxRetries?: number;
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  /** Random in [0, 1) for the retry jitter (tests). */
  random?: () => number;
  /** Where an attempt the client is about to retry is one WARN line. */
  logger?: Pick<Logger, 'warn'>;
}

const DEFAULT_MODEL = 'text-embedding-3-small';
const PROVIDER = 'openai';

export function createOpenAIEmbedder({
  apiKey,
  baseURL,
  model = DEFAULT_MODEL,
  dimensions = 1536,
  maxRetries = 6,
  timeoutMs = 60_000,
  random = Math.random,
  logger,
}: OpenAIEmbedderOptions): Embedder {
  const throttles = new AsyncLocalStorage<Throttles>();
  const warnRetry = warnBeforeRetry(logger, 'OpenAI embeddings');
  // Every attempt goes through here, the client's retries included; 429s count for the call that made them.
  const fetchCountingThrottles = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // The client numbers its retries in this header; past maxRetries it gives up instead.
    const attempt = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? 0) + 1;
    const willRetry = attempt <= maxRetries;
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      // The client retries every failure to get an answer, its own timeouts included.
      if (willRetry) warnRetry?.({ attempt, attempts: maxRetries + 1, error: new Error(`no answer: ${failureReason(error)}`) });
      throw error;
    }
    if (willRetry && clientRetries(response)) {
      warnRetry?.({
        attempt,
        attempts: maxRetries + 1,
        delayMs: retryAfterMs(response.headers),
        error: new Error(`HTTP ${response.status}`),
      });
    }
    if (response.status !== 429) return response;
    const wait = retryAfterMs(response.headers);
    const store = throttles.getStore();
    if (store) {
      store.count += 1;
      store.retryAfterMs = wait;
    }
    if (wait) await delay(Math.min(1000, wait * RETRY_JITTER) * random());
    return response;
  };
  const client = new OpenAI({ apiKey, baseURL, maxRetries, timeout: timeoutMs, fetch: fetchCountingThrottles });
  // Only the text-embedding-3 models accept `dimensions`; others (and many compatible servers) reject it.
  const shortenable = model.startsWith('text-embedding-3');
  return {
    description: `openai ${model} (${dimensions} dims)${baseURL ? ` at ${baseURL}` : ''}`,
    model,
    dimensions,
    async embed(inputs: string[]): Promise<EmbeddingResult> {
      if (inputs.length === 0) return { vectors: [], tokens: 0 };
      const met: Throttles = { count: 0 };
      // What comes over the wire for a base64 request: a compatible server may still send numbers.
      let response: Omit<OpenAI.CreateEmbeddingResponse, 'data'> & { data: { index: number; embedding: string | number[] }[] };
      let headers: Headers;
      try {
        ({
          data: response,
          response: { headers },
        } = await throttles.run(met, () =>
          client.embeddings
            .create({ model, input: inputs, encoding_format: 'base64', ...(shortenable ? { dimensions } : {}) })
            .withResponse(),
        ));
      } catch (error) {
        throw toProviderError(error, met, apiKey);
      }
      const data = [...response.data]
        .sort((a, b) => a.index - b.index)
        .map((item) => ({ index: item.index, embedding: toVector(item.embedding) }));
      if (data.length !== inputs.length || data.some((item, i) => item.index !== i || item.embedding.length !== dimensions)) {
        throw new ProviderError(
          `The embeddings response does not match the request: ${data.length} vectors for ${inputs.length} inputs, ` +
            `expected ${dimensions} dimensions each`,
          { provider: PROVIDER, code: 'unexpected_response' },
        );
      }
      return {
        vectors: data.map((item) => item.embedding),
        tokens: response.usage.total_tokens,
        rateLimit: rateLimitOf(headers, met, false),
      };
    },
  };
}

/** Whether openai-node sends this answer's request again (its `shouldRetry`): as the server says, else 408/409/429/5xx. */
function clientRetries(response: Response): boolean {
  const said = response.headers.get('x-should-retry');
  if (said === 'true' || said === 'false') return said === 'true';
  return isRetryableStatus(response.status);
}

/** A base64 embedding (little-endian float32s, as OpenAI sends them); a server that ignores the requested format sends numbers. */
function toVector(embedding: string | number[]): Vector {
  if (Array.isArray(embedding)) return Float32Array.from(embedding);
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new ProviderError(`The embeddings response holds a base64 vector of ${bytes.length} bytes, not whole float32s`, {
      provider: PROVIDER,
      code: 'unexpected_response',
    });
  }
  // Copied, not viewed: a small Buffer may sit in Node's shared pool at an offset a Float32Array cannot start at.
  const vector = new Float32Array(bytes.length / 4);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}

/** The answer's x-ratelimit-* headers and the 429s met by the call; undefined when there is neither. */
function rateLimitOf(headers: Headers | undefined, met: Throttles, final: boolean): RateLimit | undefined {
  const info: RateLimit = headers ? readRateLimitHeaders((name) => headers.get(name)) : {};
  if (met.count > 0)
    info.rateLimited = { count: met.count, ...(met.retryAfterMs !== undefined ? { retryAfterMs: met.retryAfterMs } : {}), final };
  return Object.keys(info).length > 0 ? info : undefined;
}

/**
 * The client's error as a `ProviderError`, once its own retries are spent; a caller's abort stays
 * as it is. OpenAI's own words go into the message without the key (its 401 quotes the key's
 * start and end), since the message becomes a task's error.
 */
function toProviderError(error: unknown, met: Throttles, apiKey: string): unknown {
  const said = (error as Error).message === undefined ? '' : redactSecrets((error as Error).message, [apiKey]);
  if (error instanceof APIConnectionTimeoutError) {
    const failure: ProviderFailure = { provider: PROVIDER, code: 'timeout' };
    return new ProviderUnavailableError(`OpenAI request timed out: ${said}`, failure, { cause: error });
  }
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) {
    const failure: ProviderFailure = { provider: PROVIDER, code: 'connection_error' };
    return new ProviderUnavailableError(`Could not reach OpenAI: ${said}`, failure, { cause: error });
  }
  if (error instanceof APIError && error.status !== undefined) {
    const code = error.code ?? undefined;
    const message = `OpenAI embeddings request failed: ${said}`;
    const failure: ProviderFailure = {
      provider: PROVIDER,
      status: error.status,
      code,
      type: error.type,
      retryAfterMs: retryAfterMs(error.headers),
      requestId: error.requestID ?? undefined,
      rateLimit: rateLimitOf(error.headers, met, error.status === 429),
    };
    // An exhausted quota is a 429 too, but waiting does not refill it.
    const retryable = isRetryableStatus(error.status) && code !== 'insufficient_quota';
    if (retryable) return new ProviderUnavailableError(message, failure, { cause: error });
    if (error instanceof BadRequestError) return new ProviderRejectedError(message, failure, { cause: error });
    return new ProviderError(message, failure, { cause: error });
  }
  return error;
}

/** The largest random extra wait before the client's retry-after, as a share of it. */
const RETRY_JITTER = 0.25;
