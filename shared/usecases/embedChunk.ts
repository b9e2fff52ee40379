/**
 * The embedder: reads one planned range and keeps the index in step with it. Each record becomes
 * a counted skip or failure, or is compared with what is stored of its id (README › Keeping the
 * index in step): a new or changed input is embedded and upserted; an unchanged input with changed
 * business metadata gets its metadata rewritten without embedding; an unchanged record costs
 * nothing. Tombstone rows delete their vector. A full sync also marks each record it saw, so that
 * the dataset's vectors it did not see can be deleted once the task has ended well. A provider
 * rejecting one input or one vector fails that record only, never its whole batch. A dry run
 * writes nothing (but a full sync's seen marks) and reports what it would have done.
 *
 * Every write is noted right away with this task's id, so a retried chunk counts what its earlier
 * attempt wrote as done, and spends nothing on it again.
 */
import { decideByStoredState, type PreparedRecord } from '../domain/records';
import { isTerminal } from '../domain/task';
import type { ChunkEmbedded, ChunkPlanned } from '../events/types';
import type { Dependencies, StoredVector } from '../ports';
import { isDatasetNamed, readChunkRecords } from './chunkRecords';
import { groupIds, pieceIds, previousPieces, recordGroup, splitEntry, staleIds, type RecordGroup } from './recordGroups';
import { embedAndUpsert, updateMetadata, type Candidate, type RecordFailure, type VectorWriteDeps } from './vectorWrites';

export type EmbedChunkDeps = VectorWriteDeps & Pick<Dependencies, 'tasks' | 'objects' | 'events' | 'logger' | 'now'>;

const MAX_REPORTED_ERRORS = 20;

/** What a chunk did, in the counts ChunkEmbedded reports. */
interface Tally {
  failures: RecordFailure[];
  skippedReasons: Record<string, number>;
  tokens: number;
  truncated: number;
  /** Records that became several pieces. */
  split: number;
  vectors: { upserted: number; metadataUpdated: number; deleted: number };
}

/**
 * Processes a chunk and announces its ChunkEmbedded, which it returns (for the metrics); does
 * nothing for a duplicate or a chunk of an ended task.
 */
export async function embedChunk(chunk: ChunkPlanned, deps: EmbedChunkDeps): Promise<ChunkEmbedded | undefined> {
  const result = await processChunk(chunk, deps);
  if (result) await deps.events.publish('ChunkEmbedded', [result]);
  return result;
}

/** The chunk's ChunkEmbedded, or undefined when there is nothing to do. */
async function processChunk(chunk: ChunkPlanned, deps: EmbedChunkDeps): Promise<ChunkEmbedded | undefined> {
  const { tasks, logger } = deps;
  const task = await tasks.get(chunk.taskId);
  if (!task) throw new Error(`ChunkPlanned for unknown task ${chunk.taskId}`);
  if (isTerminal(task.status)) {
    logger.info('task already ended; chunk not embedded', { task_id: chunk.taskId, chunk_index: chunk.chunkIndex, status: task.status });
    return undefined;
  }
  if (await tasks.isChunkRecorded(chunk.taskId, chunk.chunkIndex, chunk.attempt ?? 1)) {
    logger.info('chunk already recorded; duplicate delivery ignored', { task_id: chunk.taskId, chunk_index: chunk.chunkIndex });
    return undefined;
  }

  const prepared = await readChunkRecords(chunk, deps);
  const tally: Tally = {
    failures: [],
    skippedReasons: {},
    tokens: 0,
    truncated: 0,
    split: 0,
    vectors: { upserted: 0, metadataUpdated: 0, deleted: 0 },
  };
  const settings = {
    longText: deps.config.longText,
    model: deps.embedder.model,
    dimensions: deps.embedder.dimensions,
    datasetNamed: isDatasetNamed(chunk),
  };
  const groups: RecordGroup[] = [];
  const tombstones: string[] = [];
  /** Ids of rows still in the source that are not written (skipped by date): a full sync keeps their vectors. */
  const keptIds: string[] = [];
  for (const record of prepared) {
    if (record.kind === 'fail') tally.failures.push({ recordNumber: record.recordNumber, id: record.id, message: record.message });
    else if (record.kind === 'skip') {
      count(tally.skippedReasons, record.reason);
      if (record.id) keptIds.push(record.id);
    } else if (record.kind === 'delete') tombstones.push(record.id);
    else groups.push(recordGroup(record, chunk, settings));
  }

  const stored = await deps.hashes.get(chunk.namespace, [...groups.flatMap(groupIds), ...tombstones, ...keptIds]);
  // What the stored rows say was there before: the pieces of split records, which may have to go too.
  const formerPiecesOf = (id: string) => pieceIds(id, previousPieces(stored.get(id)) ?? 0);
  const formerPieces = [...groups.map((group) => group.id), ...tombstones].flatMap(formerPiecesOf).filter((piece) => !stored.has(piece));
  if (formerPieces.length) for (const [id, vector] of await deps.hashes.get(chunk.namespace, formerPieces)) stored.set(id, vector);

  const plan = partitionByStoredState(chunk, groups, stored, tally);
  await deleteVectors(
    chunk,
    tombstones.flatMap((id) => [id, ...formerPiecesOf(id)]),
    stored,
    tally,
    deps,
  );
  if (chunk.dryRun) {
    tally.tokens += sum(plan.toEmbed, (record) => record.tokens);
    tally.truncated += plan.toEmbed.filter((record) => record.truncated).length;
    tally.vectors.upserted += plan.toEmbed.length;
    tally.vectors.metadataUpdated += plan.toUpdate.length;
  } else {
    const { updated, missing } = await updateMetadata(chunk, plan.toUpdate, tally.failures, deps);
    tally.vectors.metadataUpdated += updated;
    const embedded = await embedAndUpsert(chunk, [...plan.toEmbed, ...missing], tally.failures, deps);
    tally.tokens += embedded.tokens;
    tally.truncated += embedded.truncated;
    tally.vectors.upserted += embedded.upserted;
  }
  await reshape(chunk, plan.reshaped, stored, tally, deps);
  if (chunk.sync === 'full') {
    // A dry run writes nothing, so it marks what it would have written too.
    const written = chunk.dryRun ? [...plan.toEmbed, ...plan.toUpdate].map((record) => record.id) : [];
    await markSeen(chunk, [...plan.unchanged, ...keptIds, ...written], stored, deps);
  }
  return chunkResult(chunk, prepared, tally, deps.now());
}

/**
 * Sorts each record's vectors by what is stored of their ids (decideByStoredState). A record is
 * unchanged only when every one of its vectors is and its shape (one vector, or so many pieces)
 * is the same; the vectors an earlier attempt of this task wrote count as done.
 */
function partitionByStoredState(chunk: ChunkPlanned, groups: RecordGroup[], stored: Map<string, StoredVector>, tally: Tally) {
  const toEmbed: Candidate[] = [];
  const toUpdate: Candidate[] = [];
  const unchanged: string[] = [];
  /** Records whose shape changed or that are in pieces: their surplus goes, and split records' rows are written, after their vectors. */
  const reshaped: RecordGroup[] = [];
  for (const group of groups) {
    const before = previousPieces(stored.get(group.id));
    const sameShape = group.split ? before === group.candidates.length : before === undefined || before === 0;
    const decisions = group.candidates.map((record) =>
      decideByStoredState(record, stored.get(record.id), chunk.taskId, chunk.force === true),
    );
    if (group.split) tally.split += 1;
    if (sameShape && decisions.every((decision) => decision === 'unchanged')) {
      count(tally.skippedReasons, 'unchanged');
      unchanged.push(...group.candidates.map((record) => record.id), ...(group.split ? [group.id] : []));
      continue;
    }
    if (group.split || !sameShape) reshaped.push(group);
    group.candidates.forEach((record, i) => {
      const previous = stored.get(record.id);
      const decision = decisions[i];
      if (decision === 'embed') toEmbed.push(record);
      else if (decision === 'update_metadata') toUpdate.push(record);
      else if (decision === 'unchanged') unchanged.push(record.id);
      else if (previous?.write === 'metadata') {
        // Written by an earlier attempt of this chunk (or the same record in another chunk).
        tally.vectors.metadataUpdated += 1;
      } else {
        tally.vectors.upserted += 1;
        tally.tokens += record.tokens;
        if (record.truncated) tally.truncated += 1;
      }
    });
  }
  return { toEmbed, toUpdate, unchanged, reshaped };
}

/**
 * After a reshaped record's vectors are in: what it no longer is goes, and a split record's row
 * says how many pieces it has. A dry run counts those deletions the same way and writes nothing.
 */
async function reshape(
  chunk: ChunkPlanned,
  groups: RecordGroup[],
  stored: Map<string, StoredVector>,
  tally: Tally,
  deps: EmbedChunkDeps,
): Promise<void> {
  const failed = new Set(tally.failures.map((failure) => failure.recordNumber));
  // A record that failed keeps what it had: its retry, or the next run, reshapes it.
  const done = groups.filter((group) => !failed.has(group.recordNumber));
  await deleteVectors(
    chunk,
    done.flatMap((group) => staleIds(group, previousPieces(stored.get(group.id)))),
    stored,
    tally,
    deps,
  );
  const rows = done.filter((group) => group.split).map(splitEntry);
  if (rows.length && !chunk.dryRun) await deps.hashes.put(chunk.namespace, rows, chunk.taskId, { seen: chunk.sync === 'full' });
}

/**
 * Deletes vectors (tombstoned records, surplus pieces) and notes who deleted them. An id deleted
 * by an earlier attempt of this task still counts; one deleted before, or never stored, counts nothing.
 */
async function deleteVectors(
  chunk: ChunkPlanned,
  ids: string[],
  stored: Map<string, StoredVector>,
  tally: Tally,
  deps: EmbedChunkDeps,
): Promise<void> {
  const unique = [...new Set(ids)];
  // Live rows: vectors, and split records' rows (which have no vector of their own but go too).
  const live = unique.filter((id) => stored.has(id) && stored.get(id)?.write !== 'delete');
  const liveVectors = live.filter((id) => stored.get(id)?.write !== 'split');
  const earlier = unique.filter((id) => stored.get(id)?.write === 'delete' && stored.get(id)?.taskId === chunk.taskId);
  tally.vectors.deleted += liveVectors.length + earlier.length;
  if (chunk.dryRun || live.length === 0) return;
  await deps.vectors.delete(chunk.namespace, liveVectors);
  await deps.hashes.markDeleted(chunk.namespace, live, chunk.taskId);
}

/** A full sync's seen marks on vectors it did not write, so that its deletion step keeps them. */
async function markSeen(chunk: ChunkPlanned, ids: string[], stored: Map<string, StoredVector>, deps: EmbedChunkDeps): Promise<void> {
  const vectors = [...new Set(ids)].flatMap((id) => {
    const vector = stored.get(id);
    return vector && vector.write !== 'delete' && vector.seenBy !== chunk.taskId ? [{ ...vector, id }] : [];
  });
  if (vectors.length) await deps.hashes.markSeen(chunk.namespace, vectors, chunk.taskId);
}

function chunkResult(chunk: ChunkPlanned, prepared: PreparedRecord[], tally: Tally, now: Date): ChunkEmbedded {
  const skipped = sum(Object.values(tally.skippedReasons), (n) => n);
  // A record fails once, however many of its pieces were refused.
  const failures = [...new Map(tally.failures.map((failure) => [failure.recordNumber, failure])).values()].sort(
    (a, b) => a.recordNumber - b.recordNumber,
  );
  return {
    schemaVersion: 1,
    taskId: chunk.taskId,
    chunkIndex: chunk.chunkIndex,
    ...(chunk.attempt ? { attempt: chunk.attempt } : {}),
    outcome: 'completed',
    records: {
      total: prepared.length,
      processed: prepared.length - skipped - failures.length,
      skipped,
      failed: failures.length,
      truncated: tally.truncated,
      split: tally.split,
      skippedReasons: tally.skippedReasons,
    },
    tokens: tally.tokens,
    vectors: tally.vectors,
    errors: failures
      .slice(0, MAX_REPORTED_ERRORS)
      .map(({ recordNumber, id, message }) => ({ recordNumber, ...(id ? { id } : {}), message: message.slice(0, 2000) })),
    finishedAt: now.toISOString(),
  };
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

/** Announces a chunk that could not be processed at all: its records count as failed, so that its task still ends. */
export async function failChunk(chunk: ChunkPlanned, reason: string, deps: Pick<Dependencies, 'events' | 'now'>): Promise<void> {
  await deps.events.publish('ChunkEmbedded', [failedChunk(chunk, reason, deps.now())]);
}

/** A chunk counted failed whole, every record with the reason. */
export function failedChunk(chunk: ChunkPlanned, reason: string, now: Date): ChunkEmbedded {
  return {
    schemaVersion: 1,
    taskId: chunk.taskId,
    chunkIndex: chunk.chunkIndex,
    ...(chunk.attempt ? { attempt: chunk.attempt } : {}),
    outcome: 'failed',
    records: { total: chunk.recordCount, processed: 0, skipped: 0, failed: chunk.recordCount, truncated: 0 },
    tokens: 0,
    errors: [
      { message: `records ${chunk.firstRecordNumber}-${chunk.firstRecordNumber + chunk.recordCount - 1} failed: ${reason}`.slice(0, 2000) },
    ],
    finishedAt: now.toISOString(),
  };
}
