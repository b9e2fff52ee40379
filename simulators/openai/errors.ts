/** OpenAI's error bodies (`{error: {message, type, param, code}}`), and the failures `failNext()` injects. */
import { HttpError } from '../http';

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function apiError(
  status: number,
  message: string,
  fields: Partial<ApiErrorBody['error']> = {},
  headers?: Record<string, string>,
): HttpError {
  const body: ApiErrorBody = { error: { message, type: 'invalid_request_error', param: null, code: null, ...fields } };
  return new HttpError(status, body, headers);
}

export function injectedFailure(status: number, retryAfterMs: number | undefined): HttpError {
  const headers = retryAfterMs === undefined ? {} : retryAfterHeaders(retryAfterMs);
  if (status === 429) {
    return apiError(
      429,
      'Rate limit reached for requests. Please try again later.',
      { type: 'requests', code: 'rate_limit_exceeded' },
      headers,
    );
  }
  if (status >= 500) return serverError(status, headers);
  return apiError(status, `Injected failure with status ${status}.`, {}, headers);
}

function serverError(status: number, headers: Record<string, string> = {}): HttpError {
  const message =
    status === 503
      ? 'The server is overloaded or not ready yet.'
      : 'The server had an error while processing your request. Sorry about that!';
  return apiError(status, message, { type: 'server_error' }, headers);
}

export function retryAfterHeaders(waitMs: number): Record<string, string> {
  return { 'retry-after-ms': String(Math.ceil(waitMs)), 'retry-after': String(Math.ceil(waitMs / 1000)) };
}
