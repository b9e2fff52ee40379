/** The JSON bodies a query answers with, other than an export: the non-export result and a failed query. */
import type { MetabaseRow } from './types';

/** Metabase's JSON content type. */
export const JSON_UTF8 = { 'content-type': 'application/json; charset=utf-8' };

/** The non-export endpoint's cap on unaggregated rows. */
const API_ROW_LIMIT = 2000;

/** The non-export answer: rows as arrays under `data`, cut at 2,000. */
export function apiResult(rows: Iterable<MetabaseRow>, columns: string[] | undefined): unknown {
  const kept: MetabaseRow[] = [];
  for (const row of rows) {
    if (kept.length === API_ROW_LIMIT) break;
    kept.push(row);
  }
  const names = columns ?? Object.keys(kept[0] ?? {});
  const cols = names.map((name) => ({ name, display_name: name }));
  return {
    data: { rows: kept.map((row) => names.map((name) => row[name] ?? null)), cols },
    row_count: kept.length,
    status: 'completed',
  };
}

/** A failed query: not an HTTP error, as the headers are already on their way when the query runs. */
export function queryFailure(error: string): Record<string, unknown> {
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
