/**
 * Why a call got no answer, in a few words: fetch reports "fetch failed" and puts the reason
 * (ECONNREFUSED, a reset, a timeout…) in `cause`. Duck typed: errors from Node's own realm are not
 * `instanceof Error` inside a vm context such as jest's.
 */
export function failureReason(error: unknown): string {
  const messageOf = (value: unknown): string | undefined => {
    const message = (value as { message?: unknown } | null)?.message;
    return typeof message === 'string' && message !== '' ? message : undefined;
  };
  return messageOf((error as { cause?: unknown } | null)?.cause) ?? messageOf(error) ?? String(error);
}
