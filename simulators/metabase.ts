/**
 * An in-repo simulator of the Metabase endpoints that run a saved question (a "card"), for tests,
 * local runs and benchmarks. It keeps what a client has to cope with, as checked against
 * Metabase's source (src/metabase/queries/api/card.clj, query_processor/streaming/json.clj,
 * server/streaming_response.clj, server/middleware/exceptions.clj):
 *
 * - `POST /api/card/:id/query/json` and `/query/csv` (the export endpoints: no 2,000-row cap) take
 *   `parameters` as a JSON body `{"parameters": [...]}` or as the form field `parameters=<json>`
 *   (`application/x-www-form-urlencoded`, what Metabase's own download buttons send). The JSON
 *   export is an array of row objects keyed by column display names, written row by row
 *   (`[\n{...},\n{...}\n]`) and streamed with backpressure, so a client that waits for the whole
 *   body is visible in `stats`.
 * - `POST /api/card/:id/query` (the non-export endpoint) answers `{data: {rows, cols}, ...}` with at
 *   most 2,000 rows and only a JSON body.
 * - `GET /api/card/:id` describes the card, including its `parameters` with their ids: current
 *   Metabase requires each request parameter to carry the `id` of the card parameter it fills.
 * - `x-api-key` authenticates (401 plain-text `Unauthenticated` otherwise); an unknown card is a
 *   plain-text 404 `Not found.`, a card the key may not read a plain-text 403; a parameter for a
 *   template tag the card does not have is a 500 whose JSON `message` says so.
 * - A failed query is not an HTTP error: the headers are already on their way when the query runs,
 *   so Metabase answers 202 (200 or 500 on some versions: `failStatus`) with a body
 *   `{"status":"failed","error":...}`. A query that fails after rows were sent gets that object
 *   appended to the partial body (`failAfterRows`), or, on the newest versions, the connection
 *   closed early (`truncateAfterRows`).
 *
 * A question with `dateColumn` has a date template tag (`dateTag`, default `start_date`) used as
 * `WHERE dateColumn >= {{start_date}}`: a `date/single` parameter for that tag keeps the rows whose
 * date (its first ten characters, YYYY-MM-DD) is on or after the value; without the parameter the
 * optional clause drops out and every row is returned.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listen, readBody } from '../local/httpServer';

export type MetabaseRow = Record<string, unknown>;

/** A request parameter as Metabase takes it, e.g. a date template tag:
 * `{"id":"…","type":"date/single","target":["variable",["template-tag","start_date"]],"value":"2025-01-01"}`. */
export interface MetabaseParameter {
  id?: string;
  type?: string;
  target?: unknown;
  value?: unknown;
  [key: string]: unknown;
}

export interface SimulatedQuestion {
  /** The question's result before the date filter; a function is called per request (and may be a generator, so large results need not be held). */
  rows: MetabaseRow[] | ((parameters: MetabaseParameter[]) => Iterable<MetabaseRow>);
  /** The column the date template tag filters on; without it the question has no template tag. */
  dateColumn?: string;
  /** Name of the date template tag (default `start_date`). */
  dateTag?: string;
  /** Column display names in order: each row is projected onto them (missing values are null). */
  columns?: string[];
  /** The query fails with this error before any row is sent. */
  failWith?: string;
  /** HTTP status of that failure (default 202, as the export endpoints answer in most versions). */
  failStatus?: number;
  /** With `failWith`: rows sent before the failure object is appended to the partial body. */
  failAfterRows?: number;
  /** The connection is closed after this many rows, leaving the body unfinished. */
  truncateAfterRows?: number;
  /** The API key's group may not read this question: 403, as Metabase's permission check answers. */
  forbidden?: boolean;
  /** Display name of the card (default `Question <id>`). */
  name?: string;
}

export interface MetabaseSimulatorOptions {
  /** The value of `x-api-key` every request must carry. */
  apiKey: string;
  questions: Record<number, SimulatedQuestion>;
  /** Delay before each query answers, as the database runs the query. */
  latencyMs?: number;
  port?: number;
  host?: string;
}

export interface MetabaseSimulatorStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Responses by HTTP status. */
  statusCounts: Record<number, number>;
  /** The parameters of the last query request (undefined when it sent none). */
  lastParameters?: MetabaseParameter[];
  /** Rows written to export bodies so far. */
  rowsStreamed: number;
  /** Separate writes of export bodies so far: more than one means the body went out in pieces. */
  bodyWrites: number;
}

export interface MetabaseSimulator {
  /** Base URL, as METABASE_URL would be (no trailing slash, no `/api`). */
  url: string;
  stats: MetabaseSimulatorStats;
  /** Adds, replaces or (with undefined) removes a question. */
  setQuestion(id: number, question: SimulatedQuestion | undefined): void;
  /** Clears the stats. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** The non-export endpoint's cap on unaggregated rows. */
const API_ROW_LIMIT = 2000;
/** Bytes gathered before a write: small enough that any sizeable result goes out in many pieces. */
const WRITE_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string | Record<string, unknown>,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export async function startMetabaseSimulator(options: MetabaseSimulatorOptions): Promise<MetabaseSimulator> {
  const questions = new Map<number, SimulatedQuestion>(Object.entries(options.questions).map(([id, question]) => [Number(id), question]));
  // Cuts latency waits short on close(), so a slow simulated query cannot outlive its test.
  const closing = new AbortController();
  const stats = emptyStats();

  const count = (status: number): void => {
    stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const raw = await readBody(req, MAX_BODY_BYTES, () => new HttpError(413, 'Request body too large.'));
    if (req.headers['x-api-key'] !== options.apiKey) throw new HttpError(401, 'Unauthenticated');

    const route = /^\/api\/card\/(\d+)(\/query(?:\/(json|csv))?)?$/.exec(path);
    if (!route) throw new HttpError(404, 'API endpoint does not exist.');
    const id = Number(route[1]);
    const [, , query, format] = route;
    const question = questions.get(id);
    if (question?.forbidden) throw new HttpError(403, "You don't have permissions to do that.");
    if (req.method === 'GET' && !query) {
      if (!question) throw new HttpError(404, 'Not found.');
      return sendJson(res, 200, describeCard(id, question));
    }
    if (req.method !== 'POST' || !query) throw new HttpError(404, 'API endpoint does not exist.');

    // The export endpoints also read a form; the non-export one only a JSON body.
    const parameters = format ? exportParameters(req, raw) : jsonParameters(req, raw);
    stats.lastParameters = parameters;
    if (!question) throw new HttpError(404, 'Not found.');
    const startDate = dateFilter(id, question, parameters ?? []);

    if (options.latencyMs) await delay(options.latencyMs, undefined, { signal: closing.signal });
    const rows = resultRows(question, parameters ?? [], startDate);
    if (question.failWith !== undefined && (!format || question.failAfterRows === undefined)) {
      return sendJson(res, question.failStatus ?? 202, failure(question.failWith));
    }
    if (!format) return sendApiResult(res, rows, question.columns);
    await streamExport(res, format as 'json' | 'csv', rows, question);
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    count(status);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };

  /** The non-export answer: rows as arrays under `data`, cut at 2,000. */
  const sendApiResult = (res: ServerResponse, rows: Iterable<MetabaseRow>, columns: string[] | undefined): void => {
    const kept: MetabaseRow[] = [];
    for (const row of rows) {
      if (kept.length === API_ROW_LIMIT) break;
      kept.push(row);
    }
    const names = columns ?? Object.keys(kept[0] ?? {});
    const cols = names.map((name) => ({ name, display_name: name }));
    count(202);
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({
        data: { rows: kept.map((row) => names.map((name) => row[name] ?? null)), cols },
        row_count: kept.length,
        status: 'completed',
      }),
    );
  };

  const streamExport = async (res: ServerResponse, format: 'json' | 'csv', rows: Iterable<MetabaseRow>, question: SimulatedQuestion): Promise<void> => {
    const json = format === 'json';
    count(200);
    res.writeHead(200, {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/csv',
      'content-disposition': `attachment; filename="query_result_${new Date().toISOString()}.${format}"`,
    });
    let pending = json ? '[\n' : '';
    let written = 0;
    let header: string[] | undefined = question.columns;
    const flush = async (): Promise<boolean> => {
      stats.bodyWrites++;
      const more = res.write(pending);
      pending = '';
      if (!more) await drained(res);
      return !res.destroyed;
    };
    // Where the body breaks off (a failure or a cut connection), even when the result has fewer rows.
    const stopAt = question.failWith !== undefined ? question.failAfterRows : question.truncateAfterRows;
    const breakOff = async (): Promise<void> => {
      if (question.failWith === undefined) {
        // Ends the connection without the chunked body's last chunk: what the client sees when Metabase gives up mid-stream.
        if (await flush()) res.socket?.end();
        return;
      }
      // Metabase before 2026 appended the failure to whatever it had written, leaving the JSON invalid.
      pending += JSON.stringify(failure(question.failWith));
      if (await flush()) res.end();
    };
    for (const row of rows) {
      if (written === stopAt) return breakOff();
      if (json) {
        pending += `${written === 0 ? '' : ',\n'}${JSON.stringify(header ? project(row, header) : row)}`;
      } else {
        if (!header) header = Object.keys(row);
        if (written === 0) pending += `${header.map(csvField).join(',')}\r\n`;
        pending += `${header.map((name) => csvField(row[name])).join(',')}\r\n`;
      }
      written++;
      stats.rowsStreamed++;
      if (pending.length >= WRITE_BYTES && !(await flush())) return;
    }
    if (stopAt !== undefined) return breakOff();
    if (json) pending += '\n]';
    stats.bodyWrites++;
    res.end(pending);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const failure = error instanceof HttpError ? error : new HttpError(500, { message: `Simulator error: ${String(error)}` });
      count(failure.status);
      const text = typeof failure.body === 'string';
      res.writeHead(failure.status, { 'content-type': text ? 'text/plain' : 'application/json; charset=utf-8' });
      res.end(text ? failure.body : JSON.stringify(failure.body));
    });
  });
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');

  return {
    url: `http://${address.address}:${address.port}`,
    stats,
    setQuestion(id, question) {
      if (question) questions.set(id, question);
      else questions.delete(id);
    },
    reset() {
      Object.assign(stats, emptyStats());
    },
    async close() {
      closing.abort();
      await closeServer(server);
    },
  };
}

/** Waits until the socket takes more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Export endpoints: a JSON body whose `parameters` is a list or a JSON string, or a form field holding the JSON. */
function exportParameters(req: IncomingMessage, raw: Buffer): MetabaseParameter[] | undefined {
  if (isForm(req)) {
    const field = new URLSearchParams(raw.toString('utf8')).get('parameters');
    return field === null || field === '' ? undefined : parameterList(parseJson(field, 'parameters'));
  }
  const body = raw.length === 0 ? {} : parseJson(raw.toString('utf8'), 'body');
  const value = (body as { parameters?: unknown }).parameters;
  if (value === undefined || value === null) return undefined;
  return parameterList(typeof value === 'string' ? parseJson(value, 'parameters') : value);
}

function jsonParameters(req: IncomingMessage, raw: Buffer): MetabaseParameter[] | undefined {
  if (raw.length === 0 || isForm(req)) return undefined;
  const value = (parseJson(raw.toString('utf8'), 'body') as { parameters?: unknown }).parameters;
  return value === undefined || value === null ? undefined : parameterList(value);
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { errors: { [field]: 'value must be a valid JSON string.' } });
  }
}

function parameterList(value: unknown): MetabaseParameter[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) {
    throw new HttpError(400, { errors: { parameters: 'nullable sequence of map' } });
  }
  // Current Metabase normalises request parameters with the card-parameter schema, where `id` is required.
  const missing = value.findIndex((item) => typeof item.id !== 'string' || item.id === '');
  if (missing >= 0) throw new HttpError(400, { message: `parameters[${missing}].id: missing required key, received: nil` });
  return value as MetabaseParameter[];
}

function tagOf(question: SimulatedQuestion): string | undefined {
  return question.dateColumn === undefined ? undefined : (question.dateTag ?? 'start_date');
}

/** The date the question's template tag is set to, after Metabase's check that every parameter names one of its tags. */
function dateFilter(cardId: number, question: SimulatedQuestion, parameters: MetabaseParameter[]): string | undefined {
  const tag = tagOf(question);
  let startDate: string | undefined;
  for (const parameter of parameters) {
    const name = templateTagName(parameter.target);
    if (name === undefined || name !== tag) {
      // Metabase formats the card id for the message with digit grouping ("Card 24,009").
      throw new HttpError(500, {
        message: `Invalid parameter: Card ${cardId.toLocaleString('en-US')} does not have a template tag named ${JSON.stringify(name ?? null)}.`,
        'invalid-parameter': parameter,
        'allowed-parameters': tag === undefined ? null : [tag],
      });
    }
    if (typeof parameter.value === 'string') startDate = parameter.value.slice(0, 10);
  }
  return startDate;
}

/** `["variable", ["template-tag", name]]` (a raw value tag) or `["dimension", ["template-tag", name]]` (a field filter). */
function templateTagName(target: unknown): string | undefined {
  if (!Array.isArray(target) || (target[0] !== 'variable' && target[0] !== 'dimension')) return undefined;
  const ref = target[1] as unknown;
  return Array.isArray(ref) && ref[0] === 'template-tag' && typeof ref[1] === 'string' ? ref[1] : undefined;
}

function* resultRows(question: SimulatedQuestion, parameters: MetabaseParameter[], startDate: string | undefined): Iterable<MetabaseRow> {
  const rows = typeof question.rows === 'function' ? question.rows(parameters) : question.rows;
  const column = question.dateColumn;
  for (const row of rows) {
    if (startDate !== undefined && column !== undefined) {
      const value = row[column];
      // As in SQL, a NULL date never satisfies `date >= {{start_date}}`.
      if (value === null || value === undefined || String(value).slice(0, 10) < startDate) continue;
    }
    yield row;
  }
}

/** The card as `GET /api/card/:id` shows it: a native question whose date tag is also a card parameter. */
function describeCard(id: number, question: SimulatedQuestion): Record<string, unknown> {
  const tag = tagOf(question);
  const tagId = tag === undefined ? undefined : `${id}-${tag}-0000-0000-simulated`;
  const templateTags = tag === undefined ? {} : { [tag]: { id: tagId, name: tag, 'display-name': tag, type: 'date', required: false } };
  return {
    id,
    name: question.name ?? `Question ${id}`,
    type: 'question',
    query_type: 'native',
    dataset_query: {
      type: 'native',
      native: {
        query: `SELECT * FROM records${tag === undefined ? '' : ` [[WHERE ${question.dateColumn} >= {{${tag}}}]]`}`,
        'template-tags': templateTags,
      },
    },
    parameters:
      tag === undefined ? [] : [{ id: tagId, type: 'date/single', target: ['variable', ['template-tag', tag]], name: tag, slug: tag }],
  };
}

function failure(error: string): Record<string, unknown> {
  return {
    status: 'failed',
    class: 'java.sql.SQLException',
    error,
    stacktrace: [],
    error_type: 'invalid-query',
    row_count: 0,
    running_time: 0,
    data: { rows: [], cols: [] },
  };
}

function project(row: MetabaseRow, columns: string[]): MetabaseRow {
  return Object.fromEntries(columns.map((name) => [name, row[name] ?? null]));
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function emptyStats(): MetabaseSimulatorStats {
  return { requests: 0, statusCounts: {}, lastParameters: undefined, rowsStreamed: 0, bodyWrites: 0 };
}
