import type { EmbeddingResult } from './ports/embedder';

/** One root error class; each subclass names a kind of failure and carries its context. */
export class CatchupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or malformed. */
export class ConfigurationError extends CatchupError {}

/** Something wrong with what a caller asked for; `field` names the parameter at fault. */
export class RequestError extends CatchupError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A request or an event does not satisfy its contract. */
export class InvalidInputError extends RequestError {}

/** A queue message that no retry could make valid (not JSON, not what the queue carries). */
export class InvalidMessageError extends CatchupError {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

/** An event on a queue failed its JSON Schema: retrying can never make it valid. */
export class InvalidEventError extends InvalidMessageError {
  constructor(
    message: string,
    readonly eventName: string,
    problems: string[],
  ) {
    super(message, problems);
  }
}

/** Something a request names does not exist. */
export class NotFoundError extends RequestError {}

/** The request cannot apply to the thing as it is now (a retry of a task that is running). */
export class ConflictError extends RequestError {}

/** The request needs a part this deployment is not configured with (e.g. Metabase). */
export class NotConfiguredError extends RequestError {}

/** What a request names exists but cannot be used as asked (e.g. an empty CSV object). */
export class UnusableInputError extends RequestError {}

/**
 * The source (a CSV object, a Metabase question) cannot be read as a task's records. `retryable`:
 * reading it again may work (an export cut off mid-stream), so planning is retried, not failed.
 */
export class SourceError extends CatchupError {
  get retryable(): boolean {
    return false;
  }
}

/** What an adapter learnt of a provider's failed request; each fills in what its provider says. */
export interface ProviderFailure {
  /** Who failed it: `openai`, `pinecone`, `eventbridge`, `dynamodb`. */
  provider: string;
  /** HTTP status; undefined when no answer arrived (connection failure, timeout). */
  status?: number;
  /** Which call failed, where the provider has several (e.g. Pinecone's `upsert`). */
  operation?: string;
  /** Attempts made, the first included, where the adapter retries itself. */
  attempts?: number;
  /** The provider's code for the failure (e.g. OpenAI's `rate_limit_exceeded`), or `timeout` / `connection_error`. */
  code?: string;
  /** The provider's kind of failure (e.g. OpenAI's `invalid_request_error`, `requests`). */
  type?: string;
  /** What the provider asked to wait before the next attempt, when it said. */
  retryAfterMs?: number;
  requestId?: string;
  /** The answer's rate-limit headers and the 429s met on the way (`final` when a 429 ended it): the pacer learns from them. */
  rateLimit?: NonNullable<EmbeddingResult['rateLimit']>;
}

/**
 * A provider refused or failed a request, after any retries. This class itself is a refusal that
 * neither retrying nor dropping the offending input fixes (a refused key, a missing index); the
 * subclasses below are the other two cases.
 */
export class ProviderError extends CatchupError {
  readonly provider: string;
  readonly status?: number;
  readonly operation?: string;
  readonly attempts?: number;
  readonly code?: string;
  readonly type?: string;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  readonly rateLimit?: ProviderFailure['rateLimit'];
  /** True when the same request may succeed later (throttling, server or network trouble). */
  readonly retryable: boolean = false;

  constructor(message: string, failure: ProviderFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.provider = failure.provider;
    this.status = failure.status;
    this.operation = failure.operation;
    this.attempts = failure.attempts;
    this.code = failure.code;
    this.type = failure.type;
    this.retryAfterMs = failure.retryAfterMs;
    this.requestId = failure.requestId;
    this.rateLimit = failure.rateLimit;
  }
}

/** The provider rejected the request itself (HTTP 400): sent again it fails again, so only the input at fault should fail. */
export class ProviderRejectedError extends ProviderError {}

/** The provider stayed throttled, failing or unreachable through every attempt: the same request may succeed later. */
export class ProviderUnavailableError extends ProviderError {
  override readonly retryable = true;
}

/** Whether a provider rejected the request itself: retrying cannot help, but sending less may. */
export function isBadRequest(error: unknown): boolean {
  return error instanceof ProviderRejectedError;
}
