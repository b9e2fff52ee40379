/** The CLI's one way to the API: JSON over fetch with the key, and its failures as two kinds of error. */
import type { ApiSettings } from './settings';

/** The API answered with a status the command does not expect. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** No answer at all: nothing listens there, DNS, TLS, a timeout. */
export class UnreachableError extends Error {}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Statuses answered rather than thrown (default 200). */
  expect?: number[];
}

export type ApiClient = ReturnType<typeof createApiClient>;

const TIMEOUT_MS = 30_000;

export function createApiClient(settings: ApiSettings, fetchImpl: typeof fetch = fetch) {
  async function request<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const url = new URL(`${settings.url}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { 'x-api-key': settings.key, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new UnreachableError(unreachableMessage(settings, error as Error));
    }
    const text = await response.text();
    const body = parseBody(text);
    if (!(options.expect ?? [200]).includes(response.status))
      throw new ApiError(response.status, `${method} ${path}: ${response.status} ${errorText(body, response.statusText)}`, body);
    return { status: response.status, body: body as T };
  }
  return {
    get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
    post: <T>(path: string, options?: RequestOptions) => request<T>('POST', path, options),
  };
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** The API's `{error}`, API Gateway's `{message}`, else whatever came. */
export function errorText(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const { error, message } = body as { error?: unknown; message?: unknown };
    if (typeof error === 'string') return error;
    if (typeof message === 'string') return message;
  }
  return typeof body === 'string' && body ? body.slice(0, 200) : fallback;
}

function unreachableMessage(settings: ApiSettings, error: Error): string {
  // fetch's own error says only "fetch failed"; its cause says why.
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const reason = error.name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? error.message);
  const advice = settings.local
    ? 'is the local runtime running? Start it with `npm start` in the repository, or name a deployed stage with --api-url'
    : 'check --api-url (a stage is https://<id>.execute-api.<region>.amazonaws.com/<stage>)';
  return `cannot reach the API at ${settings.url} (${reason}): ${advice}`;
}
