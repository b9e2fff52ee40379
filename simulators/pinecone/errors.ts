/** Pinecone's error bodies, `{code, message, details}` with a gRPC status code, and the failures `failNext()` injects. */
import { HttpError } from '../http';

/** gRPC status codes, which Pinecone's error bodies carry in `code`. */
const GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 3, 429: 8, 500: 13, 501: 12, 503: 14 };

export function pineconeError(status: number, message: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { code: GRPC_CODES[status] ?? 2, message, details: [] }, headers);
}

export const badRequest = (message: string): HttpError => pineconeError(400, message);

export function injectedFailure(status: number, retryAfterSeconds: number | undefined): HttpError {
  return pineconeError(status, injectedMessage(status), retryAfterHeader(retryAfterSeconds));
}

/** The index's own 429, past `rps`; `retryAfter` adds the wait in whole seconds. */
export function tooManyRequests(rps: number, waitMs: number, retryAfter: boolean): HttpError {
  return pineconeError(
    429,
    `Too many requests: the index accepts ${rps} requests per second. Please retry shortly.`,
    retryAfter ? retryAfterHeader(Math.ceil(waitMs / 1000)) : {},
  );
}

function injectedMessage(status: number): string {
  if (status === 429) return 'Too many requests. Please retry shortly.';
  if (status === 503) return 'Service unavailable. Please retry shortly.';
  if (status >= 500) return 'Internal error.';
  return `Injected failure with status ${status}.`;
}

function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}
