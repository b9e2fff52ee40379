/**
 * Writing a chunk's vectors: embedding in token-aware batches and upserting in size-aware ones,
 * and updating metadata beside unchanged embeddings (fetch the stored values, upsert them with the
 * new metadata: no tokens). Each write notes its records' fingerprints right away, with the
 * task's id, so an attempt that fails part-way leaves its progress behind for the retry.
 */
import { batchForUpsert, nextBatch } from '../domain/batching';
import { inParallel } from '../domain/inParallel';
import type { PreparedRecord } from '../domain/records';
import { isBadRequest } from '../errors';
import type { ChunkPlanned } from '../events/types';
import type { Dependencies, Metadata, VectorRecord, VectorStateEntry } from '../ports';

export type VectorWriteDeps = Pick<Dependencies, 'config' | 'embedder' | 'pacer' | 'vectors' | 'hashes'>;

/** A record ready to write: its fitted input, tokens and fingerprints. */
export type Candidate = Extract<PreparedRecord, { kind: 'embed' }> & {
  tokens: number;
  truncated: boolean;
  inputHash: string;
  metadataHash: string;
  dataset: string;
};

export interface RecordFailure {
  recordNumber: number;
  id?: string;
  message: string;
}

/** A record's vector, and the record it came from. */
type Written = VectorRecord & { record: Candidate };

/** Fetches from the store at most this many vectors at once for metadata updates (~6 KB each). */
const METADATA_FETCH_BATCH = 100;

function stateEntry(record: Candidate, write: VectorStateEntry['write']): VectorStateEntry {
  const { id, inputHash, metadataHash, dataset, tokens } = record;
  return { id, inputHash, metadataHash, dataset, tokens, write };
}

function storedMetadata(record: Candidate): Metadata {
  return record.truncated ? { ...record.metadata, _truncated: true } : record.metadata;
}

/** Upserts of one embedding batch in flight at once: their round trips overlap, not their CPU. */
const PARALLEL_UPSERTS = 4;

/**
 * Embeds the records in token-aware batches, each within what the pacer says the provider's
 * window absorbs. Each batch's vectors are upserted (and noted), a few upserts at a time, while
 * the next batch is embedded: the consumer's CPU works while it waits for OpenAI, Pinecone and
 * the fingerprints, and at most two batches of vectors are held at once. Returns the tokens
 * billed, the vectors upserted and how many of them were truncated.
 */
export async function embedAndUpsert(
  chunk: ChunkPlanned,
  records: Candidate[],
  failures: RecordFailure[],
  deps: VectorWriteDeps,
): Promise<{ tokens: number; upserted: number; truncated: number }> {
  let tokens = 0;
  let upserted = 0;
  let truncated = 0;
  const embedInto =
    (vectors: Written[]) =>
    async (batch: Candidate[]): Promise<void> => {
      await deps.pacer.acquire(batch.reduce((sum, record) => sum + record.tokens, 0));
      try {
        const result = await deps.embedder.embed(batch.map((record) => record.text));
        deps.pacer.observe?.(result);
        tokens += result.tokens;
        batch.forEach((record, i) => vectors.push({ id: record.id, values: result.vectors[i], metadata: storedMetadata(record), record }));
      } catch (error) {
        deps.pacer.observe?.(error);
        throw error;
      }
    };
  const upsertBatch = async (batch: Written[]): Promise<void> => {
    await writeVectors(chunk, batch, 'embed', deps);
    upserted += batch.length;
    truncated += batch.filter(({ record }) => record.truncated).length;
  };
  const embeddingRejected = (record: Candidate, error: Error) =>
    failures.push({ recordNumber: record.recordNumber, id: record.id, message: `embedding rejected: ${error.message}` });
  const writeAll = (vectors: Written[]) =>
    inParallel(batchForUpsert(vectors, deps.config.pinecone.batchSize), PARALLEL_UPSERTS, (upserts) =>
      sendIsolatingRejects(upserts, upsertBatch, upsertRejected(failures)),
    );

  let writing: Promise<void> = Promise.resolve();
  try {
    for (let start = 0; start < records.length;) {
      // Sized when sent: the pacer learns the provider's window from each answer.
      const batch = nextBatch(records, start, { maxTokens: deps.pacer.requestTokenLimit?.() });
      start += batch.length;
      const vectors: Written[] = [];
      await sendIsolatingRejects(batch, embedInto(vectors), embeddingRejected);
      await writing;
      writing = writeAll(vectors);
      // Awaited before the next batch's writes, or below; a failure meanwhile must not go unhandled.
      writing.catch(() => undefined);
    }
  } finally {
    // A failed embedding still lets the writes in flight finish and note what they wrote.
    await writing.catch(() => undefined);
  }
  await writing;
  return { tokens, upserted, truncated };
}

/**
 * Gives stored vectors their new metadata without embedding them again: their values are
 * fetched and upserted with the new metadata, which replaces the old whole (a field emptied at
 * the source disappears, which Pinecone's partial update would keep). Records whose vector is
 * missing from the store come back, to be embedded.
 */
export async function updateMetadata(
  chunk: ChunkPlanned,
  records: Candidate[],
  failures: RecordFailure[],
  deps: VectorWriteDeps,
): Promise<{ updated: number; missing: Candidate[] }> {
  let updated = 0;
  const missing: Candidate[] = [];
  const updateBatch = async (batch: Written[]): Promise<void> => {
    await writeVectors(chunk, batch, 'metadata', deps);
    updated += batch.length;
  };
  for (let i = 0; i < records.length; i += METADATA_FETCH_BATCH) {
    const batch = records.slice(i, i + METADATA_FETCH_BATCH);
    const stored = await deps.vectors.fetch(
      chunk.namespace,
      batch.map((record) => record.id),
    );
    const vectors: Written[] = [];
    for (const record of batch) {
      const found = stored.get(record.id);
      if (found) vectors.push({ id: record.id, values: found.values, metadata: storedMetadata(record), record });
      else missing.push(record);
    }
    for (const upserts of batchForUpsert(vectors, deps.config.pinecone.batchSize)) {
      await sendIsolatingRejects(upserts, updateBatch, upsertRejected(failures));
    }
  }
  return { updated, missing };
}

async function writeVectors(chunk: ChunkPlanned, batch: Written[], write: VectorStateEntry['write'], deps: VectorWriteDeps): Promise<void> {
  // A Written is a VectorRecord; the stores read only id, values and metadata.
  await deps.vectors.upsert(chunk.namespace, batch);
  const entries = batch.map(({ record }) => stateEntry(record, write));
  await deps.hashes.put(chunk.namespace, entries, chunk.taskId, { seen: chunk.sync === 'full' });
}

function upsertRejected(failures: RecordFailure[]) {
  return ({ id, record }: Written, error: Error) =>
    failures.push({ recordNumber: record.recordNumber, id, message: `upsert rejected: ${error.message}` });
}

/**
 * Sends a batch; when the provider rejects it as a bad request, halves it until the offending item
 * stands alone and reports only that one, so the rest of the batch still goes through.
 */
async function sendIsolatingRejects<T>(
  batch: T[],
  send: (batch: T[]) => Promise<void>,
  rejected: (item: T, error: Error) => void,
): Promise<void> {
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
