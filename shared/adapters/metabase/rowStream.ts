/**
 * The rows of an export answer, parsed as they arrive: the body is a JSON array of row objects
 * keyed by column display names, and each is yielded on its own, so memory stays flat however
 * large the result. What Metabase does that shapes this code (checked against its source):
 * - The HTTP status is committed before the query has finished, so a failed query can answer 202
 *   or 200 with a body `{"status":"failed","error":...}` instead of an array (the newest versions
 *   answer 500 with that body). The first bytes of the body decide.
 * - A query that fails after rows were sent either appends that object to the partial array or
 *   closes the connection: either way the array never closes, which is an error here, never a
 *   short result. The last row parsed is held back until the next one (or the end of the array)
 *   proves it is a row and not the start of such a failure.
 */
import { JSONParser } from '@streamparser/json';
import type { Deadline } from './httpClient';
import { failureReason } from '../failureReason';
import { badResponse, brokenOff, MetabaseError, queryFailed } from './metabaseError';
import { failureIn, failureOf, messageIn, restOf } from './responseBody';

export type Row = Record<string, unknown>;

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const OPEN_BRACKET = 0x5b;

/** Yields each element of the top-level array once the next one (or the array's end) is parsed: see the module comment. */
export async function* parseRows(response: Response, deadline: Deadline, questionId: number): AsyncGenerator<Row> {
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
      throw brokenOff(
        questionId,
        `the response broke off after ${count} rows (${failureReason(error)}); the query may have failed mid-stream`,
        response.status,
        error,
      );
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
      throw brokenOff(
        questionId,
        `the response ended after ${count} rows without closing its JSON array; the query may have failed mid-stream`,
        response.status,
      );
    }
    if (held) yield asRow(held.value, count, questionId, response.status);
  } finally {
    // Cancels the body when the consumer stops early; an already failed body has nothing to cancel.
    await iterator.return?.().catch(() => undefined);
  }
}

async function notAnArray(
  chunk: Uint8Array,
  next: () => Promise<IteratorResult<Uint8Array>>,
  questionId: number,
  status: number,
): Promise<MetabaseError> {
  const text = await restOf(chunk, next);
  const failure = failureIn(text);
  if (failure !== undefined) return queryFailed(questionId, failure, status);
  const said = messageIn(text);
  return badResponse(
    questionId,
    `expected a JSON array of rows, got ${said ? `"${said}"` : JSON.stringify(text.trim().slice(0, 200))}`,
    status,
  );
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
  return badResponse(questionId, `the response is not valid JSON after ${count} rows (${failureReason(cause)})`, status, cause);
}

function asRow(value: unknown, index: number, questionId: number, status: number): Row {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Row;
  throw badResponse(questionId, `row ${index + 1} is ${JSON.stringify(value)}, not an object of columns`, status);
}
