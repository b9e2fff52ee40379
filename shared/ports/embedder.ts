/** The embedding provider (OpenAI, or the offline embedder locally) and the pacer in front of it. */
import type { Vector } from './vectors';

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: Vector[];
  /** Tokens billed for the request (the provider's usage figure). */
  tokens: number;
  /**
   * What the provider said about its budget with this answer (OpenAI's x-ratelimit-* headers;
   * resets in milliseconds) and the 429s it answered before it, which the client retried; the
   * pacer learns from it. Absent when the provider says nothing (the offline embedder).
   */
  rateLimit?: {
    limitRequests?: number;
    remainingRequests?: number;
    resetRequestsMs?: number;
    limitTokens?: number;
    remainingTokens?: number;
    resetTokensMs?: number;
    /** 429s answered to this request: retried by the client, or (`final`) the answer that failed it. */
    rateLimited?: { count: number; retryAfterMs?: number; final?: boolean };
  };
}

export interface Embedder {
  readonly description: string;
  readonly model: string;
  readonly dimensions: number;
  /** Embeds non-empty inputs that each fit the model's token limit, in one provider request. */
  embed(inputs: string[]): Promise<EmbeddingResult>;
}

/** What the provider said about its budget with one answer (all optional: not every server sends them). */
export type RateLimitInfo = NonNullable<EmbeddingResult['rateLimit']>;

export interface RequestPacer {
  /** Resolves when a request of `tokens` tokens may be sent (requests only, when not given). */
  acquire(tokens?: number): Promise<void>;
  /**
   * The most tokens one request should carry now, so that the provider's window absorbs every
   * consumer's at once; Infinity (or absent) when it does not matter. Callers size requests to it.
   */
  requestTokenLimit?(): number;
  /**
   * Learns from an embedding result or a thrown provider error: both may carry `rateLimit`
   * (a RateLimitInfo); anything else is ignored.
   */
  observe?(outcome: unknown): void;
}
