/**
 * The embedder: reads one planned range, turns each record into a vector (or a counted skip or
 * failure), skips records whose content is unchanged since their last upsert, embeds in
 * token-aware batches, upserts in size-aware batches, and reports the chunk. A provider rejecting
 * one input or one vector fails that record only, never its whole batch. A dry run stops before
 * the providers and reports what it would have spent.
 */
import { buffer } from 'node:stream/consumers';
import type { Dependencies } from '../dependencies';
import { batchByTokens, batchForUpsert, fitToTokenLimit } from '../domain/batching';
import { parseCsvRange } from '../domain/csv';
import { contentHash, prepareRecord, type PreparedRecord, type RecordContext, type Row } from '../domain/records';
import { isTerminal } from '../domain/task';
import { isBadRequest } from '../errors';
import type { ChunkEmbedded, ChunkPlanned } from '../events/types';
import type { CsvByteRange } from '../events/types.generated';
import type { Metadata, VectorRecord } from '../ports';

const MAX_REPORTED_ERRORS = 20;

type Embeddable = Extract<PreparedRecord, { kind: 'embed' }> & { tokens: number; truncated: boolean; hash: string };
interface RecordFailure {
  recordNumber: number;
  id?: string;
  message: string;
}

/** Processes a chunk; returns undefined when there is nothing to do (duplicate, or task ended). */
export async function embedChunk(chunk: ChunkPlanned, deps: Dependencies): Promise<ChunkEmbedded | undefined> {
  const { tasks, logger } = deps;
  const task = await tasks.get(chunk.taskId);
  if (!task) throw new Error(`ChunkPlanned for unknown task ${chunk.taskId}`);
  if (isTerminal(task.status)) {
    logger.info('task already ended; chunk not embedded', { taskId: chunk.taskId, chunkIndex: chunk.chunkIndex, status: task.status });
    return undefined;
  }
  if (await tasks.isChunkRecorded(chunk.taskId, chunk.chunkIndex)) {
    logger.info('chunk already recorded; duplicate delivery ignored', { taskId: chunk.taskId, chunkIndex: chunk.chunkIndex });
    return undefined;
  }

  const prepared = await readChunkRecords(chunk, deps);
  const failures: RecordFailure[] = [];
  const skippedReasons: Record<string, number> = {};
  const candidates: Embeddable[] = [];
  const { model, dimensions } = deps.embedder;
  for (const record of prepared) {
    if (record.kind === 'fail') failures.push({ recordNumber: record.recordNumber, id: record.id, message: record.message });
    else if (record.kind === 'skip') skippedReasons[record.reason] = (skippedReasons[record.reason] ?? 0) + 1;
    else {
      const fitted = fitToTokenLimit(record.text);
      candidates.push({ ...record, ...fitted, hash: contentHash(record.id, fitted.text, model, dimensions, record.metadata) });
    }
  }
  const embeddable = chunk.force ? candidates : await withoutUnchanged(chunk.namespace, candidates, skippedReasons, deps);

  let tokens: number;
  let truncated: number;
  if (chunk.dryRun) {
    tokens = embeddable.reduce((sum, record) => sum + record.tokens, 0);
    truncated = embeddable.filter((record) => record.truncated).length;
  } else {
    const embedded = await embedAll(embeddable, failures, deps);
    await upsertAll(chunk.namespace, embedded.vectors, failures, deps);
    const hashById = new Map(embeddable.map((record) => [record.id, record.hash]));
    await deps.hashes.put(chunk.namespace, embedded.vectors.map((vector) => ({ id: vector.id, hash: hashById.get(vector.id) as string })), chunk.taskId);
    tokens = embedded.tokens;
    truncated = embedded.vectors.filter((vector) => vector.metadata._truncated === true).length;
  }

  const skipped = Object.values(skippedReasons).reduce((sum, count) => sum + count, 0);
  failures.sort((a, b) => a.recordNumber - b.recordNumber);
  return {
    schemaVersion: 1,
    taskId: chunk.taskId,
    chunkIndex: chunk.chunkIndex,
    outcome: 'completed',
    records: {
      total: prepared.length,
      processed: prepared.length - skipped - failures.length,
      skipped,
      failed: failures.length,
      truncated,
      skippedReasons,
    },
    tokens,
    errors: failures.slice(0, MAX_REPORTED_ERRORS).map(({ recordNumber, id, message }) => ({ recordNumber, ...(id ? { id } : {}), message: message.slice(0, 2000) })),
    finishedAt: deps.now().toISOString(),
  };
}

/** Drops (and counts as skipped) the records whose content hash matches their last upsert. */
async function withoutUnchanged(namespace: string, records: Embeddable[], skippedReasons: Record<string, number>, deps: Dependencies): Promise<Embeddable[]> {
  if (!records.length) return records;
  const known = await deps.hashes.get(namespace, records.map((record) => record.id));
  const changed = records.filter((record) => known.get(record.id) !== record.hash);
  const unchanged = records.length - changed.length;
  if (unchanged) skippedReasons.unchanged = (skippedReasons.unchanged ?? 0) + unchanged;
  return changed;
}

/** The ChunkEmbedded that ends a chunk which could not be processed at all. */
export function failedChunk(chunk: ChunkPlanned, reason: string, now: Date): ChunkEmbedded {
  return {
    schemaVersion: 1,
    taskId: chunk.taskId,
    chunkIndex: chunk.chunkIndex,
    outcome: 'failed',
    records: { total: chunk.recordCount, processed: 0, skipped: 0, failed: chunk.recordCount, truncated: 0 },
    tokens: 0,
    errors: [{ message: `records ${chunk.firstRecordNumber}-${chunk.firstRecordNumber + chunk.recordCount - 1} failed: ${reason}`.slice(0, 2000) }],
    finishedAt: now.toISOString(),
  };
}

/** Reads a chunk's records from its source object and prepares each (BRIEF §3). */
async function readChunkRecords(chunk: ChunkPlanned, deps: Dependencies): Promise<PreparedRecord[]> {
  const { source } = chunk;
  const context = {
    columns: chunk.columns,
    hasIdColumn: source.header.includes(chunk.columns.id),
    startDate: chunk.startDate,
    sourceUri: source.type === 'jsonl' ? source.sourceUri : `s3://${source.bucket}/${source.key}`,
    taskId: chunk.taskId,
    dataSource: chunk.dataSource,
  };
  const range = source.type === 'csv_range' ? { start: source.byteStart, end: source.byteEnd } : {};
  const bytes = await buffer(await deps.objects.read(source.key, { ...range, etag: source.etag }));
  const prepared = source.type === 'csv_range' ? prepareCsvRecords(bytes, chunk, context, deps) : prepareJsonLines(bytes, chunk, context);
  if (prepared.length !== chunk.recordCount) {
    throw new Error(`chunk ${chunk.chunkIndex} holds ${prepared.length} records where ${chunk.recordCount} were planned`);
  }
  return prepared;
}

function prepareJsonLines(bytes: Buffer, chunk: ChunkPlanned, context: RecordContext): PreparedRecord[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, i) => prepareRecord(JSON.parse(line) as Row, chunk.firstRecordNumber + i, context));
}

function prepareCsvRecords(bytes: Buffer, chunk: ChunkPlanned, context: RecordContext, deps: Dependencies): PreparedRecord[] {
  const source = chunk.source as CsvByteRange;
  const { records, encoding } = parseCsvRange(bytes, source.delimiter ?? ',', chunk.firstRecordNumber);
  if (encoding !== 'utf-8') deps.logger.warn('chunk is not valid UTF-8; read as Windows-1252', { taskId: chunk.taskId, chunkIndex: chunk.chunkIndex });
  return records.map((record): PreparedRecord => {
    if (!record.values) return { kind: 'fail', recordNumber: record.recordNumber, message: `unreadable CSV record: ${record.error}` };
    if (record.values.length !== source.header.length) {
      return { kind: 'fail', recordNumber: record.recordNumber, message: `record has ${record.values.length} fields; the header has ${source.header.length}` };
    }
    const row: Row = {};
    source.header.forEach((name, i) => {
      row[name] = (record.values as string[])[i];
    });
    return prepareRecord(row, record.recordNumber, context);
  });
}

async function embedAll(records: Embeddable[], failures: RecordFailure[], deps: Dependencies): Promise<{ vectors: VectorRecord[]; tokens: number }> {
  const vectors: VectorRecord[] = [];
  let tokens = 0;
  const embedBatch = async (batch: Embeddable[]): Promise<void> => {
    await deps.pacer.acquire(batch.reduce((sum, record) => sum + record.tokens, 0));
    try {
      const result = await deps.embedder.embed(batch.map((record) => record.text));
      deps.pacer.observe?.(result);
      tokens += result.tokens;
      batch.forEach((record, i) => {
        const metadata: Metadata = record.truncated ? { ...record.metadata, _truncated: true } : record.metadata;
        vectors.push({ id: record.id, values: result.vectors[i], metadata });
      });
    } catch (error) {
      deps.pacer.observe?.(error);
      throw error;
    }
  };
  const rejected = (record: Embeddable, error: Error) => failures.push({ recordNumber: record.recordNumber, id: record.id, message: `embedding rejected: ${error.message}` });
  for (const batch of batchByTokens(records)) await sendIsolatingRejects(batch, embedBatch, rejected);
  return { vectors, tokens };
}

async function upsertAll(namespace: string, vectors: VectorRecord[], failures: RecordFailure[], deps: Dependencies): Promise<void> {
  const rejected = (vector: VectorRecord, error: Error) => {
    failures.push({ recordNumber: Number(vector.metadata._record_number), id: vector.id, message: `upsert rejected: ${error.message}` });
    vectors.splice(vectors.indexOf(vector), 1);
  };
  const upsert = (batch: VectorRecord[]) => deps.vectors.upsert(namespace, batch);
  for (const batch of batchForUpsert(vectors, deps.config.pinecone.batchSize)) await sendIsolatingRejects(batch, upsert, rejected);
}

/**
 * Sends a batch; when the provider rejects it as a bad request, halves it until the offending item
 * stands alone and reports only that one, so the rest of the batch still goes through.
 */
async function sendIsolatingRejects<T>(batch: T[], send: (batch: T[]) => Promise<void>, rejected: (item: T, error: Error) => void): Promise<void> {
  try {
    await send(batch);
  } catch (error) {
    if (!isBadRequest(error)) throw error;
    if (batch.length === 1) return rejected(batch[0], error as Error);
    const middle = Math.ceil(batch.length / 2);
    await sendIsolatingRejects(batch.slice(0, middle), send, rejected);
    await sendIsolatingRejects(batch.slice(middle), send, rejected);
  }
}
