/**
 * Resumable CSV planning over a generated multi-hundred-MB stream, cut into several passes the way
 * the Step Functions loop cuts it: each pass starts at the previous pass's nextOffset (a ranged
 * read of the rest of the file) with the first pass's header and delimiter. The ranges of all
 * passes must tile the file exactly, every range must end at a row end (never inside a quoted
 * newline), and memory must stay flat. No timing assertions.
 */
import { planCsv, type CsvChunkPlan, type CsvResumePoint } from '../../../../shared/domain/csv';
import { GENERATED_HEADER, generatedCsvStream, generatedRowEnds } from '../../../helpers/generatedCsv';

const FILE_BYTES = 200 * 1024 * 1024;
const CHUNKS_PER_PASS = 500;

describe('resumable CSV planning (generated 200 MiB stream)', () => {
  it('tiles the file exactly across passes, at row ends, with flat memory', async () => {
    const rowEnds = generatedRowEnds(FILE_BYTES);
    const rows = rowEnds.length;
    const fileSize = rowEnds[rows - 1];
    const headerEnd = Buffer.byteLength(GENERATED_HEADER);

    /** The row that ends exactly at `offset` (binary search), or -1. */
    const rowEndingAt = (offset: number): number => {
      let low = 0;
      let high = rows - 1;
      while (low <= high) {
        const mid = (low + high) >> 1;
        if (rowEnds[mid] === offset) return mid + 1;
        if (rowEnds[mid] < offset) low = mid + 1;
        else high = mid - 1;
      }
      return -1;
    };

    const baseline = process.memoryUsage().heapUsed;
    let peakHeap = baseline;
    let previous: CsvChunkPlan | undefined;
    let resume: CsvResumePoint | undefined;
    let passes = 0;
    let totalChunks = 0;
    let totalRecords = 0;

    for (;;) {
      passes += 1;
      let inPass = 0;
      // The first pass reads from the start; a later one gets the rest of the file from a row end.
      const fromRow = resume ? rowEndingAt(resume.byteOffset) + 1 : undefined;
      if (resume) expect(fromRow).toBeGreaterThan(1);
      const stream = generatedCsvStream({ bytes: FILE_BYTES, ...(fromRow ? { fromRow, header: false } : {}) });
      const summary = await planCsv(stream, {
        maxRecords: 1000,
        maxBytes: 8 * 1024 * 1024,
        resume,
        shouldStop: () => inPass >= CHUNKS_PER_PASS,
        onChunk: async (chunk, layout) => {
          inPass += 1;
          expect(layout).toEqual({ header: ['id', 'formatted_text', 'date', 'category'], delimiter: ',' });
          expect(chunk.chunkIndex).toBe(totalChunks);
          expect(chunk.byteStart).toBe(previous ? previous.byteEnd : headerEnd);
          expect(chunk.firstRecordNumber).toBe(previous ? previous.firstRecordNumber + previous.recordCount : 1);
          // The range ends exactly after the last of its rows: the generator knows where each row ends.
          expect(chunk.byteEnd).toBe(rowEnds[chunk.firstRecordNumber + chunk.recordCount - 2]);
          previous = chunk;
          totalChunks += 1;
          totalRecords += chunk.recordCount;
          if (totalChunks % 50 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        },
      });
      expect(summary.malformedRecords).toBe(0);
      expect(summary.nextOffset).toBe(previous!.byteEnd);
      if (summary.done) break;
      expect(summary.chunks).toBe(CHUNKS_PER_PASS);
      resume = {
        byteOffset: summary.nextOffset,
        header: summary.header,
        delimiter: summary.delimiter,
        chunkIndex: totalChunks,
        recordsSoFar: totalRecords,
      };
      expect(summary.records).toBe(CHUNKS_PER_PASS * 1000);
    }

    expect(passes).toBeGreaterThanOrEqual(4);
    expect(totalRecords).toBe(rows);
    expect(previous!.byteEnd).toBe(fileSize);
    expect(fileSize).toBeGreaterThan(199 * 1024 * 1024);
    // Loose bound: the planner holds a chunk's bookkeeping and the parser's buffer, never the file.
    expect(peakHeap - baseline).toBeLessThan(96 * 1024 * 1024);
  }, 300_000);
});
