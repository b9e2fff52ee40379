/**
 * The embedder: reads one planned range, turns each record into a vector (or a counted skip or
 * failure), skips records whose content is unchanged since their last upsert, embeds in
 * token-aware batches, upserts each batch's vectors in size-aware batches as they come, and
 * announces the chunk's ChunkEmbedded. A provider rejecting one input or one vector fails that record only, never
 * its whole batch. A dry run stops before the providers and reports what it would have spent.
 *
 * Each upsert notes its records' content hashes right away, with this task's id: an attempt that
 * fails part-way (a provider down, the Lambda's deadline) leaves its progress behind, and the
 * retry counts those records as processed and spends nothing on them again.
 */
import { buffer } from 'node:stream/consumers';
import { batchByTokens, batchForUpsert, fitToTokenLimit } from '../domain/batching';
import { parseCsvRange } from '../domain/csv';
import { contentHash, decideByStoredHash, prepareRecord, type PreparedRecord, type RecordContext, type Row } from '../domain/records';
import { isTerminal } from '../domain/task';
import { isBadRequest } from '../errors';
import type { ChunkEmbedded, ChunkPlanned } from '../events/types';
import type { CsvByteRange } from '../events/types.generated';
import type { Dependencies, Metadata, VectorRecord } from '../ports';

export type EmbedChunkDeps = Pick<Dependencies, 'config' | 'tasks' | 'objects' | 'events' | 'embedder' | 'pacer' | 'vectors' | 'hashes' | 'logger' | 'now'>;

const MAX_REPORTED_ERRORS = 20;

type Embeddable = Extract<PreparedRecord, { kind: 'embed' }> & { tokens: number; truncated: boolean; hash: string };
interface RecordFailure {
  recordNumber: number;
  id?: string;
  message: string;
}

/** Processes a chunk and announces its ChunkEmbedded; does nothing for a duplicate or a chunk of an ended task. */
export async function embedChunk(chunk: ChunkPlanned, deps: EmbedChunkDeps): Promise<void> {
  const result = await processChunk(chunk, deps);
  if (result) await deps.events.publish('ChunkEmbedded', [result]);
}

/** The chunk's ChunkEmbedded, or undefined when there is nothing to do. */
async function processChunk(chunk: ChunkPlanned, deps: EmbedChunkDeps): Promise<ChunkEmbedded | undefined> {
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
  const { toEmbed, doneEarlier } = await partitionByStoredHash(chunk, candidates, skippedReasons, deps);

  let tokens = doneEarlier.reduce((sum, record) => sum + record.tokens, 0);
  let truncated = doneEarlier.filter((record) => record.truncated).length;
  if (chunk.dryRun) {
    tokens += toEmbed.reduce((sum, record) => sum + record.tokens, 0);
    truncated += toEmbed.filter((record) => record.truncated).length;
  } else {
    const embedded = await embedAndUpsert(chunk, toEmbed, failures, deps);
    tokens += embedded.tokens;
    truncated += embedded.truncated;
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

/** Partitions the records by what their last upserts say (decideByStoredHash), counting the unchanged as skipped. */
async function partitionByStoredHash(
  chunk: ChunkPlanned,
  records: Embeddable[],
  skippedReasons: Record<string, number>,
  deps: EmbedChunkDeps,
): Promise<{ toEmbed: Embeddable[]; doneEarlier: Embeddable[] }> {
  const toEmbed: Embeddable[] = [];
  const doneEarlier: Embeddable[] = [];
  if (!records.length) return { toEmbed, doneEarlier };
  const stored = await deps.hashes.get(chunk.namespace, records.map((record) => record.id));
  for (const record of records) {
    const decision = decideByStoredHash(record.hash, stored.get(record.id), chunk.taskId, chunk.force === true);
    if (decision === 'embed') toEmbed.push(record);
    else if (decision === 'done') doneEarlier.push(record);
    else skippedReasons.unchanged = (skippedReasons.unchanged ?? 0) + 1;
  }
  return { toEmbed, doneEarlier };
}

/** Announces a chunk that could not be processed at all: its records count as failed, so that its task still ends. */
export async function failChunk(chunk: ChunkPlanned, reason: string, deps: Pick<Dependencies, 'events' | 'now'>): Promise<void> {
  await deps.events.publish('ChunkEmbedded', [failedChunk(chunk, reason, deps.now())]);
}

function failedChunk(chunk: ChunkPlanned, reason: string, now: Date): ChunkEmbedded {
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

/** Reads a chunk's records from its source object and prepares each (README › Data contract). */
async function readChunkRecords(chunk: ChunkPlanned, deps: EmbedChunkDeps): Promise<PreparedRecord[]> {
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

function prepareCsvRecords(bytes: Buffer, chunk: ChunkPlanned, context: RecordContext, deps: EmbedChunkDeps): PreparedRecord[] {
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

/** A record's vector, and the record it came from (its hash and token count are noted after the upsert). */
type Embedded = VectorRecord & { record: Embeddable };

/**
 * Embeds the records in token-aware batches; each batch's vectors are upserted (and their hashes
 * noted) before the next batch is embedded, so that only one batch of vectors is held at a time.
 * Returns the tokens billed and how many truncated records were upserted.
 */
async function embedAndUpsert(chunk: ChunkPlanned, records: Embeddable[], failures: RecordFailure[], deps: EmbedChunkDeps): Promise<{ tokens: number; truncated: number }> {
  let tokens = 0;
  let truncated = 0;
  let vectors: Embedded[] = [];
  const embedBatch = async (batch: Embeddable[]): Promise<void> => {
    await deps.pacer.acquire(batch.reduce((sum, record) => sum + record.tokens, 0));
    try {
      const result = await deps.embedder.embed(batch.map((record) => record.text));
      deps.pacer.observe?.(result);
      tokens += result.tokens;
      batch.forEach((record, i) => {
        const metadata: Metadata = record.truncated ? { ...record.metadata, _truncated: true } : record.metadata;
        vectors.push({ id: record.id, values: result.vectors[i], metadata, record });
      });
    } catch (error) {
      deps.pacer.observe?.(error);
      throw error;
    }
  };
  const upsertBatch = async (batch: Embedded[]): Promise<void> => {
    // An Embedded is a VectorRecord; the stores read only id, values and metadata.
    await deps.vectors.upsert(chunk.namespace, batch);
    await deps.hashes.put(chunk.namespace, batch.map(({ id, record }) => ({ id, hash: record.hash, tokens: record.tokens })), chunk.taskId);
    truncated += batch.filter(({ record }) => record.truncated).length;
  };
  const embeddingRejected = (record: Embeddable, error: Error) => failures.push({ recordNumber: record.recordNumber, id: record.id, message: `embedding rejected: ${error.message}` });
  const upsertRejected = ({ id, record }: Embedded, error: Error) => failures.push({ recordNumber: record.recordNumber, id, message: `upsert rejected: ${error.message}` });
  for (const batch of batchByTokens(records)) {
    await sendIsolatingRejects(batch, embedBatch, embeddingRejected);
    for (const upserts of batchForUpsert(vectors, deps.config.pinecone.batchSize)) await sendIsolatingRejects(upserts, upsertBatch, upsertRejected);
    vectors = [];
  }
  return { tokens, truncated };
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
