/**
 * CSV planning and chunk reading. The planner reads an object once, quote-aware, and cuts it into
 * byte ranges of whole records; a chunk reader later parses only its range. Both use the same
 * parser options, so they agree on what a record is (quoted commas and newlines, CRLF, BOM, bad
 * quoting), and every record is in exactly one range.
 */
import type { Readable } from 'node:stream';
import { parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { SourceError } from '../errors';

/** A field larger than this is a broken file (an unclosed quote swallowing the rest), not data. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

function parserOptions(delimiter: string): Options {
  return {
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
  };
}

export interface CsvChunkPlan {
  chunkIndex: number;
  byteStart: number;
  byteEnd: number;
  recordCount: number;
  firstRecordNumber: number;
}

export interface CsvPlanSummary {
  header: string[];
  delimiter: string;
  chunks: number;
  records: number;
  bytes: number;
  /** Records the parser could not read (bad quoting); their chunk reports each as failed. */
  malformedRecords: number;
  /** False when `shouldStop` ended this pass early: planning resumes at `nextOffset`. */
  done: boolean;
  /** Absolute byte offset right after the last chunk announced (the file's size when done). */
  nextOffset: number;
}

/** Where a resumed pass starts: a chunk boundary of an earlier pass, with that pass's layout. */
export interface CsvResumePoint {
  /** Absolute offset of the first byte of the stream given to planCsv (a chunk boundary). */
  byteOffset: number;
  header: string[];
  delimiter: string;
  /** Index of the next chunk, and records planned before byteOffset. */
  chunkIndex: number;
  recordsSoFar: number;
}

export interface CsvPlanOptions {
  maxRecords: number;
  maxBytes: number;
  /** Checks the header before any chunk is announced (e.g. that the text column exists). */
  validateHeader?: (header: string[]) => void;
  onChunk: (chunk: CsvChunkPlan, layout: { header: string[]; delimiter: string }) => Promise<void>;
  /** Continue an earlier pass: the stream starts at `resume.byteOffset` and has no header row. */
  resume?: CsvResumePoint;
  /** Asked after each announced chunk; true ends this pass there (see CsvPlanSummary.nextOffset). */
  shouldStop?: () => boolean;
}

const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'];
const SNIFF_BYTES = 64 * 1024;

/** Picks the delimiter from the header line: a comma unless another one clearly dominates. */
export function sniffDelimiter(firstBytes: Buffer): string {
  const newline = firstBytes.indexOf(0x0a);
  const line = firstBytes.subarray(0, newline === -1 ? firstBytes.length : newline).toString('latin1');
  let inQuotes = false;
  const counts = new Map<string, number>();
  for (const char of line) {
    if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && CANDIDATE_DELIMITERS.includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best = ',';
  for (const [delimiter, count] of counts) if (count > (counts.get(best) ?? 0)) best = delimiter;
  return best;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const windows1252 = new TextDecoder('windows-1252');

/** Decodes UTF-8, or Windows-1252 (what spreadsheets export) when the bytes are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'windows-1252' } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: windows1252.decode(bytes), encoding: 'windows-1252' };
  }
}

/**
 * Reads the stream once and calls onChunk for each range of whole records, in order. With
 * `resume` the stream is the rest of the file from a chunk boundary; with `shouldStop` the pass
 * may end after any announced chunk, and a later pass resumes at `nextOffset`: the ranges of all
 * passes tile the file exactly as one pass would have cut it.
 */
export async function planCsv(stream: Readable, options: CsvPlanOptions): Promise<CsvPlanSummary> {
  const { resume } = options;
  // Byte positions are absolute in the file: the parser counts from the start of its stream.
  const base = resume?.byteOffset ?? 0;
  let header: string[] | undefined = resume?.header;
  let delimiter = resume?.delimiter ?? ',';
  let bytesRead = 0;
  let records = resume?.recordsSoFar ?? 0;
  let malformedRecords = 0;
  let lastError: string | undefined;
  let chunkStart = base;
  let chunkRecords = 0;
  const ready: CsvChunkPlan[] = [];
  let stoppedAt: CsvChunkPlan | undefined;

  const closeChunk = (byteEnd: number) => {
    ready.push({
      chunkIndex: ready.length + emitted,
      byteStart: chunkStart,
      byteEnd,
      recordCount: chunkRecords,
      firstRecordNumber: records - chunkRecords + 1,
    });
    chunkStart = byteEnd;
    chunkRecords = 0;
  };
  // Bookkeeping happens in the parser's synchronous callbacks, which run in record order, so
  // rejected records are attributed to the right range whatever the parser has buffered.
  const countRecord = (endByte?: number) => {
    records += 1;
    chunkRecords += 1;
    // Ranges end only after a record the parser read whole: a rejected record's end is unknown.
    if (endByte !== undefined && (chunkRecords >= options.maxRecords || endByte - chunkStart >= options.maxBytes)) closeChunk(endByte);
  };
  let headerError: unknown;
  const firstChunkIndex = resume?.chunkIndex ?? 0;
  let emitted = firstChunkIndex;
  const flush = async () => {
    while (ready.length && !stoppedAt) {
      const chunk = ready.shift() as CsvChunkPlan;
      emitted += 1;
      await options.onChunk(chunk, { header: header as string[], delimiter });
      // Records the parser has read past this chunk are read again by the next pass.
      if (options.shouldStop?.()) stoppedAt = chunk;
    }
  };

  let parser: ReturnType<typeof parse> | undefined;
  const startParser = (firstBytes: Buffer) => {
    if (!resume) delimiter = sniffDelimiter(firstBytes);
    parser = parse({
      ...parserOptions(delimiter),
      encoding: null,
      // Fields are bytes or strings depending on the parser's encoding handling; names are text.
      on_record: (fields: (Buffer | string)[], context: { bytes: number }) => {
        if (!header) {
          header = fields.map((field) => (typeof field === 'string' ? field : decodeText(field).text).trim());
          chunkStart = base + context.bytes;
          try {
            options.validateHeader?.(header);
          } catch (error) {
            headerError = error;
          }
        } else {
          countRecord(base + context.bytes);
        }
        return null;
      },
      on_skip: (error: Error | undefined) => {
        lastError = error?.message;
        if (!header) return;
        malformedRecords += 1;
        countRecord();
      },
    } as unknown as Options);
    parser.resume();
    return parser;
  };

  // The delimiter is sniffed from the whole header line, so the first bytes wait until it is in.
  let opening: Buffer[] = [];
  if (resume) startParser(Buffer.alloc(0));
  const feed = async (piece: Buffer, last = false) => {
    if (!parser) {
      opening.push(piece);
      const start = Buffer.concat(opening);
      if (!last && start.indexOf(0x0a) === -1 && start.indexOf(0x0d) === -1 && start.length < SNIFF_BYTES) return;
      opening = [];
      piece = start;
    }
    const active = parser ?? startParser(piece);
    await writeTo(active, piece);
    if (headerError) {
      active.destroy();
      throw headerError;
    }
    await flush();
  };
  for await (const piece of stream as AsyncIterable<Buffer>) {
    if (!piece.length) continue;
    bytesRead += piece.length;
    await feed(piece);
    if (stoppedAt) break; // leaving the loop destroys the stream
  }
  const stopped = (at: CsvChunkPlan): CsvPlanSummary => {
    const planned = at.firstRecordNumber - 1 + at.recordCount - (resume?.recordsSoFar ?? 0);
    return {
      header: header as string[],
      delimiter,
      chunks: emitted - firstChunkIndex,
      records: planned,
      bytes: at.byteEnd - base,
      malformedRecords,
      done: false,
      nextOffset: at.byteEnd,
    };
  };
  if (stoppedAt) {
    (parser as unknown as { destroy(): void }).destroy();
    return stopped(stoppedAt);
  }
  if (!parser && opening.length) await feed(Buffer.alloc(0), true);
  if (!parser) throw new SourceError('the CSV file is empty: it has no header row');
  await new Promise<void>((resolve, reject) => {
    (parser as NodeJS.ReadableStream).once('error', reject);
    (parser as NodeJS.ReadableStream).once('end', resolve);
    (parser as NodeJS.WritableStream).end();
  });
  if (headerError) throw headerError;
  if (!header) throw new SourceError(`the CSV file has no readable header row${lastError ? `: ${lastError}` : ''}`);
  if (chunkRecords > 0) closeChunk(base + bytesRead);
  await flush();
  // Stopped with chunks still unannounced: the next pass cuts them again from nextOffset.
  if (stoppedAt && ready.length) return stopped(stoppedAt);
  return {
    header,
    delimiter,
    chunks: emitted - firstChunkIndex,
    records: records - (resume?.recordsSoFar ?? 0),
    bytes: bytesRead,
    malformedRecords,
    done: true,
    nextOffset: base + bytesRead,
  };
}

function writeTo(parser: ReturnType<typeof parse>, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    parser.write(piece, (error) => (error ? reject(error) : resolve()));
  });
}

export interface CsvRangeRecord {
  recordNumber: number;
  values?: string[];
  /** Why the parser could not read this record. */
  error?: string;
}

/**
 * Parses one planned byte range (whole records only) into records numbered from
 * firstRecordNumber. Records the parser rejects come back with an error, in order.
 */
export function parseCsvRange(
  bytes: Uint8Array,
  delimiter: string,
  firstRecordNumber: number,
): { records: CsvRangeRecord[]; encoding: string } {
  const { text, encoding } = decodeText(bytes);
  const records: CsvRangeRecord[] = [];
  parseSync(text, {
    ...parserOptions(delimiter),
    bom: false,
    on_skip: (error: Error | undefined) => {
      records.push({ recordNumber: firstRecordNumber + records.length, error: error?.message ?? 'unreadable record' });
    },
    on_record: (values: string[]) => {
      records.push({ recordNumber: firstRecordNumber + records.length, values });
      return null;
    },
  } as Options);
  return { records, encoding };
}
