/** Reading a planned chunk back: its bytes (a CSV range or a JSON Lines object) as prepared records (README › Data contract). */
import { buffer } from 'node:stream/consumers';
import { parseCsvRange } from '../domain/csv';
import { prepareRecord, type PreparedRecord, type RecordContext, type Row } from '../domain/records';
import type { ChunkPlanned } from '../events/types';
import type { CsvByteRange } from '../events/types.generated';
import type { Dependencies } from '../ports';

export async function readChunkRecords(chunk: ChunkPlanned, deps: Pick<Dependencies, 'objects' | 'logger'>): Promise<PreparedRecord[]> {
  const { source } = chunk;
  const sourceUri = source.type === 'jsonl' ? source.sourceUri : `s3://${source.bucket}/${source.key}`;
  const datasetNamed = isDatasetNamed(chunk);
  const context: RecordContext = {
    columns: chunk.columns,
    hasIdColumn: source.header.includes(chunk.columns.id),
    startDate: chunk.startDate,
    sourceUri,
    // Chunks planned before datasets existed carry none: their source was their dataset.
    dataset: chunk.dataset ?? sourceUri,
    datasetNamed,
    idScope: datasetNamed ? `dataset:${chunk.dataset}` : sourceUri,
    taskId: chunk.taskId,
    dataSource: chunk.dataSource,
  };
  // A CSV range of the version the task was pinned to, if any; a JSON Lines chunk is an object of the task's own.
  const range =
    source.type === 'csv_range'
      ? { start: source.byteStart, end: source.byteEnd, ...(source.versionId ? { versionId: source.versionId } : {}) }
      : {};
  const bytes = await buffer(await deps.objects.read(source.key, { ...range, etag: source.etag }));
  const prepared = source.type === 'csv_range' ? prepareCsvRecords(bytes, chunk, context, deps) : prepareJsonLines(bytes, chunk, context);
  if (prepared.length !== chunk.recordCount) {
    throw new Error(`chunk ${chunk.chunkIndex} holds ${prepared.length} records where ${chunk.recordCount} were planned`);
  }
  return prepared;
}

/** Whether the chunk's task named its dataset, rather than taking its source's identity. */
export function isDatasetNamed(chunk: ChunkPlanned): boolean {
  return chunk.dataset !== undefined && chunk.dataset !== defaultDatasetOf(chunk);
}

/** The dataset a chunk's task gets when its request names none (see datasetOf in domain/task). */
function defaultDatasetOf(chunk: ChunkPlanned): string {
  return chunk.source.type === 'csv_range' ? chunk.source.key : chunk.source.sourceUri;
}

function prepareJsonLines(bytes: Buffer, chunk: ChunkPlanned, context: RecordContext): PreparedRecord[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, i) => prepareRecord(JSON.parse(line) as Row, chunk.firstRecordNumber + i, context));
}

function prepareCsvRecords(
  bytes: Buffer,
  chunk: ChunkPlanned,
  context: RecordContext,
  deps: Pick<Dependencies, 'logger'>,
): PreparedRecord[] {
  const source = chunk.source as CsvByteRange;
  const { records, encoding } = parseCsvRange(bytes, source.delimiter ?? ',', chunk.firstRecordNumber);
  if (encoding !== 'utf-8')
    deps.logger.warn('chunk is not valid UTF-8; read as Windows-1252', { task_id: chunk.taskId, chunk_index: chunk.chunkIndex });
  return records.map((record): PreparedRecord => {
    if (!record.values) return { kind: 'fail', recordNumber: record.recordNumber, message: `unreadable CSV record: ${record.error}` };
    if (record.values.length !== source.header.length) {
      return {
        kind: 'fail',
        recordNumber: record.recordNumber,
        message: `record has ${record.values.length} fields; the header has ${source.header.length}`,
      };
    }
    const row: Row = {};
    source.header.forEach((name, i) => {
      row[name] = (record.values as string[])[i];
    });
    return prepareRecord(row, record.recordNumber, context);
  });
}
