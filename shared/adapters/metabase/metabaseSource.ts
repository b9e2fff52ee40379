/**
 * The `QuestionSource` port on Metabase's export endpoint, `POST /api/card/:id/query/json`, which
 * has no 2,000-row cap. The body (a JSON array of row objects keyed by column display names) is
 * parsed as it arrives and rows are yielded one by one, so memory stays flat however large the
 * result.
 *
 * What Metabase does that shapes this code (checked against its source):
 * - The HTTP status is committed before the query has finished, so a failed query can answer 202
 *   or 200 with a body `{"status":"failed","error":...}` instead of an array (the newest versions
 *   answer 500 with that body). The first bytes of the body decide.
 * - A query that fails after rows were sent either appends that object to the partial array or
 *   closes the connection: either way the array never closes, which is an error here, never a
 *   short result. The last row parsed is held back until the next one (or the end of the array)
 *   proves it is a row and not the start of such a failure.
 * - Current versions require each parameter's `id` to be the id of the card parameter it fills, so
 *   the card is read first (`GET /api/card/:id`) to find the date parameter's id and target.
 * - The form encoding (`parameters=<json>`) is what every version accepts; a JSON body only newer ones.
 */
import { JSONParser } from '@streamparser/json';
import { setTimeout as sleep } from 'node:timers/promises';
import { SourceError } from '../../errors';
import type { QuestionSource } from '../../ports';
import type { Config } from '../../config';

export type MetabaseErrorKind = 'unreachable' | 'unauthorized' | 'not_found' | 'query_failed' | 'bad_response';

/**
 * Metabase could not give a question's rows. A `SourceError`, so a task fails with the message;
 * `retryable` says whether the same request may succeed later (Metabase down or overloaded).
 */
export class MetabaseError extends SourceError {
  readonly retryable: boolean;

  constructor(
    message: string,
    readonly kind: MetabaseErrorKind,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = kind === 'unreachable';
  }
}

export interface MetabaseSourceOptions {
  /** METABASE_URL, e.g. https://mb.example.com (a trailing slash is fine). */
  url: string;
  /** METABASE_API_KEY, sent as `x-api-key`. */
  apiKey: string;
  /** The question's date template tag that `startDate` fills, and the parameter type to send. */
  dateParameter?: { name: string; type: string };
  fetchImpl?: typeof fetch;
  /**
   * Longest wait for the response headers (Metabase sends them once the query returns its first
   * rows) and then for each piece of the body (default 120 s). Timeouts are retried like network
   * failures, so the worst case, 4 × 120 s, stays inside a Lambda's 15 minutes.
   */
  timeoutMs?: number;
  /** Further attempts after a network failure or a 5xx (default 3). */
  connectRetries?: number;
  /** First backoff before a retry; doubled each time (default 200 ms). */
  retryBaseMs?: number;
}

type Row = Record<string, unknown>;

interface CardParameter {
  id?: unknown;
  target?: unknown;
  name?: unknown;
  slug?: unknown;
}

/** Error bodies are small; a failure object with a stack trace is tens of KB. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const FAILED = /"status"\s*:\s*"failed"/;
/** How many `{` before a failure marker are tried as the start of the failure object. */
const FAILURE_STARTS_TRIED = 50;

export function createMetabaseSource({
  url,
  apiKey,
  dateParameter = { name: 'start_date', type: 'date/single' },
  fetchImpl = fetch,
  timeoutMs = 120_000,
  connectRetries = 3,
  retryBaseMs = 200,
}: MetabaseSourceOptions): QuestionSource {
  const base = url.replace(/\/+$/, '');

  /**
   * One request, retried on network failures and 5xx (except a failed query, which fails the same
   * way again), with each 4xx made a `MetabaseError`. Returns a 2xx response and its deadline.
   */
  const send = async (path: string, init: RequestInit, questionId: number): Promise<{ response: Response; deadline: Deadline }> => {
    for (let attempt = 0; ; attempt++) {
      const deadline = new Deadline(timeoutMs);
      const last = attempt >= connectRetries;
      let response: Response;
      try {
        response = await fetchImpl(`${base}${path}`, { ...init, headers: { ...init.headers, 'x-api-key': apiKey }, signal: deadline.signal });
      } catch (error) {
        deadline.clear();
        if (last) throw new MetabaseError(`Metabase at ${base} is unreachable: ${describe(error)}${attempts(attempt)}`, 'unreachable', undefined, { cause: error });
        await sleep(retryBaseMs * 2 ** attempt);
        continue;
      }
      if (response.ok) return { response, deadline };
      try {
        const text = await bodyText(response);
        const failure = failureIn(text);
        if (failure !== undefined) throw queryFailed(questionId, failure, response.status);
        if (response.status >= 500 && !last) {
          await sleep(retryBaseMs * 2 ** attempt);
          continue;
        }
        throw httpError(response.status, text, questionId, attempt);
      } finally {
        deadline.clear();
      }
    }
  };

  const httpError = (status: number, text: string, questionId: number, attempt: number): MetabaseError => {
    const said = messageIn(text);
    if (status === 401) return new MetabaseError(`Metabase rejected METABASE_API_KEY (HTTP 401)`, 'unauthorized', status);
    if (status === 403) {
      return new MetabaseError(`Metabase rejected METABASE_API_KEY for question ${questionId} (HTTP 403)${said ? `: ${said}` : ''}`, 'unauthorized', status);
    }
    if (status === 404) return new MetabaseError(`Metabase has no question ${questionId} (HTTP 404)`, 'not_found', status);
    if (status >= 500 && !said) {
      return new MetabaseError(`Metabase at ${base} is unreachable: HTTP ${status}${attempts(attempt)}`, 'unreachable', status);
    }
    return queryFailed(questionId, `${said || `HTTP ${status}`}${status >= 500 ? attempts(attempt) : ''}`, status);
  };

  /** The request parameter for the date tag, with the id and target the card gives it. */
  const dateParameterFor = async (questionId: number, startDate: string): Promise<Record<string, unknown>> => {
    const { response, deadline } = await send(`/api/card/${questionId}`, { method: 'GET' }, questionId);
    let card: unknown;
    try {
      card = JSON.parse(await bodyText(response));
    } catch (error) {
      throw new MetabaseError(`Metabase question ${questionId}: GET ${base}/api/card/${questionId} did not answer JSON`, 'bad_response', response.status, {
        cause: error,
      });
    } finally {
      deadline.clear();
    }
    const { name, type } = dateParameter;
    const found = cardParameter(card, name);
    if (!found) {
      const known = cardParameterNames(card);
      // Metabase would fail the query the same way ("does not have a template tag named …"); this says what to change.
      throw new MetabaseError(
        `Metabase question ${questionId} has no "${name}" parameter to take start_date (its parameters: ${known.length ? known.join(', ') : 'none'}); ` +
          'set METABASE_DATE_PARAMETER to its date template tag',
        'query_failed',
      );
    }
    return { id: found.id, type, target: found.target, value: startDate };
  };

  async function* rows(questionId: number, options: { startDate?: string } = {}): AsyncGenerator<Row> {
    const parameters = options.startDate === undefined ? undefined : [await dateParameterFor(questionId, options.startDate)];
    const form = new URLSearchParams(parameters ? { parameters: JSON.stringify(parameters) } : {});
    const { response, deadline } = await send(
      `/api/card/${questionId}/query/json`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
      questionId,
    );
    try {
      yield* parseRows(response, deadline, questionId);
    } finally {
      deadline.clear();
    }
  }

  /** Yields each element of the top-level array once the next one (or the array's end) is parsed: see the module comment. */
  async function* parseRows(response: Response, deadline: Deadline, questionId: number): AsyncGenerator<Row> {
    if (!response.body) throw badResponse(questionId, 'the response has no body', response.status);
    const iterator = response.body[Symbol.asyncIterator]();
    const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
    const parsed: unknown[] = [];
    parser.onValue = ({ value }) => {
      parsed.push(value);
    };
    let held: { value: unknown } | undefined;
    let count = 0;
    let sniffed = false;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      try {
        return await iterator.next();
      } catch (error) {
        const failure = held ? failureOf(held.value) : undefined;
        if (failure !== undefined) throw queryFailed(questionId, failure, response.status);
        throw badResponse(questionId, `the response broke off after ${count} rows (${describe(error)}); the query may have failed mid-stream`, response.status, error);
      }
    };
    try {
      for (let step = await next(); !step.done; step = await next()) {
        deadline.restart();
        const chunk = step.value;
        if (!sniffed) {
          const first = chunk.findIndex((byte) => !WHITESPACE.has(byte));
          if (first < 0) continue;
          sniffed = true;
          // An object where the array should be is a failure, whatever the status said.
          if (chunk[first] !== OPEN_BRACKET) throw await notAnArray(chunk, next, questionId, response.status);
        }
        try {
          parser.write(chunk);
        } catch (error) {
          throw await brokenArray(chunk, next, questionId, count, response.status, error);
        }
        for (const value of parsed) {
          if (held) {
            yield asRow(held.value, count, questionId, response.status);
            count++;
          }
          held = { value };
        }
        parsed.length = 0;
      }
      if (!parser.isEnded) {
        const failure = held ? failureOf(held.value) : undefined;
        if (failure !== undefined) throw queryFailed(questionId, failure, response.status);
        throw badResponse(questionId, `the response ended after ${count} rows without closing its JSON array; the query may have failed mid-stream`, response.status);
      }
      if (held) yield asRow(held.value, count, questionId, response.status);
    } finally {
      // Cancels the body when the consumer stops early; an already failed body has nothing to cancel.
      await iterator.return?.().catch(() => undefined);
    }
  }

  return {
    description: `metabase at ${base}`,
    rows,
  };
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const OPEN_BRACKET = 0x5b;

/** Aborts a request when no answer, then no further piece of the body, comes within `ms`. */
class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {
    this.restart();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error(`no answer within ${this.ms} ms`)), this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** The body as text, cut at MAX_ERROR_BODY_BYTES (the rest is discarded). */
async function bodyText(response: Response): Promise<string> {
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
async function restOf(chunk: Uint8Array, next: () => Promise<IteratorResult<Uint8Array>>): Promise<string> {
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

async function notAnArray(chunk: Uint8Array, next: () => Promise<IteratorResult<Uint8Array>>, questionId: number, status: number): Promise<MetabaseError> {
  const text = await restOf(chunk, next);
  const failure = failureIn(text);
  if (failure !== undefined) return queryFailed(questionId, failure, status);
  const said = messageIn(text);
  return badResponse(questionId, `expected a JSON array of rows, got ${said ? `"${said}"` : JSON.stringify(text.trim().slice(0, 200))}`, status);
}

async function brokenArray(
  chunk: Uint8Array,
  next: () => Promise<IteratorResult<Uint8Array>>,
  questionId: number,
  count: number,
  status: number,
  cause: unknown,
): Promise<MetabaseError> {
  const failure = failureIn(await restOf(chunk, next));
  if (failure !== undefined) return queryFailed(questionId, failure, status);
  return badResponse(questionId, `the response is not valid JSON after ${count} rows (${describe(cause)})`, status, cause);
}

function asRow(value: unknown, index: number, questionId: number, status: number): Row {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Row;
  throw badResponse(questionId, `row ${index + 1} is ${JSON.stringify(value)}, not an object of columns`, status);
}

/** The error of a Metabase failure object, or undefined when `value` is not one. */
function failureOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || (value as { status?: unknown }).status !== 'failed') return undefined;
  const { error, message } = value as { error?: unknown; message?: unknown };
  const text = error ?? message;
  return text === undefined || text === null ? 'the query failed (Metabase gave no reason)' : String(text);
}

/**
 * Finds a failure object in `text`, which may start with rows: it is the last thing Metabase
 * writes, so it is the JSON value from some `{` before its `"status":"failed"` to the end.
 */
function failureIn(text: string): string | undefined {
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
function messageIn(text: string): string {
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

function cardParameter(card: unknown, name: string): { id: string; target: unknown } | undefined {
  const { parameters, dataset_query: query } = (card ?? {}) as { parameters?: unknown; dataset_query?: unknown };
  if (Array.isArray(parameters)) {
    for (const parameter of parameters as CardParameter[]) {
      if (typeof parameter.id === 'string' && tagOf(parameter.target) === name) return { id: parameter.id, target: parameter.target };
    }
  }
  // Cards saved before card-level parameters existed list only their template tags.
  const tag = templateTags(query).find((candidate) => candidate.name === name);
  if (tag && typeof tag.id === 'string') {
    return { id: tag.id, target: [tag.type === 'dimension' ? 'dimension' : 'variable', ['template-tag', name]] };
  }
  return undefined;
}

function cardParameterNames(card: unknown): string[] {
  const { parameters, dataset_query: query } = (card ?? {}) as { parameters?: unknown; dataset_query?: unknown };
  const fromParameters = Array.isArray(parameters) ? (parameters as CardParameter[]).map((parameter) => tagOf(parameter.target) ?? parameter.slug ?? parameter.name) : [];
  const names = [...fromParameters, ...templateTags(query).map((tag) => tag.name)];
  return [...new Set(names.filter((name): name is string => typeof name === 'string'))];
}

/** Template tags of a native query: `native["template-tags"]` (legacy MBQL) or `stages[*]["template-tags"]` (MBQL 5), as a map or a list. */
function templateTags(query: unknown): Array<{ name?: unknown; id?: unknown; type?: unknown }> {
  const { native, stages } = (query ?? {}) as { native?: { 'template-tags'?: unknown }; stages?: Array<{ 'template-tags'?: unknown }> };
  const sources = [native?.['template-tags'], ...(Array.isArray(stages) ? stages.map((stage) => stage?.['template-tags']) : [])];
  return sources.flatMap((tags) => {
    if (Array.isArray(tags)) return tags;
    if (typeof tags === 'object' && tags !== null) return Object.entries(tags).map(([name, tag]) => ({ name, ...(tag as object) }));
    return [];
  });
}

/** The tag name in `["variable"|"dimension", ["template-tag", name]]`. */
function tagOf(target: unknown): string | undefined {
  if (!Array.isArray(target)) return undefined;
  const ref = target[1] as unknown;
  return Array.isArray(ref) && ref[0] === 'template-tag' && typeof ref[1] === 'string' ? ref[1] : undefined;
}

function queryFailed(questionId: number, error: string, status?: number): MetabaseError {
  return new MetabaseError(`Metabase question ${questionId} failed: ${error}`, 'query_failed', status);
}

function badResponse(questionId: number, problem: string, status: number, cause?: unknown): MetabaseError {
  return new MetabaseError(`Metabase question ${questionId}: ${problem}`, 'bad_response', status, { cause });
}

function attempts(retries: number): string {
  return retries > 0 ? ` (after ${retries + 1} attempts)` : '';
}

/**
 * fetch reports "fetch failed" and puts the reason (ECONNREFUSED, a timeout…) in `cause`. Duck
 * typed: errors from Node's own realm are not `instanceof Error` inside a vm context such as jest's.
 */
function describe(error: unknown): string {
  const messageOf = (value: unknown): string | undefined => {
    const message = (value as { message?: unknown } | null)?.message;
    return typeof message === 'string' && message !== '' ? message : undefined;
  };
  return messageOf((error as { cause?: unknown } | null)?.cause) ?? messageOf(error) ?? String(error);
}

/** The configured Metabase, or undefined when METABASE_URL or METABASE_API_KEY is not set. */
export function metabaseFrom(config: Config): QuestionSource | undefined {
  const { url, apiKey, dateParameter } = config.metabase;
  return url && apiKey ? createMetabaseSource({ url, apiKey, dateParameter }) : undefined;
}
