/**
 * Reading what Metabase's bodies say when they are not rows: an error message, or the failure
 * object (`{"status":"failed","error":...}`) Metabase writes when a query fails, which may come
 * with any status and even after some rows (see rowStream.ts).
 */

/** Error bodies are small; a failure object with a stack trace is tens of KB. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const FAILED = /"status"\s*:\s*"failed"/;
/** How many `{` before a failure marker are tried as the start of the failure object. */
const FAILURE_STARTS_TRIED = 50;

/** The body as text, cut at MAX_ERROR_BODY_BYTES (the rest is discarded). */
export async function bodyText(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ERROR_BODY_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads what follows `chunk` (bounded) when the body turned out not to be a row array. */
export async function restOf(chunk: Uint8Array, next: () => Promise<IteratorResult<Uint8Array>>): Promise<string> {
  const chunks = [chunk];
  let size = chunk.length;
  while (size < MAX_ERROR_BODY_BYTES) {
    const step = await next();
    if (step.done) break;
    chunks.push(step.value);
    size += step.value.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The error of a Metabase failure object, or undefined when `value` is not one. */
export function failureOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || (value as { status?: unknown }).status !== 'failed') return undefined;
  const { error, message } = value as { error?: unknown; message?: unknown };
  const text = error ?? message;
  return text === undefined || text === null ? 'the query failed (Metabase gave no reason)' : String(text);
}

/**
 * Finds a failure object in `text`, which may start with rows: it is the last thing Metabase
 * writes, so it is the JSON value from some `{` before its `"status":"failed"` to the end.
 */
export function failureIn(text: string): string | undefined {
  const marker = text.search(FAILED);
  if (marker < 0) return undefined;
  let start = text.lastIndexOf('{', marker);
  for (let tried = 0; start >= 0 && tried < FAILURE_STARTS_TRIED; tried++) {
    try {
      const failure = failureOf(JSON.parse(text.slice(start)));
      if (failure !== undefined) return failure;
    } catch {
      // Not the start of the failure object (or it was cut off): try the `{` before.
    }
    start = text.lastIndexOf('{', start - 1);
  }
  return 'the query failed (the failure report could not be read)';
}

/** What an error body says: a JSON `message`/`error`, or short plain text such as `Unauthenticated`. */
export function messageIn(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'string') return body;
    const said = (body as { message?: unknown; error?: unknown } | null)?.message ?? (body as { error?: unknown } | null)?.error;
    if (typeof said === 'string') return said;
  } catch {
    // Plain text (Metabase answers 401/403/404 that way) or HTML from a proxy.
  }
  const trimmed = text.trim();
  return trimmed.length > 0 && trimmed.length <= 300 && !trimmed.startsWith('<') ? trimmed : '';
}
