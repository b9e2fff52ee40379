/**
 * The `Embedder` port on the official `openai` client: one `embed()` is one
 * `POST /embeddings` request. The client asks for base64 (its default) and decodes it, and retries
 * 408/409/429/5xx and connection failures itself, honouring `retry-after-ms` then `retry-after`
 * (up to 60 s) or else backing off exponentially up to 8 s; `maxRetries` sets how often. Batching
 * and cutting inputs to the token limit are the domain's work, not this adapter's.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAI } from 'openai';
import { CatchupError } from '../../errors';
import type { Embedder, EmbeddingResult } from '../../ports';

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
}

export interface EmbeddingProviderErrorDetails {
  /** HTTP status; undefined when no response arrived (connection failure, timeout). */
  status?: number;
  /** OpenAI's `error.code`, e.g. `rate_limit_exceeded`, `max_tokens_per_request`, or `timeout` / `connection_error`. */
  code?: string;
  /** OpenAI's `error.type`, e.g. `invalid_request_error`, `tokens`, `requests`. */
  type?: string;
  /** True when the same request may succeed later (throttling, server or network trouble). */
  retryable: boolean;
  /** What the provider asked to wait before the next attempt, when it said. */
  retryAfterMs?: number;
  requestId?: string;
}

/** The provider refused or failed a request after the client's own retries. */
export class EmbeddingProviderError extends CatchupError {
  readonly status?: number;
  readonly code?: string;
  readonly type?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly requestId?: string;

  constructor(message: string, details: EmbeddingProviderErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.status = details.status;
    this.code = details.code;
    this.type = details.type;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }
}

const DEFAULT_MODEL = 'text-embedding-3-small';

export function createOpenAIEmbedder({
  apiKey,
  baseURL,
  model = DEFAULT_MODEL,
  dimensions = 1536,
  maxRetries = 6,
  timeoutMs = 60_000,
}: OpenAIEmbedderOptions): Embedder {
  const client = new OpenAI({ apiKey, baseURL, maxRetries, timeout: timeoutMs });
  // Only the text-embedding-3 models accept `dimensions`; others (and many compatible servers) reject it.
  const shortenable = model.startsWith('text-embedding-3');
  return {
    description: `openai ${model} (${dimensions} dims)${baseURL ? ` at ${baseURL}` : ''}`,
    model,
    dimensions,
    async embed(inputs: string[]): Promise<EmbeddingResult> {
      if (inputs.length === 0) return { vectors: [], tokens: 0 };
      let response: OpenAI.CreateEmbeddingResponse;
      try {
        response = await client.embeddings.create({ model, input: inputs, ...(shortenable ? { dimensions } : {}) });
      } catch (error) {
        throw toProviderError(error);
      }
      const data = [...response.data].sort((a, b) => a.index - b.index);
      if (data.length !== inputs.length || data.some((item, i) => item.index !== i || item.embedding.length !== dimensions)) {
        throw new EmbeddingProviderError(
          `The embeddings response does not match the request: ${data.length} vectors for ${inputs.length} inputs, ` +
            `expected ${dimensions} dimensions each`,
          { code: 'unexpected_response', retryable: false },
        );
      }
      return { vectors: data.map((item) => item.embedding), tokens: response.usage.total_tokens };
    },
  };
}

function toProviderError(error: unknown): unknown {
  if (error instanceof APIConnectionTimeoutError) {
    return new EmbeddingProviderError(`OpenAI request timed out: ${error.message}`, { code: 'timeout', retryable: true }, { cause: error });
  }
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) {
    return new EmbeddingProviderError(`Could not reach OpenAI: ${error.message}`, { code: 'connection_error', retryable: true }, { cause: error });
  }
  if (error instanceof APIError && error.status !== undefined) {
    const code = error.code ?? undefined;
    return new EmbeddingProviderError(
      `OpenAI embeddings request failed: ${error.message}`,
      {
        status: error.status,
        code,
        type: error.type,
        // An exhausted quota is a 429 too, but waiting does not refill it.
        retryable: (RETRYABLE_STATUSES.has(error.status) || error.status >= 500) && code !== 'insufficient_quota',
        retryAfterMs: retryAfterMs(error.headers),
        requestId: error.requestID ?? undefined,
      },
      { cause: error },
    );
  }
  return error;
}

const RETRYABLE_STATUSES = new Set([408, 409, 429]);

/** Reads the headers as the client does: `retry-after-ms`, then `retry-after` in seconds or as a date. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
