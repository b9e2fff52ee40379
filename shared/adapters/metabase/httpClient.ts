/**
 * Requests to Metabase: the API key, a deadline per request, retries on network failures and 5xx
 * (by the adapters' retry policy), and every other error status made a `MetabaseError`. A query
 * that fails may answer with any status and a failure object for a body (see rowStream.ts): that
 * is never retried, since it fails the same way again.
 */
import type { Logger } from '../../ports';
import { isServerError, retry, warnBeforeRetry } from '../retry';
import { failureReason } from '../failureReason';
import { MetabaseError, queryFailed } from './metabaseError';
import { bodyText, failureIn, messageIn } from './responseBody';

/** Four attempts, backing off from 200 ms: up to 1.4 s of waiting, so the worst case stays near 4 × the timeout. */
const METABASE_RETRY = { attempts: 4, baseMs: 200, capMs: 5_000 } as const;

export interface MetabaseClientOptions {
  /** METABASE_URL, e.g. https://mb.example.com (a trailing slash is fine). */
  url: string;
  /** METABASE_API_KEY, sent as `x-api-key`. */
  apiKey: string;
  fetchImpl?: typeof fetch;
  /**
   * Longest wait for the response headers (Metabase sends them once the query returns its first
   * rows) and then for each piece of the body (default 120 s). Timeouts are retried like network
   * failures, so the worst case, 4 × 120 s, stays inside a Lambda's 15 minutes.
   */
  timeoutMs?: number;
  /** Further attempts after a network failure or a 5xx (default `METABASE_RETRY.attempts` - 1). */
  connectRetries?: number;
  /** First backoff before a retry; doubled each time (default `METABASE_RETRY.baseMs`). */
  retryBaseMs?: number;
  /** Where an attempt about to be retried is one WARN line. */
  logger?: Pick<Logger, 'warn'>;
}

/** A 2xx answer, and the deadline that now guards the reading of its body. */
export interface Answer {
  response: Response;
  deadline: Deadline;
}

export interface MetabaseClient {
  /** METABASE_URL without its trailing slash. */
  readonly base: string;
  send(path: string, init: RequestInit, questionId: number): Promise<Answer>;
}

/** One attempt that got no usable answer: none at all (`status` undefined, fetch's error as cause), or an error status and its body. */
class AttemptFailure extends Error {
  constructor(
    readonly attempt: number,
    readonly status: number | undefined,
    readonly text: string,
    options?: { cause?: unknown },
  ) {
    super(status === undefined ? `no answer: ${failureReason(options?.cause)}` : `HTTP ${status}`, options);
  }
}

export function createMetabaseClient({
  url,
  apiKey,
  fetchImpl = fetch,
  timeoutMs = 120_000,
  connectRetries = METABASE_RETRY.attempts - 1,
  retryBaseMs = METABASE_RETRY.baseMs,
  logger,
}: MetabaseClientOptions): MetabaseClient {
  const base = url.replace(/\/+$/, '');
  const budget = { ...METABASE_RETRY, attempts: connectRetries + 1, baseMs: retryBaseMs };

  const attemptOnce = async (path: string, init: RequestInit, questionId: number, attempt: number): Promise<Answer> => {
    const deadline = new Deadline(timeoutMs);
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, { ...init, headers: { ...init.headers, 'x-api-key': apiKey }, signal: deadline.signal });
    } catch (error) {
      deadline.clear();
      throw new AttemptFailure(attempt, undefined, '', { cause: error });
    }
    if (response.ok) return { response, deadline };
    try {
      const text = await bodyText(response);
      const failure = failureIn(text);
      if (failure !== undefined) throw queryFailed(questionId, failure, response.status);
      throw new AttemptFailure(attempt, response.status, text);
    } finally {
      deadline.clear();
    }
  };

  /** What a request that got no usable answer reports, once the retries are spent or refused. */
  const metabaseError = ({ attempt, status, text, cause }: AttemptFailure, questionId: number): MetabaseError => {
    if (status === undefined) {
      return new MetabaseError(`Metabase at ${base} is unreachable: ${failureReason(cause)}${after(attempt)}`, 'unreachable', undefined, {
        cause,
      });
    }
    const said = messageIn(text);
    if (status === 401) return new MetabaseError(`Metabase rejected METABASE_API_KEY (HTTP 401)`, 'unauthorized', status);
    if (status === 403) {
      return new MetabaseError(
        `Metabase rejected METABASE_API_KEY for question ${questionId} (HTTP 403)${said ? `: ${said}` : ''}`,
        'unauthorized',
        status,
      );
    }
    if (status === 404) return new MetabaseError(`Metabase has no question ${questionId} (HTTP 404)`, 'not_found', status);
    if (status >= 500 && !said) {
      return new MetabaseError(`Metabase at ${base} is unreachable: HTTP ${status}${after(attempt)}`, 'unreachable', status);
    }
    return queryFailed(questionId, `${said || `HTTP ${status}`}${status >= 500 ? after(attempt) : ''}`, status);
  };

  return {
    base,
    async send(path, init, questionId) {
      try {
        return await retry((attempt) => attemptOnce(path, init, questionId, attempt), budget, {
          retryable: (error) => error instanceof AttemptFailure && (error.status === undefined || isServerError(error.status)),
          onRetry: warnBeforeRetry(logger, `Metabase question ${questionId}`),
        });
      } catch (error) {
        throw error instanceof AttemptFailure ? metabaseError(error, questionId) : error;
      }
    },
  };
}

function after(attempts: number): string {
  return attempts > 1 ? ` (after ${attempts} attempts)` : '';
}

/** Aborts a request when no answer, then no further piece of the body, comes within `ms`. */
export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {
    this.restart();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error(`no answer within ${this.ms} ms`)), this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
