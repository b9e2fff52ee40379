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
