import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { decodeText, parseCsvRange, planCsv, sniffDelimiter, type CsvChunkPlan } from '../../../../shared/domain/csv';
import { SourceError } from '../../../../shared/errors';
import { peopleCsv } from '../../../helpers/csvFixtures';

/** Streams bytes in pieces of varying size, so record boundaries fall anywhere in a piece. */
function streamOf(bytes: Buffer, pieceSizes = [1, 7, 64, 1000, 3]): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i += 1) {
    const size = pieceSizes[i % pieceSizes.length];
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(pieces);
}

async function plan(bytes: Buffer, maxRecords = 7, maxBytes = 1 << 30) {
  const chunks: CsvChunkPlan[] = [];
  let layout: { header: string[]; delimiter: string } | undefined;
  const summary = await planCsv(streamOf(bytes), {
    maxRecords,
    maxBytes,
    onChunk: async (chunk, l) => {
      chunks.push(chunk);
      layout = l;
    },
  });
  return { summary, chunks, layout };
}

function readAll(bytes: Buffer, chunks: CsvChunkPlan[], delimiter = ',') {
  return chunks.flatMap((chunk) => {
    const { records } = parseCsvRange(bytes.subarray(chunk.byteStart, chunk.byteEnd), delimiter, chunk.firstRecordNumber);
    expect(records).toHaveLength(chunk.recordCount);
    return records;
  });
}

describe('planCsv + parseCsvRange', () => {
  it('tiles the file exactly: contiguous ranges of whole records, none lost or read twice', async () => {
    const { bytes, rows } = peopleCsv(500);
    const { summary, chunks, layout } = await plan(bytes);
    expect(summary).toMatchObject({ records: 500, chunks: Math.ceil(500 / 7), bytes: bytes.length, malformedRecords: 0, delimiter: ',' });
    expect(layout?.header).toEqual(['id', 'formatted_text', 'date', 'category', 'price']);
    expect(chunks[0].byteStart).toBe(bytes.indexOf('\r\n') + 2);
    chunks.forEach((chunk, i) => {
      expect(chunk.chunkIndex).toBe(i);
      if (i > 0) expect(chunk.byteStart).toBe(chunks[i - 1].byteEnd);
    });
    expect(chunks.at(-1)?.byteEnd).toBe(bytes.length);
    const records = readAll(bytes, chunks);
    expect(records.map((record) => record.values)).toEqual(
      rows.map((row) => [row.id, row.formatted_text, row.date, row.category, row.price]),
    );
    expect(records.map((record) => record.recordNumber)).toEqual(rows.map((_, i) => i + 1));
  });

  it('closes a chunk early when it reaches the byte budget', async () => {
    const { bytes } = peopleCsv(200);
    const { chunks } = await plan(bytes, 1000, 2000);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.byteEnd - chunk.byteStart).toBeLessThan(2000 + 400);
    expect(readAll(bytes, chunks)).toHaveLength(200);
  });

  it('accepts mixed line endings, no trailing newline and blank lines', async () => {
    const bytes = Buffer.from('id,formatted_text\r\n1,"a\nb"\n2,c\r3,d\r\n\r\n4,"e,f"');
    const { summary, chunks } = await plan(bytes, 2);
    expect(summary.records).toBe(4);
    expect(readAll(bytes, chunks).map((record) => record.values)).toEqual([
      ['1', 'a\nb'],
      ['2', 'c'],
      ['3', 'd'],
      ['4', 'e,f'],
    ]);
  });

  it('counts an unclosed quote as one failed record with the parser message, losing nothing silently', async () => {
    const bytes = Buffer.from('id,formatted_text\n1,ok\n2,"never closed\n3,swallowed\n');
    const { summary, chunks } = await plan(bytes, 1);
    expect(summary.records).toBe(2);
    expect(summary.malformedRecords).toBe(1);
    const records = readAll(bytes, chunks);
    expect(records[0]).toEqual({ recordNumber: 1, values: ['1', 'ok'] });
    expect(records[1]).toEqual({ recordNumber: 2, error: expect.stringMatching(/Quote Not Closed/) });
  });

  it('keeps ragged rows as records for the embedder to reject', async () => {
    const bytes = Buffer.from('id,formatted_text,extra\n1,a\n2,b,c,d\n');
    const { chunks } = await plan(bytes);
    expect(readAll(bytes, chunks).map((record) => record.values)).toEqual([
      ['1', 'a'],
      ['2', 'b', 'c', 'd'],
    ]);
  });

  it('plans a header-only file as zero chunks and rejects an empty one', async () => {
    expect((await plan(Buffer.from('id,formatted_text\r\n'))).summary).toMatchObject({ records: 0, chunks: 0 });
    await expect(plan(Buffer.alloc(0))).rejects.toThrow(SourceError);
  });

  it('stops before announcing anything when the header fails validation', async () => {
    const chunks: CsvChunkPlan[] = [];
    await expect(
      planCsv(streamOf(peopleCsv(50).bytes), {
        maxRecords: 5,
        maxBytes: 1e9,
        validateHeader: () => {
          throw new SourceError('no text column');
        },
        onChunk: async (chunk) => {
          chunks.push(chunk);
        },
      }),
    ).rejects.toThrow('no text column');
    expect(chunks).toEqual([]);
  });

  it('detects semicolon and tab delimiters from the header', async () => {
    expect(sniffDelimiter(Buffer.from('id;formatted_text;"a,b"\n1;x;y'))).toBe(';');
    expect(sniffDelimiter(Buffer.from('id\tformatted_text\n'))).toBe('\t');
    expect(sniffDelimiter(Buffer.from('id,formatted_text\n'))).toBe(',');
    const bytes = Buffer.from('id;formatted_text\n1;"a;b"\n');
    const { layout, chunks } = await plan(bytes);
    expect(layout?.delimiter).toBe(';');
    expect(readAll(bytes, chunks, ';')[0].values).toEqual(['1', 'a;b']);
  });

  it('reads Windows-1252 bytes when a range is not valid UTF-8', () => {
    const bytes = Buffer.from([0x31, 0x2c, 0x63, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x71, 0x94, 0x0a]);
    const { records, encoding } = parseCsvRange(bytes, ',', 1);
    expect(encoding).toBe('windows-1252');
    expect(records[0].values).toEqual(['1', 'café “q”']);
    expect(decodeText(Buffer.from('ok ✓')).encoding).toBe('utf-8');
  });

  it('agrees with a whole-file parse on a file with every kind of mess', async () => {
    const { bytes } = peopleCsv(300);
    const { chunks } = await plan(bytes, 13);
    const whole = parse(bytes, { bom: true, from_line: 2, relax_column_count: true }) as string[][];
    expect(readAll(bytes, chunks).map((record) => record.values)).toEqual(whole);
  });
});
