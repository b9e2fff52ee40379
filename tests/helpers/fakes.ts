/**
 * Small fakes of the ports for use-case and edge unit tests: each fails loudly when a test reaches a method it did not expect,
 * and the stateful ones (objects, hashes) answer as the real stores do, errors included.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { EventName } from '../../events-schema';
import { loadConfig, type Config } from '../../shared/config';
import { isTerminal, type SyncProgress, type Task } from '../../shared/domain/task';
import { ProviderRejectedError, SourceError } from '../../shared/errors';
import type { ChunkPlanned, EventDetails } from '../../shared/events/types';
import { validateEvent } from '../../shared/events/validate';
import type {
  CatchupLedger,
  ChunkPlanStore,
  CatchupState,
  ContentHashStore,
  Embedder,
  Logger,
  ObjectHead,
  ObjectStore,
  PipelineEvents,
  RequestPacer,
  StoredVector,
  SyncLedger,
  SyncPage,
  TaskRepository,
  VectorRecord,
  VectorStore,
} from '../../shared/ports';

function unexpected(name: string): () => never {
  return () => {
    throw new Error(`the test did not expect ${name} to be called`);
  };
}

export function fakeTasks(methods: Partial<TaskRepository>): TaskRepository {
  return {
    create: unexpected('tasks.create'),
    get: unexpected('tasks.get'),
    start: unexpected('tasks.start'),
    completePlan: unexpected('tasks.completePlan'),
    isChunkRecorded: unexpected('tasks.isChunkRecorded'),
    recordChunk: unexpected('tasks.recordChunk'),
    finish: unexpected('tasks.finish'),
    markCompletionAnnounced: unexpected('tasks.markCompletionAnnounced'),
    addWarning: unexpected('tasks.addWarning'),
    settleStartDate: unexpected('tasks.settleStartDate'),
    noteSweep: unexpected('tasks.noteSweep'),
    reopen: unexpected('tasks.reopen'),
    ...methods,
  };
}

/** A task as the repository returns it: RUNNING, not yet planned, nothing counted. */
export function aTask(overrides: Partial<Task> = {}): Task {
  const taskId = overrides.taskId ?? 'task-1';
  const stamp = '2026-11-28T12:00:00.000Z';
  return {
    taskId,
    status: 'RUNNING',
    dataSource: 's3_csv',
    namespace: 'ns',
    request: { schemaVersion: 1, taskId, source: { type: 's3_csv', key: 'uploads/a.csv' } },
    planned: false,
    records: { total: 0, processed: 0, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {} },
    chunks: { total: 0, completed: 0, failed: 0 },
    tokens: 0,
    vectors: { upserted: 0, metadataUpdated: 0, deleted: 0 },
    errors: [],
    errorCount: 0,
    createdAt: stamp,
    updatedAt: stamp,
    completionAnnounced: false,
    ...overrides,
  };
}

/** A ChunkPlanned of a JSON Lines chunk that its schema accepts, `overrides` where a test cares. */
export function aChunkPlan(overrides: Partial<ChunkPlanned> = {}): ChunkPlanned {
  const taskId = overrides.taskId ?? 'task-1';
  const chunkIndex = overrides.chunkIndex ?? 0;
  return {
    schemaVersion: 1,
    taskId,
    chunkIndex,
    recordCount: 2,
    firstRecordNumber: chunkIndex * 2 + 1,
    namespace: 'ns',
    dataSource: 's3_csv',
    columns: { text: 'formatted_text', id: 'id', date: 'date' },
    source: {
      type: 'jsonl',
      bucket: 'test-bucket',
      key: `tasks/${taskId}/chunk-${chunkIndex}.jsonl`,
      etag: '"e"',
      header: ['id', 'formatted_text'],
      sourceUri: 'inline://test',
    },
    ...overrides,
  };
}

/** The configuration of a deployment that sets only `env` (the defaults elsewhere), as loadConfig reads it. */
export function configWith(env: Record<string, string> = {}): Config {
  return loadConfig(env);
}

export interface PublishedEvent<N extends EventName = EventName> {
  name: N;
  detail: EventDetails[N];
}

/**
 * Records what a use case publishes, in order, after checking each detail against its schema as
 * the real producer does; with `failWith`, every publish fails as an unreachable bus would.
 */
export function recordingEvents(options: { failWith?: Error } = {}): PipelineEvents & { published: PublishedEvent[] } {
  const published: PublishedEvent[] = [];
  return {
    published,
    async publish(name, details) {
      const valid = details.map((detail) => validateEvent(name, detail));
      if (options.failWith) throw options.failWith;
      for (const detail of valid) published.push({ name, detail } as PublishedEvent);
    },
  };
}

/** The details of the published events named `name`, in order. */
export function detailsOf<N extends EventName>(published: PublishedEvent[], name: N): EventDetails[N][] {
  return published.filter((event): event is PublishedEvent<N> => event.name === name).map((event) => event.detail);
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: unknown[];
}

/** A logger that keeps what it was told, for tests whose only outcome is a log line. */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (input: unknown, ...extra: unknown[]): void =>
      void entries.push({ level, message: typeof input === 'string' ? input : String((input as { message?: unknown }).message), extra });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An ObjectStore whose every method fails loudly unless the test gives it. */
export function fakeObjects(methods: Partial<Omit<ObjectStore, 'bucket'>>, bucket = 'test-bucket'): ObjectStore {
  return { bucket, head: unexpected('objects.head'), read: unexpected('objects.read'), put: unexpected('objects.put'), ...methods };
}

/**
 * A bucket in memory, streaming objects in small pieces as S3 does, with S3's answers: a missing
 * key or a changed ETag fails the read with the SourceError the S3 adapter throws.
 */
export function memoryObjects(
  files: Record<string, string | Buffer> = {},
  options: { bucket?: string; pieceBytes?: number } = {},
): ObjectStore & { files: Map<string, Buffer>; reads: { key: string; start?: number; end?: number; versionId?: string }[] } {
  const bucket = options.bucket ?? 'test-bucket';
  const pieceBytes = options.pieceBytes ?? 16;
  const stored = new Map(Object.entries(files).map(([key, body]) => [key, Buffer.from(body)]));
  const reads: { key: string; start?: number; end?: number; versionId?: string }[] = [];
  const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;
  const headOf = (key: string, body: Buffer): ObjectHead => ({ bucket, key, size: body.length, etag: etagOf(body) });
  return {
    bucket,
    files: stored,
    reads,
    async head(key) {
      const body = stored.get(key);
      return body && headOf(key, body);
    },
    // Keeps one version of each key: a named version is noted with the read, for the tests to check it was asked for.
    async read(key, { start, end, etag, versionId } = {}) {
      reads.push({ key, start, end, ...(versionId ? { versionId } : {}) });
      const body = stored.get(key);
      if (!body) throw new SourceError(`s3://${bucket}/${key} does not exist`);
      if (etag !== undefined && etag !== etagOf(body)) {
        throw new SourceError(`s3://${bucket}/${key} changed after it was planned (its ETag is no longer ${etag})`);
      }
      const bytes = body.subarray(start ?? 0, end ?? body.length);
      const pieces: Buffer[] = [];
      for (let offset = 0; offset < bytes.length; offset += pieceBytes) pieces.push(bytes.subarray(offset, offset + pieceBytes));
      return Readable.from(pieces);
    },
    async put(key, body) {
      const bytes = Buffer.from(body);
      stored.set(key, bytes);
      return headOf(key, bytes);
    },
  };
}

/** What the fake embedder bills for an input: its cl100k token count, as OpenAI's usage would say. */
export function tokensOf(input: string): number {
  return encode(input).length;
}

/**
 * An embedder answering each input with a small vector of its own. A request holding an input that
 * `rejects` picks is refused as OpenAI refuses a bad input: the whole request, with a 400. With
 * `failWith`, every request fails with that error.
 */
export function fakeEmbedder(
  options: { rejects?: (input: string) => boolean; failWith?: () => Error } = {},
): Embedder & { requests: string[][] } {
  const requests: string[][] = [];
  return {
    description: 'fake embedder',
    model: 'fake-embedding-model',
    dimensions: 3,
    requests,
    async embed(inputs) {
      requests.push(inputs);
      if (options.failWith) throw options.failWith();
      const bad = inputs.findIndex((input) => options.rejects?.(input));
      if (bad !== -1) {
        throw new ProviderRejectedError(`input ${bad} is invalid`, { provider: 'openai', status: 400, type: 'invalid_request_error' });
      }
      return {
        vectors: inputs.map((input) => Float32Array.of(input.length, tokensOf(input), 1)),
        tokens: inputs.reduce((sum, input) => sum + tokensOf(input), 0),
      };
    },
  };
}

/** A vector store in memory that keeps each upsert and delete; `upsert` fails as `failWith` says for a batch, when it says. */
export function recordingVectors(options: { failWith?: (records: VectorRecord[]) => Error | undefined } = {}): VectorStore & {
  upserts: { namespace: string; ids: string[] }[];
  deletes: { namespace: string; ids: string[] }[];
  stored: Map<string, VectorRecord>;
} {
  const upserts: { namespace: string; ids: string[] }[] = [];
  const deletes: { namespace: string; ids: string[] }[] = [];
  const stored = new Map<string, VectorRecord>();
  return {
    description: 'recording vector store',
    upserts,
    deletes,
    stored,
    async upsert(namespace, records) {
      const error = options.failWith?.(records);
      if (error) throw error;
      upserts.push({ namespace, ids: records.map((record) => record.id) });
      for (const { id, values, metadata } of records) stored.set(`${namespace}/${id}`, { id, values, metadata });
    },
    async fetch(namespace, ids) {
      const found = new Map<string, VectorRecord>();
      for (const id of ids) {
        const record = stored.get(`${namespace}/${id}`);
        if (record) found.set(id, record);
      }
      return found;
    },
    async delete(namespace, ids) {
      deletes.push({ namespace, ids });
      for (const id of ids) stored.delete(`${namespace}/${id}`);
    },
    query: unexpected('vectors.query'),
  };
}

/** The fingerprint store in memory, one entry per namespace and id, the last write winning; datasets paged in id order. */
export function memoryHashes(): ContentHashStore & { stored: Map<string, StoredVector & { id: string; namespace: string }>; puts: number } {
  const stored = new Map<string, StoredVector & { id: string; namespace: string }>();
  const write = (namespace: string, vector: StoredVector & { id: string }) =>
    stored.set(`${namespace}/${vector.id}`, { ...vector, namespace });
  const store: ContentHashStore & { stored: typeof stored; puts: number } = {
    stored,
    puts: 0,
    async get(namespace, ids) {
      const found = new Map<string, StoredVector>();
      for (const id of ids) {
        const entry = stored.get(`${namespace}/${id}`);
        if (entry) {
          const { id: _id, namespace: _namespace, ...vector } = entry;
          found.set(id, vector);
        }
      }
      return found;
    },
    async put(namespace, entries, taskId, options = {}) {
      store.puts += 1;
      for (const entry of entries) write(namespace, { ...entry, taskId, ...(options.seen ? { seenBy: taskId } : {}) });
    },
    async markSeen(namespace, vectors, taskId) {
      for (const vector of vectors) write(namespace, { ...vector, seenBy: taskId });
    },
    async markDeleted(namespace, ids, taskId) {
      for (const id of ids) write(namespace, { id, inputHash: '', metadataHash: '', taskId, write: 'delete' });
    },
    async delete(namespace, ids) {
      for (const id of ids) stored.delete(`${namespace}/${id}`);
    },
    async scanDataset(namespace, dataset, { cursor, limit }) {
      const ids = [...stored.values()]
        .filter((entry) => entry.namespace === namespace && entry.dataset === dataset && entry.write !== 'delete')
        .map((entry) => entry.id)
        .sort();
      const start = cursor ? ids.findIndex((id) => id > cursor) : 0;
      const page = start < 0 ? [] : ids.slice(start, start + limit);
      const entries = page.map((id) => ({ id, seenBy: stored.get(`${namespace}/${id}`)?.seenBy }));
      const more = start >= 0 && start + limit < ids.length;
      return { entries, ...(more ? { cursor: page[page.length - 1] } : {}) };
    },
  };
  return store;
}

/**
 * The catch-up ledger in memory, with the DynamoDB one's semantics: `begin` adds a run and bumps the version, `claim` holds only
 * at the version read, `end` forgets the run and moves the watermark forward only. `entries` is what it holds, by key.
 */
export function memoryCatchup(): CatchupLedger & { entries: Map<string, CatchupState> } {
  const entries = new Map<string, CatchupState>();
  const entry = (key: string) => entries.get(key) ?? { running: [], version: 0 };
  return {
    entries,
    async get(key) {
      const { watermark, running, version } = entry(key);
      return { ...(watermark ? { watermark: { ...watermark } } : {}), running: [...running].sort(), version };
    },
    async begin(key, taskId) {
      const current = entry(key);
      entries.set(key, { ...current, running: [...new Set([...current.running, taskId])], version: current.version + 1 });
    },
    async claim(key, taskId, version) {
      const current = entry(key);
      if (current.version !== version) return false;
      entries.set(key, { ...current, running: [taskId], version: version + 1 });
      return true;
    },
    async end(key, taskId, completed) {
      if (!entries.has(key) && !completed) return;
      const current = entry(key);
      const later = completed && (!current.watermark || current.watermark.startedAt < completed.startedAt);
      entries.set(key, {
        ...current,
        running: current.running.filter((id) => id !== taskId),
        ...(later ? { watermark: { ...completed } } : {}),
      });
    },
  };
}

/** Chunk plans in memory, by task and index; `recorded` holds the chunks (`<task>#<index>`) a test says have a result. */
export function memoryPlans(): ChunkPlanStore & { saved: Map<string, ChunkPlanned>; recorded: Set<string> } {
  const saved = new Map<string, ChunkPlanned>();
  const recorded = new Set<string>();
  return {
    saved,
    recorded,
    async save(chunks) {
      for (const chunk of chunks) saved.set(`${chunk.taskId}#${chunk.chunkIndex}`, structuredClone(chunk));
    },
    async ofTask(taskId) {
      return [...saved.values()].filter((plan) => plan.taskId === taskId).sort((a, b) => a.chunkIndex - b.chunkIndex);
    },
    async unrecorded(taskId) {
      return [...saved.entries()]
        .filter(([key, plan]) => plan.taskId === taskId && !recorded.has(key))
        .map(([, plan]) => structuredClone(plan))
        .sort((a, b) => a.chunkIndex - b.chunkIndex);
    },
  };
}

/** A sync ledger whose every method fails loudly unless the test gives it (settling a task that does not sync never calls it). */
export function fakeSync(methods: Partial<SyncLedger> = {}): SyncLedger {
  return {
    begin: unexpected('sync.begin'),
    skip: unexpected('sync.skip'),
    savePage: unexpected('sync.savePage'),
    page: unexpected('sync.page'),
    advance: unexpected('sync.advance'),
    ...methods,
  };
}

/**
 * One task and its full sync's ledger in memory, with the DynamoDB ledger's conditional semantics: `begin` once, on a RUNNING
 * task without a sync; `skip` only before a sync began; `savePage` first write wins; `advance` only from the current (phase,
 * page) of a RUNNING task, adding its counts (deletions to `vectors.deleted` too) in the same step. `tasks` reads and ends the
 * same task as the task table does (`finish` once, from PENDING or RUNNING). Every answer is a copy, as a read from the table.
 */
export function memorySync(initial: Task): SyncLedger & {
  tasks: TaskRepository;
  pages: Map<number, SyncPage>;
  /** The task as stored now. */
  current(): Task;
  /** Changes the stored task, as another writer would (a cancellation, a clock). */
  update(changes: Partial<Task>): void;
} {
  let task: Task = structuredClone(initial);
  const pages = new Map<number, SyncPage>();
  const copy = (value: Task) => structuredClone(value);
  const mine = (taskId: string) => taskId === task.taskId;
  const emptySync = (phase: SyncProgress['phase']): SyncProgress => ({
    phase,
    page: 0,
    pages: 0,
    scanned: 0,
    unseen: 0,
    deleted: 0,
    sampleIds: [],
  });
  return {
    pages,
    current: () => copy(task),
    update(changes) {
      task = { ...task, ...structuredClone(changes) };
    },
    tasks: fakeTasks({
      get: async (taskId) => (mine(taskId) ? copy(task) : undefined),
      finish: async (taskId, status, now, error) => {
        if (!mine(taskId) || isTerminal(task.status)) return undefined;
        const stamp = now.toISOString();
        task = { ...task, status, completedAt: stamp, updatedAt: stamp, errors: error ? [error, ...task.errors] : task.errors };
        return copy(task);
      },
      markCompletionAnnounced: async (taskId) => {
        if (mine(taskId)) task = { ...task, completionAnnounced: true };
      },
    }),
    async begin(taskId, now) {
      if (!mine(taskId) || task.sync || task.status !== 'RUNNING') return undefined;
      const stamp = now.toISOString();
      task = { ...task, sync: { ...emptySync('scan'), claimedAt: stamp }, updatedAt: stamp };
      return copy(task);
    },
    async skip(taskId, reason, now) {
      if (!mine(taskId) || task.sync) return;
      task = { ...task, sync: { ...emptySync('skipped'), skippedReason: reason }, updatedAt: now.toISOString() };
    },
    async savePage(taskId, page, content) {
      if (!mine(taskId)) throw new Error(`memorySync holds the pages of task ${task.taskId} only, not of ${taskId}`);
      const stored = pages.get(page);
      if (stored) return structuredClone(stored);
      pages.set(page, structuredClone(content));
      return content;
    },
    async page(taskId, page) {
      const stored = mine(taskId) ? pages.get(page) : undefined;
      return stored && structuredClone(stored);
    },
    async advance(taskId, from, to, add, now) {
      const { sync } = task;
      if (!mine(taskId) || !sync || sync.phase !== from.phase || sync.page !== from.page || task.status !== 'RUNNING') return undefined;
      const stamp = now.toISOString();
      const deleted = add.deleted ?? 0;
      task = {
        ...task,
        updatedAt: stamp,
        vectors: { ...task.vectors, deleted: task.vectors.deleted + deleted },
        sync: {
          ...sync,
          phase: to.phase,
          page: to.page,
          claimedAt: stamp,
          scanned: sync.scanned + (add.scanned ?? 0),
          unseen: sync.unseen + (add.unseen ?? 0),
          deleted: sync.deleted + deleted,
          ...(add.sampleIds ? { sampleIds: [...add.sampleIds] } : {}),
          ...(add.pages !== undefined ? { pages: add.pages } : {}),
          ...(add.skippedReason ? { skippedReason: add.skippedReason } : {}),
        },
      };
      return copy(task);
    },
  };
}

/** A pacer that never waits, and notes the tokens each request asked for. */
export function freePacer(): RequestPacer & { acquired: (number | undefined)[] } {
  const acquired: (number | undefined)[] = [];
  return { acquired, acquire: async (tokens) => void acquired.push(tokens) };
}
