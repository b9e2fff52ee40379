/**
 * The export endpoints' body: a JSON array of row objects written row by row (`[\n{...},\n{...}\n]`)
 * or CSV, streamed with backpressure so that a client that waits for the whole body is visible in
 * the stats; a query that fails after rows were sent breaks the body off.
 */
import type { ServerResponse } from 'node:http';
import { countStatus } from '../stats';
import { queryFailure } from './results';
import type { MetabaseRow, MetabaseSimulatorStats, SimulatedQuestion } from './types';

/** Bytes gathered before a write: small enough that any sizeable result goes out in many pieces. */
const WRITE_BYTES = 16 * 1024;

export async function exportStream(
  res: ServerResponse,
  format: 'json' | 'csv',
  rows: Iterable<MetabaseRow>,
  question: SimulatedQuestion,
  stats: MetabaseSimulatorStats,
): Promise<void> {
  const json = format === 'json';
  countStatus(stats, 200);
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
    pending += JSON.stringify(queryFailure(question.failWith));
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

function project(row: MetabaseRow, columns: string[]): MetabaseRow {
  return Object.fromEntries(columns.map((name) => [name, row[name] ?? null]));
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
