/**
 * A large CSV generated lazily, row by row, never held whole: for planning tests and the
 * planning benchmark. Rows are deterministic (row i is always the same bytes), with CRLF endings,
 * quoted commas, quoted CRLF / LF newlines and doubled quotes, so a planner that cuts a range
 * inside a quoted field or mid-CRLF shows up as a wrong count or a range that is not a row end.
 */
import { Readable } from 'node:stream';

export const GENERATED_HEADER = 'id,formatted_text,date,category\r\n';

const WORDS = ['red running shoes', 'green tea', 'jazz records', 'mountain bikes', 'café crème', '東京の天気', 'rocket 🚀'];

/** The bytes of data row i (1-based), ending in CRLF. */
export function generatedRow(i: number): string {
  let text = `Person ${i} likes ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7) % WORDS.length]}`;
  if (i % 5 === 0) text = `"<p>Profile ${i}</p>\r\n<ul><li>first, with a comma</li>\n<li>second ""quoted"" line</li></ul>"`;
  else if (i % 3 === 0) text = `"${text}, and more"`;
  const day = `2025-01-${String((i % 28) + 1).padStart(2, '0')}`;
  return `row-${i},${text},${day},cat-${i % 5}\r\n`;
}

/** Streams rows from `fromRow` (1-based) while the total size stays within `bytes` (whole rows only). */
export function generatedCsvStream(options: { bytes: number; fromRow?: number; header?: boolean; rowsPerPiece?: number }): Readable {
  const { bytes, rowsPerPiece = 2000 } = options;
  let row = options.fromRow ?? 1;
  let size = options.header === false ? 0 : Buffer.byteLength(GENERATED_HEADER);
  let sentHeader = options.header === false;
  let finished = false;
  return new Readable({
    read() {
      if (finished) return;
      const parts: string[] = sentHeader ? [] : [GENERATED_HEADER];
      sentHeader = true;
      for (let n = 0; n < rowsPerPiece; n += 1) {
        const line = generatedRow(row);
        const length = Buffer.byteLength(line);
        if (options.fromRow === undefined && size + length > bytes) {
          finished = true;
          break;
        }
        if (options.fromRow !== undefined && row > lastRowFor(bytes)) {
          finished = true;
          break;
        }
        size += length;
        parts.push(line);
        row += 1;
      }
      if (parts.length) this.push(Buffer.from(parts.join(''), 'utf8'));
      if (finished) this.push(null);
    },
  });
}

const lastRows = new Map<number, number>();

/** The number of rows of the file of at most `bytes` bytes (computed once per size, in O(rows) time, O(1) memory). */
export function lastRowFor(bytes: number): number {
  const known = lastRows.get(bytes);
  if (known !== undefined) return known;
  let size = Buffer.byteLength(GENERATED_HEADER);
  let row = 0;
  for (;;) {
    const length = Buffer.byteLength(generatedRow(row + 1));
    if (size + length > bytes) break;
    size += length;
    row += 1;
  }
  lastRows.set(bytes, row);
  return row;
}

/**
 * End offsets of every row (index i-1 for row i) of the file of at most `bytes` bytes, in a typed
 * array (8 bytes a row, outside the JS heap).
 */
export function generatedRowEnds(bytes: number): Float64Array {
  const rows = lastRowFor(bytes);
  const ends = new Float64Array(rows);
  let size = Buffer.byteLength(GENERATED_HEADER);
  for (let i = 1; i <= rows; i += 1) {
    size += Buffer.byteLength(generatedRow(i));
    ends[i - 1] = size;
  }
  return ends;
}
