/**
 * The one retry policy of the adapters, after openai-node's (`shouldRetry`, `retryRequest` and
 * `calculateDefaultRetryTimeoutMillis` in https://github.com/openai/openai-node/blob/master/src/client.ts):
 * the caller says which failures are worth sending again; before each retry the policy waits what
 * the provider asked for (`retry-after-ms`, then `retry-after` in seconds or as an HTTP date), cut
 * to a cap, or else a capped exponential backoff with jitter. Each adapter states its own budget.
 * A failure about to be sent again is one WARN line (`warnBeforeRetry`): nobody need act on it;
 * what outlasts the budget is thrown, and the caller decides whether a person must look.
 */
import type { Logger } from '../ports';
import { messageOf } from './failureReason';

/** How often an adapter sends a request, and how long it backs off in between. */
export interface RetryBudget {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Backoff before the first retry, doubled before each further one up to `capMs`. */
  readonly baseMs: number;
  readonly capMs: number;
}

export interface RetryOptions {
  /** Whether a failure may pass when sent again; any other is thrown at once. */
  retryable: (error: unknown) => boolean;
  /** How long the provider asked to wait after this failure, when it said (read with `retryAfterMs`). */
  retryAfter?: (error: unknown) => number | undefined;
  /**
   * Longest retry-after honoured (default 60 s, openai-node's); a longer one is cut to it, where
   * openai-node backs off instead, which would come back far sooner than the provider asked.
   */
  maxRetryAfterMs?: number;
  /** How to wait; tests pass one that records the delays or moves a fake clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Random in [0, 1), for the jitter. */
  random?: () => number;
  /** Told of each failure that is about to be sent again, before the wait (see `warnBeforeRetry`). */
  onRetry?: (notice: RetryNotice) => void;
}

/** A failed attempt that will be sent again. */
export interface RetryNotice {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the next attempt, when known. */
  delayMs?: number;
  error: unknown;
}

const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` (given its number, from 1) until it succeeds, throws what `retryable` refuses, or
 * the budget is spent; then the last failure is thrown as it is.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, budget: RetryBudget, options: RetryOptions): Promise<T> {
  const { retryable, retryAfter, maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS, sleep = realSleep, random = Math.random, onRetry } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= budget.attempts || !retryable(error)) throw error;
      const asked = retryAfter?.(error);
      const delayMs = asked !== undefined ? Math.min(asked, maxRetryAfterMs) : backoffMs(n, budget, random);
      onRetry?.({ attempt: n, attempts: budget.attempts, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/**
 * One WARN line per failure about to be sent again, naming the operation, the attempt and the
 * failure's message, with no stack (ERROR is for what needs a person); nothing without a logger.
 */
export function warnBeforeRetry(logger: Pick<Logger, 'warn'> | undefined, operation: string): ((notice: RetryNotice) => void) | undefined {
  if (!logger) return undefined;
  return ({ attempt, attempts, delayMs, error }) =>
    logger.warn(`${operation} failed; retrying`, {
      attempt,
      attempts,
      ...(delayMs !== undefined ? { retry_in_ms: Math.round(delayMs) } : {}),
      reason: messageOf(error) ?? String(error),
    });
}

/**
 * The wait after failed attempt `n` when the provider named none: base × 2^(n-1), capped, then
 * half of it fixed and half random, so that callers throttled together spread out and none comes
 * back at once.
 */
export function backoffMs(n: number, budget: RetryBudget, random: () => number = Math.random): number {
  const backoff = Math.min(budget.capMs, budget.baseMs * 2 ** (n - 1));
  return backoff / 2 + random() * (backoff / 2);
}

/** Anything with `get(name)`, as fetch's and the clients' `Headers`. */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

/**
 * The wait a response asks for, as openai-node reads it: `retry-after-ms`, then `retry-after` in
 * seconds (fractions accepted) or as an HTTP date; undefined when it names none. Never negative.
 */
export function retryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** 5xx: trouble on the provider's side (or a proxy's in front of it). */
export function isServerError(status: number | undefined): boolean {
  return status !== undefined && status >= 500;
}

/** The statuses openai-node retries: 408 (request timeout), 409 (lock timeout), 429 (rate limit) and 5xx. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === 408 || status === 409 || status === 429 || isServerError(status);
}
