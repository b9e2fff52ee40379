/**
 * The data contract (README › Data contract): how one source row becomes a vector's id, text and metadata, or a
 * counted skip, or a failure with a reason. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { Metadata, MetadataValue, StoredHash } from '../ports';
import { sanitizeText } from './sanitize';

/** Pinecone allows 40 KB of metadata per record; keep a margin for its own accounting. */
export const METADATA_BYTE_BUDGET = 40_000;
export const MAX_ID_LENGTH = 512;
const TEXT_RESERVE_BYTES = 8_000;

export type SkipReason = 'empty_text' | 'before_start_date' | 'unchanged';

export type RowValue = string | number | boolean | null | undefined | RowValue[] | { [key: string]: RowValue };
export type Row = Record<string, RowValue>;

export interface RecordContext {
  columns: { text: string; id: string; date: string };
  /** Whether the source has the id column at all; without it ids are content hashes. */
  hasIdColumn: boolean;
  /** YYYY-MM-DD; rows dated before it are skipped. */
  startDate?: string;
  /** Identifies the source (e.g. s3://bucket/key) for hashed ids and provenance. */
  sourceUri: string;
  taskId: string;
  dataSource: string;
}

export type PreparedRecord =
  | { kind: 'embed'; recordNumber: number; id: string; text: string; metadata: Metadata }
  | { kind: 'skip'; recordNumber: number; reason: SkipReason }
  | { kind: 'fail'; recordNumber: number; id?: string; message: string };

export function prepareRecord(row: Row, recordNumber: number, context: RecordContext): PreparedRecord {
  const { columns } = context;
  const id = recordId(row, context);
  if (typeof id !== 'string') return { kind: 'fail', recordNumber, message: id.error };

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
    if (date < context.startDate) return { kind: 'skip', recordNumber, reason: 'before_start_date' };
  }

  const text = sanitizeText(stringValue(row[columns.text]));
  if (!text) return { kind: 'skip', recordNumber, reason: 'empty_text' };

  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === columns.text || !key || key.startsWith('$')) continue;
    const coerced = coerceMetadataValue(value);
    if (coerced !== undefined) metadata[key] = coerced;
  }
  metadata._source = context.sourceUri;
  metadata._data_source = context.dataSource;
  metadata._task_id = context.taskId;
  metadata._record_number = recordNumber;
  return { kind: 'embed', recordNumber, id, text, metadata: fitMetadata(metadata, text) };
}

function recordId(row: Row, context: RecordContext): string | { error: string } {
  if (!context.hasIdColumn) {
    const hash = createHash('sha256').update(context.sourceUri).update('\0').update(JSON.stringify(row)).digest('hex');
    return hash.slice(0, 40);
  }
  const id = stringValue(row[context.columns.id]).trim();
  if (!id) return { error: `column "${context.columns.id}" is empty: a vector needs an id` };
  if (id.length > MAX_ID_LENGTH) return { error: `id is ${id.length} characters long; Pinecone allows at most ${MAX_ID_LENGTH}` };
  return id;
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
    const strings = value.filter((item) => item !== null && item !== undefined).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
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

export function isValidDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
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

/** Metadata that changes on every run without the record changing: left out of the content hash. */
const VOLATILE_METADATA = new Set(['_task_id', '_record_number']);

/**
 * What a vector's content is: its id, the exact input embedded, the model that embedded it and the
 * metadata stored with it. Equal hashes mean re-embedding and re-upserting would change nothing.
 */
export function contentHash(id: string, input: string, model: string, dimensions: number, metadata: Metadata): string {
  const stable = Object.keys(metadata)
    .filter((key) => !VOLATILE_METADATA.has(key))
    .sort()
    .map((key) => [key, metadata[key]]);
  return createHash('sha256').update(JSON.stringify([id, input, model, dimensions, stable])).digest('base64url');
}

/**
 * What to do with a record, given what is stored of its id's last upsert: `embed` it if it is new
 * or changed; count it `done` if this very task upserted it as it is (an earlier attempt at its
 * chunk, or the same record in another chunk); skip it as `unchanged` if another task did, unless
 * the run is forced.
 */
export function decideByStoredHash(hash: string, stored: StoredHash | undefined, taskId: string, force: boolean): 'embed' | 'done' | 'unchanged' {
  if (stored?.hash !== hash) return 'embed';
  if (stored.taskId === taskId) return 'done';
  return force ? 'embed' : 'unchanged';
}
