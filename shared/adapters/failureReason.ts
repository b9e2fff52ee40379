/** An error's message, duck typed: errors from Node's own realm are not `instanceof Error` inside a vm context such as jest's. */
export function messageOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/**
 * Why a call got no answer, in a few words: fetch reports "fetch failed" and puts the reason
 * (ECONNREFUSED, a reset, a timeout…) in `cause`.
 */
export function failureReason(error: unknown): string {
  return messageOf((error as { cause?: unknown } | null)?.cause) ?? messageOf(error) ?? String(error);
}
