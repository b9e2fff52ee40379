/** What the OpenAI simulator takes and offers. */
import type { Drop } from '../failures';
import type { InFlightStats, RequestStats } from '../stats';

export interface OpenAISimulatorOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; otherwise any key (or none) is accepted. */
  apiKey?: string;
  /** Requests per minute (default 10,000, the tier-5 budget of text-embedding-3-small). */
  rpm?: number;
  /** Tokens per minute (default 10,000,000). */
  tpm?: number;
  /** Seconds of budget a bucket holds (default 60). */
  bucketSeconds?: number;
  /** Delay before each answer, fixed or per request. */
  latencyMs?: number | ((request: { inputs: number; tokens: number }) => number);
  /** Native dimensions of text-embedding-3-small (default 1536). */
  dimensions?: number;
  /** Shown in rate-limit messages, like OpenAI's organisation id. */
  organization?: string;
  /** Clock in milliseconds; tests pass a fixed one to make the rate-limit headers exact. */
  now?: () => number;
  port?: number;
  host?: string;
}

export interface OpenAISimulatorStats extends RequestStats, InFlightStats {
  /** Inputs embedded by successful requests. */
  inputs: number;
  /** Tokens billed by successful requests. */
  tokens: number;
  /** 429s from the buckets (injected failures are not counted here). */
  rateLimited: { requests: number; tokens: number };
  /** Per successful request, in arrival order. */
  inputsPerRequest: number[];
  tokensPerRequest: number[];
}

export interface InjectedFailureOptions {
  /** Sent as `retry-after-ms` (and `retry-after`, rounded up to seconds) with the failure. */
  retryAfterMs?: number;
}

export interface OpenAISimulator {
  /** Base URL including `/v1`, as the client's `baseURL` expects. */
  url: string;
  stats: OpenAISimulatorStats;
  /** Answers the next `count` requests (after authentication) with `status` and OpenAI's body for it. */
  failNext(count: number, status: number, options?: InjectedFailureOptions): void;
  /** Drops the next `count` connections (after authentication) `before` handling them, or `after`: tokens billed, the answer lost. */
  dropNext(count: number, when: Drop): void;
  /** Injected failures and drops no request has met yet. */
  pendingFaults(): number;
  /** Clears stats, pending failures and refills both buckets. */
  reset(): void;
  close(): Promise<void>;
}
