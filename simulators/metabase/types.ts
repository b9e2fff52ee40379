/** What the Metabase simulator takes and offers. */
import type { RequestStats } from '../stats';

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
  /**
   * The question's result before the date filter; a function is called per request (and may be a
   * generator, so large results need not be held).
   */
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
  /** With truncateAfterRows: only the first this many exports break off, later ones run whole (a passing fault). */
  truncateTimes?: number;
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

export interface MetabaseSimulatorStats extends RequestStats {
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
