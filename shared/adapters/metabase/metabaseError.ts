/** How the Metabase source fails: one error class, its kinds, and the messages they carry. */
import { redactSecrets } from '../../domain/redaction';
import { SourceError } from '../../errors';

export type MetabaseErrorKind = 'unreachable' | 'unauthorized' | 'not_found' | 'query_failed' | 'bad_response' | 'broken_off';

/**
 * Metabase could not give a question's rows. A `SourceError`, so a task fails with the message;
 * `retryable` says whether the same request may succeed later (Metabase down or overloaded). The
 * message quotes Metabase's own words, so anything in it shaped like a key is redacted.
 */
export class MetabaseError extends SourceError {
  constructor(
    message: string,
    readonly kind: MetabaseErrorKind,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(redactSecrets(message), options);
  }

  override get retryable(): boolean {
    return this.kind === 'unreachable' || this.kind === 'broken_off';
  }
}

export function queryFailed(questionId: number, error: string, status?: number): MetabaseError {
  return new MetabaseError(`Metabase question ${questionId} failed: ${error}`, 'query_failed', status);
}

/** The export stopped before its end with no failure in it: the connection was cut; a new export may go through. */
export function brokenOff(questionId: number, problem: string, status: number, cause?: unknown): MetabaseError {
  return new MetabaseError(`Metabase question ${questionId}: ${problem}`, 'broken_off', status, { cause });
}

export function badResponse(questionId: number, problem: string, status: number, cause?: unknown): MetabaseError {
  return new MetabaseError(`Metabase question ${questionId}: ${problem}`, 'bad_response', status, { cause });
}

/**
 * fetch reports "fetch failed" and puts the reason (ECONNREFUSED, a timeout…) in `cause`. Duck
 * typed: errors from Node's own realm are not `instanceof Error` inside a vm context such as jest's.
 */
export function describe(error: unknown): string {
  const messageOf = (value: unknown): string | undefined => {
    const message = (value as { message?: unknown } | null)?.message;
    return typeof message === 'string' && message !== '' ? message : undefined;
  };
  return messageOf((error as { cause?: unknown } | null)?.cause) ?? messageOf(error) ?? String(error);
}
