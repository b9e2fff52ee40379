/** One root error class; each subclass names a kind of failure and carries its context. */
export class CatchupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or malformed. */
export class ConfigurationError extends CatchupError {}

/** A request or an event does not satisfy its contract; `field` names what is wrong. */
export class InvalidInputError extends CatchupError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** An event on a queue failed its JSON Schema: retrying can never make it valid. */
export class InvalidEventError extends CatchupError {
  constructor(
    message: string,
    readonly eventName: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

export class NotFoundError extends CatchupError {}

/** The source (a CSV object, a Metabase question) cannot be read as a task's records. */
export class SourceError extends CatchupError {}

/** Whether a provider answered 400: the request itself is wrong and retrying cannot help. */
export function isBadRequest(error: unknown): boolean {
  const candidate = error as { status?: unknown; statusCode?: unknown; name?: unknown } | null;
  return candidate?.status === 400 || candidate?.statusCode === 400 || candidate?.name === 'PineconeBadRequestError';
}
