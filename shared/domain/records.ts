/**
 * The data contract (README › Data contract): how one source row becomes a vector's id, text and metadata, or a
 * counted skip, or a failure with a reason. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { Metadata, MetadataValue, StoredVector } from '../ports';
import { isValidDate } from './dates';
import { sanitizeText } from './sanitize';

/** Pinecone allows 40 KB of metadata per record; keep a margin for its own accounting. */
export const METADATA_BYTE_BUDGET = 40_000;
export const MAX_ID_LENGTH = 512;
const TEXT_RESERVE_BYTES = 8_000;

export type SkipReason = 'empty_text' | 'before_start_date' | 'unchanged';

export type RowValue = string | number | boolean | null | undefined | RowValue[] | { [key: string]: RowValue };
export type Row = Record<string, RowValue>;

export interface RecordContext {
  /** `deleted` is absent in chunks planned before tombstones existed. */
  columns: { text: string; id: string; date: string; deleted?: string };
  /** Whether the source has the id column at all; without it ids are content hashes. */
  hasIdColumn: boolean;
  /** The dataset the vectors belong to (stored as `_dataset`). */
  dataset: string;
  /** Whether the caller named the dataset (else it is the source's identity). */
  datasetNamed?: boolean;
  /**
   * What hashed ids (no id column) are stable within: the caller's dataset name when given, so
   * that daily exports under new file names keep their ids, else the source's identity.
   */
  idScope: string;
  /** YYYY-MM-DD; rows dated before it are skipped. */
  startDate?: string;
  /** Identifies the source (e.g. s3://bucket/key) for hashed ids and provenance. */
  sourceUri: string;
  taskId: string;
  dataSource: string;
}

export type PreparedRecord =
  | { kind: 'embed'; recordNumber: number; id: string; text: string; metadata: Metadata }
  /** A tombstone: the row says its id was deleted at the source. */
  | { kind: 'delete'; recordNumber: number; id: string }
  /** `id` is known for rows still in the source (a full sync keeps their vectors). */
  | { kind: 'skip'; recordNumber: number; reason: SkipReason; id?: string }
  | { kind: 'fail'; recordNumber: number; id?: string; message: string };

/** Values of the deletion column that mark a tombstone, besides a date. */
const TOMBSTONE_WORDS = new Set(['true', '1', 'yes']);

export function prepareRecord(row: Row, recordNumber: number, context: RecordContext): PreparedRecord {
  const { columns } = context;
  const id = recordId(row, context);
  if (typeof id !== 'string') return { kind: 'fail', recordNumber, message: id.error };
  if (columns.deleted && isTombstone(row[columns.deleted])) {
    if (!context.hasIdColumn) {
      return {
        kind: 'fail',
        recordNumber,
        message: `a row marked deleted in "${columns.deleted}" needs an id column ("${columns.id}") to name what it deletes`,
      };
    }
    return { kind: 'delete', recordNumber, id };
  }

  if (context.startDate) {
    const date = isoDate(row[columns.date]);
    if (date === undefined) {
      return {
        kind: 'fail',
        recordNumber,
        id,
        message: `column "${columns.date}" holds ${JSON.stringify(row[columns.date] ?? null)}, not a date (start_date filtering needs one)`,
      };
    }
    if (date < context.startDate) return { kind: 'skip', recordNumber, reason: 'before_start_date', id };
  }

  const text = sanitizeText(stringValue(row[columns.text]));
  if (!text) return { kind: 'skip', recordNumber, reason: 'empty_text' };

  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === columns.text || key === columns.deleted || !key || key.startsWith('$')) continue;
    const coerced = coerceMetadataValue(value);
    if (coerced !== undefined) metadata[key] = coerced;
  }
  metadata._dataset = context.dataset;
  metadata._source = context.sourceUri;
  metadata._data_source = context.dataSource;
  metadata._task_id = context.taskId;
  metadata._record_number = recordNumber;
  return { kind: 'embed', recordNumber, id, text, metadata: fitMetadata(metadata, text) };
}

function recordId(row: Row, context: RecordContext): string | { error: string } {
  if (!context.hasIdColumn) {
    const hash = createHash('sha256').update(context.idScope).update('\0').update(JSON.stringify(row)).digest('hex');
    return hash.slice(0, 40);
  }
  const id = stringValue(row[context.columns.id]).trim();
  if (!id) return { error: `column "${context.columns.id}" is empty: a vector needs an id` };
  if (id.length > MAX_ID_LENGTH) return { error: `id is ${id.length} characters long; Pinecone allows at most ${MAX_ID_LENGTH}` };
  return id;
}

/** true, 1, yes (any case) or a date; empty, false, 0 and no keep the row. */
export function isTombstone(value: RowValue): boolean {
  const raw = stringValue(value).trim().toLowerCase();
  if (!raw) return false;
  // A date, as soft-delete columns hold them: "2025-06-03", "2025-06-03 10:00", "06/03/2025" — not a bare number.
  return TOMBSTONE_WORDS.has(raw) || (/\d{4}/.test(raw) && /[-/.]/.test(raw) && isoDate(raw) !== undefined);
}

function stringValue(value: RowValue): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Values Pinecone stores as they are; anything else becomes a string; nulls and '' are dropped. */
export function coerceMetadataValue(value: RowValue): MetadataValue | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) {
    const strings = value
      .filter((item) => item !== null && item !== undefined)
      .map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    return strings.length ? strings : undefined;
  }
  return JSON.stringify(value);
}

const DATE_PREFIX = /^(\d{4})-(\d{2})-(\d{2})/;

/** The YYYY-MM-DD of a date-ish value (ISO prefix or anything Date.parse reads), else undefined. */
export function isoDate(value: RowValue): string | undefined {
  const raw = stringValue(value).trim();
  if (!raw) return undefined;
  const prefix = DATE_PREFIX.exec(raw);
  if (prefix) return isValidDate(prefix[0]) ? prefix[0] : undefined;
  const parsed = Date.parse(raw);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString().slice(0, 10);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * Adds the text to the metadata, cutting the text (then the longest other strings) until the
 * whole JSON fits Pinecone's per-record limit.
 */
function fitMetadata(others: Metadata, text: string): Metadata {
  const metadata: Metadata = { ...others };
  // Other columns give way first only when they would leave the text less than its reserve.
  const overflowOf = () => jsonBytes({ ...metadata, text: '' }) + TEXT_RESERVE_BYTES - METADATA_BYTE_BUDGET;
  let overflow = overflowOf();
  while (overflow > 0) {
    const longest = Object.entries(metadata)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (!longest || longest[1].length < 64) break;
    metadata[longest[0]] = cutToBytes(longest[1], Math.max(0, Buffer.byteLength(longest[1]) - overflow - 16));
    metadata._metadata_truncated = true;
    overflow = overflowOf();
  }
  const textBudget = METADATA_BYTE_BUDGET - jsonBytes({ ...metadata, text: '' });
  let fitted = text;
  while (Buffer.byteLength(JSON.stringify(fitted)) - 2 > textBudget) {
    // JSON escaping can make the text longer than its bytes, so shrink until it really fits.
    fitted = cutToBytes(fitted, Math.floor(Math.min(Buffer.byteLength(fitted) - 1, textBudget) * 0.95));
  }
  if (fitted !== text) metadata._text_truncated = true;
  return { text: fitted, ...metadata };
}

/** The longest prefix of `value` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutToBytes(value: string, maxBytes: number): string {
  const buffer = Buffer.from(value);
  if (buffer.length <= maxBytes) return value;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (buffer[end] & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end).toString();
}

/** Where a vector came from and which run wrote it: stored, but never a reason to write again. */
export const PROVENANCE_METADATA: ReadonlySet<string> = new Set(['_source', '_data_source', '_task_id', '_record_number']);

/** What an embedding depends on, and nothing else: the exact input, the model and the dimensions. */
export function embeddingKey(input: string, model: string, dimensions: number): string {
  return createHash('sha256')
    .update(JSON.stringify([input, model, dimensions]))
    .digest('base64url');
}

/**
 * The metadata stored beside a vector, provenance left out: equal hashes mean no metadata write is
 * needed. A dataset nobody named (the source's identity, by default) is provenance too: the same
 * rows uploaded under another key are not a change.
 */
export function metadataHash(metadata: Metadata, options: { datasetNamed?: boolean } = {}): string {
  const business = Object.keys(metadata)
    .filter((key) => !PROVENANCE_METADATA.has(key) && (options.datasetNamed !== false || key !== '_dataset'))
    .sort()
    .map((key) => [key, metadata[key]]);
  return createHash('sha256').update(JSON.stringify(business)).digest('base64url');
}

/** What a record is now, to compare with what is stored of its id. */
export interface VectorFingerprint {
  inputHash: string;
  metadataHash: string;
}

export type VectorDecision = 'embed' | 'update_metadata' | 'done' | 'unchanged';

/**
 * What to do with a record, given what is stored of its id's last write: `embed` it if it is new
 * or its input changed (or the run is forced); `update_metadata` if only its business metadata
 * changed; count it `done` if this very task wrote it as it is (an earlier attempt at its chunk,
 * or the same record in another chunk); skip it as `unchanged` otherwise.
 */
export function decideByStoredState(
  current: VectorFingerprint,
  stored: StoredVector | undefined,
  taskId: string,
  force: boolean,
): VectorDecision {
  const same = stored?.inputHash === current.inputHash && stored.metadataHash === current.metadataHash;
  if (same && stored.taskId === taskId) return 'done';
  if (force || stored?.inputHash !== current.inputHash) return 'embed';
  return same ? 'unchanged' : 'update_metadata';
}
