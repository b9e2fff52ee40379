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
 *
 * Requests are routed here; parameters.ts reads `parameters`, question.ts applies them to the card,
 * results.ts and exportStream.ts write the answers.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { readBody } from '../../local/httpServer';
import { HttpError, send, serve, type Handler } from '../http';
import { countStatus } from '../stats';
import { exportStream } from './exportStream';
import { exportParameters, jsonParameters } from './parameters';
import { dateFilter, describeCard, resultRows } from './question';
import { apiResult, JSON_UTF8, queryFailure } from './results';
import type { MetabaseSimulator, MetabaseSimulatorOptions, MetabaseSimulatorStats, SimulatedQuestion } from './types';

export type {
  MetabaseParameter,
  MetabaseRow,
  MetabaseSimulator,
  MetabaseSimulatorOptions,
  MetabaseSimulatorStats,
  SimulatedQuestion,
} from './types';

const MAX_BODY_BYTES = 1024 * 1024;

export async function startMetabaseSimulator(options: MetabaseSimulatorOptions): Promise<MetabaseSimulator> {
  const questions = new Map<number, SimulatedQuestion>(Object.entries(options.questions).map(([id, question]) => [Number(id), question]));
  const stats = emptyStats();

  const handle: Handler = async (req, res, closing) => {
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
      return respondJson(res, 200, describeCard(id, question));
    }
    if (req.method !== 'POST' || !query) throw new HttpError(404, 'API endpoint does not exist.');

    // The export endpoints also read a form; the non-export one only a JSON body.
    const parameters = format ? exportParameters(req, raw) : jsonParameters(req, raw);
    stats.lastParameters = parameters;
    if (!question) throw new HttpError(404, 'Not found.');
    const startDate = dateFilter(id, question, parameters ?? []);

    if (options.latencyMs) await delay(options.latencyMs, undefined, { signal: closing });
    const rows = resultRows(question, parameters ?? [], startDate);
    if (question.failWith !== undefined && (!format || question.failAfterRows === undefined)) {
      return respondJson(res, question.failStatus ?? 202, queryFailure(question.failWith));
    }
    if (!format) return respondJson(res, 202, apiResult(rows, question.columns));
    const truncations = (exportsBrokenOff.get(id) ?? 0) + 1;
    const breaksOff =
      question.truncateAfterRows !== undefined && (question.truncateTimes === undefined || truncations <= question.truncateTimes);
    if (breaksOff) exportsBrokenOff.set(id, truncations);
    await exportStream(res, format as 'json' | 'csv', rows, breaksOff ? question : { ...question, truncateAfterRows: undefined }, stats);
  };

  /** Exports each question broke off so far, for truncateTimes. */
  const exportsBrokenOff = new Map<number, number>();

  const respondJson = (res: ServerResponse, status: number, body: unknown): void => {
    countStatus(stats, status);
    send(res, status, body, JSON_UTF8);
  };

  const server = await serve({ port: options.port, host: options.host }, stats, handle, (error, res) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const failure = error instanceof HttpError ? error : new HttpError(500, { message: `Simulator error: ${String(error)}` });
    countStatus(stats, failure.status);
    send(res, failure.status, failure.body, typeof failure.body === 'string' ? {} : JSON_UTF8);
  });

  return {
    url: `http://${server.address.address}:${server.address.port}`,
    stats,
    setQuestion(id, question) {
      if (question) questions.set(id, question);
      else questions.delete(id);
    },
    reset() {
      Object.assign(stats, emptyStats());
    },
    close: () => server.close(),
  };
}

function emptyStats(): MetabaseSimulatorStats {
  return { requests: 0, statusCounts: {}, lastParameters: undefined, rowsStreamed: 0, bodyWrites: 0 };
}
