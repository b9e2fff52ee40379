/**
 * The HTTP edge: a middy handler with the API key check (constant time, one answer for a missing
 * and a wrong key), JSON bodies, and the one place where errors become status codes (STATUS_OF
 * below). 5xx details are logged, never sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  CatchupError,
  ConflictError,
  InvalidInputError,
  NotConfiguredError,
  NotFoundError,
  RequestError,
  UnusableInputError,
} from '../errors';
import { publishMetrics } from '../metrics';
import type { Dependencies, DependencyProvider } from '../ports';

/** A failure of the HTTP exchange itself (a body of the wrong kind): raised by the edge only. */
export class HttpProblem extends CatchupError {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The status of each domain error a use case may raise; the body names the parameter at fault. */
const STATUS_OF: [new (...args: never[]) => RequestError, number][] = [
  [InvalidInputError, 400],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnusableInputError, 422],
  [NotConfiguredError, 503],
];

export interface JsonResponse {
  statusCode: number;
  body: unknown;
}

export type HttpEvent = Omit<APIGatewayProxyEvent, 'body'> & { body: unknown };
export type RouteHandler = (event: HttpEvent, deps: Dependencies) => Promise<JsonResponse>;
export type HttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export function createHttpHandler(route: RouteHandler, provide: DependencyProvider): HttpHandler {
  let chain: Promise<HttpHandler> | undefined;
  return async (event, context) => {
    chain ??= buildChain(route, provide);
    try {
      return await (
        await chain
      )(event, context);
    } finally {
      publishMetrics();
    }
  };
}

/**
 * middy ships only ES modules behind an import-only exports map: a dynamic import loads it the
 * same way under tsx (local mode), jest and the Lambda bundle.
 */
async function buildChain(route: RouteHandler, provide: DependencyProvider): Promise<HttpHandler> {
  const { default: middy } = await import('@middy/core');
  const { default: httpJsonBodyParser } = await import('@middy/http-json-body-parser');
  let deps: Dependencies | undefined;
  const core = async (event: HttpEvent): Promise<APIGatewayProxyResult> => {
    const response = await route(event, deps as Dependencies);
    return json(response.statusCode, response.body);
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use({
      before: async function loadDependencies() {
        deps = await provide();
      },
    })
    .use({ before: async (request) => checkApiKey(request.event, await (deps as Dependencies).apiKey()) })
    .use(httpJsonBodyParser({ disableContentTypeError: true }))
    .use({
      onError: async function errorToResponse(request) {
        request.response = errorResponse(request.error, deps);
      },
    })
    .handler(core as never) as unknown as HttpHandler;
}

/** A missing or wrong x-api-key: the two are told apart nowhere, neither in the answer nor in its timing. */
class KeyRefused extends CatchupError {}

/**
 * What API Gateway answers a method that requires a key when the key is missing or wrong, status,
 * body and headers: the function answers the same, so that local mode and AWS agree.
 */
const KEY_REFUSED: APIGatewayProxyResult = {
  statusCode: 403,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' },
  body: JSON.stringify({ message: 'Forbidden' }),
};

function checkApiKey(event: APIGatewayProxyEvent, expected: string | undefined): void {
  if (!expected) return;
  // A missing key is compared too (as ''), so that it takes the time a wrong one does.
  if (!sameSecret(header(event, 'x-api-key') ?? '', expected)) throw new KeyRefused('x-api-key missing or wrong');
}

/** Compares digests, so neither the content nor the length of the key leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The `{task_id}` of a route's path, required. Task ids hold no '%', so decoding is right whether
 * or not the gateway decoded the segment already (API Gateway may pass `:` as `%3A`).
 */
export function pathTaskId(event: Pick<APIGatewayProxyEvent, 'pathParameters'>): string {
  const segment = event.pathParameters?.task_id;
  let taskId: string | undefined;
  try {
    taskId = segment && decodeURIComponent(segment).trim();
  } catch {
    throw new InvalidInputError('task_id is not a well-formed URL path segment', 'task_id');
  }
  if (!taskId) throw new InvalidInputError('task_id is required', 'task_id');
  return taskId;
}

export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1] ?? undefined;
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function errorResponse(error: unknown, deps: Dependencies | undefined): APIGatewayProxyResult {
  if (error instanceof KeyRefused) return { ...KEY_REFUSED, headers: { ...KEY_REFUSED.headers } };
  if (error instanceof HttpProblem) return json(error.statusCode, { error: error.message });
  const mapped = STATUS_OF.find(([type]) => error instanceof type);
  if (mapped && error instanceof RequestError)
    return json(mapped[1], { error: error.message, ...(error.field ? { parameter: error.field } : {}) });
  const status = (error as { statusCode?: number }).statusCode;
  // middy's own errors (e.g. malformed JSON, 422) are meant to be shown.
  if (status && status < 500) return json(status, { error: (error as Error).message });
  deps?.logger.error('request failed', { error: error as Error });
  return json(500, { error: 'internal error; see the service logs' });
}
