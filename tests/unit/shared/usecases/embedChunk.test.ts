/**
 * The embedder on a small JSON Lines chunk: unchanged records cost nothing, changed ones are
 * embedded and upserted, a provider rejecting one input or one vector fails that record only,
 * and a chunk already counted (or of an ended task) is left alone.
 */
import type { Task } from '../../../../shared/domain/task';
import { ProviderRejectedError, ProviderUnavailableError } from '../../../../shared/errors';
import type { ChunkEmbedded, ChunkPlanned } from '../../../../shared/events/types';
import type { Embedder, ObjectStore, VectorRecord, VectorStore } from '../../../../shared/ports';
import { embedChunk, type EmbedChunkDeps } from '../../../../shared/usecases/embedChunk';
import {
  aTask,
  configWith,
  detailsOf,
  fakeEmbedder,
  fakeObjects,
  fakeTasks,
  freePacer,
  memoryHashes,
  memoryObjects,
  recordingEvents,
  recordingVectors,
  silentLogger,
  tokensOf,
} from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:20:00.000Z');
const NAMESPACE = 'crm';
type Row = { id?: string; formatted_text: string; tier?: string; date?: string; _deleted?: string | number | boolean };

const ROWS: Row[] = [
  { id: 'c-1', formatted_text: 'Red running shoes', tier: 'gold' },
  { id: 'c-2', formatted_text: 'Returned a blue hat', tier: 'silver' },
  { id: 'c-3', formatted_text: 'Wants green socks', tier: 'gold' },
];

const chunkKey = (taskId: string) => `tasks/${taskId}/chunk-000000.jsonl`;
const jsonLines = (rows: Row[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
const sum = (texts: string[]) => texts.reduce((total, text) => total + tokensOf(text), 0);

/** A JSON Lines chunk of `rows`; `sourceUri` names where its records came from (their `_source`). */
async function plannedChunk(
  objects: ObjectStore,
  taskId: string,
  rows: Row[],
  { sourceUri = 'inline://crm', ...extra }: Partial<ChunkPlanned> & { sourceUri?: string } = {},
): Promise<ChunkPlanned> {
  const written = await objects.put(chunkKey(taskId), jsonLines(rows));
  return {
    schemaVersion: 1,
    taskId,
    chunkIndex: 0,
    recordCount: rows.length,
    firstRecordNumber: 1,
    namespace: NAMESPACE,
    dataSource: 'inline',
    columns: { text: 'formatted_text', id: 'id', date: 'date' },
    source: {
      type: 'jsonl',
      bucket: objects.bucket,
      key: written.key,
      etag: written.etag,
      header: ['id', 'formatted_text', 'tier'],
      sourceUri,
    },
    ...extra,
  };
}

/** The ports of one embedder invocation; the hash store and the bucket may be shared between runs. */
function embedderDeps(parts: {
  objects: ObjectStore;
  hashes?: ReturnType<typeof memoryHashes>;
  embedder?: Embedder;
  vectors?: VectorStore;
  env?: Record<string, string>;
  task?: Task;
  recorded?: boolean;
}) {
  const events = recordingEvents();
  const deps: EmbedChunkDeps = {
    config: configWith(parts.env),
    tasks: fakeTasks({
      get: async (taskId) => parts.task ?? aTask({ taskId, dataSource: 'inline', namespace: NAMESPACE }),
      isChunkRecorded: async () => parts.recorded ?? false,
    }),
    objects: parts.objects,
    events,
    embedder: parts.embedder ?? fakeEmbedder(),
    pacer: freePacer(),
    vectors: parts.vectors ?? recordingVectors(),
    hashes: parts.hashes ?? memoryHashes(),
    logger: silentLogger,
    now: () => NOW,
  };
  return { deps, published: events.published };
}

function onlyResult(published: ReturnType<typeof recordingEvents>['published']): ChunkEmbedded {
  const results = detailsOf(published, 'ChunkEmbedded');
  expect(results).toHaveLength(1);
  expect(published).toHaveLength(1);
  return results[0];
}

describe('embedChunk', () => {
  it('embeds and upserts every new record, notes their hashes and announces exact counts', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const hashes = memoryHashes();
    const { deps, published } = embedderDeps({ objects, embedder, vectors, hashes });
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), deps);

    const texts = ROWS.map((row) => row.formatted_text);
    expect(embedder.requests).toEqual([texts]);
    expect(vectors.upserts).toEqual([{ namespace: NAMESPACE, ids: ['c-1', 'c-2', 'c-3'] }]);
    expect(vectors.stored.get(`${NAMESPACE}/c-1`)?.metadata).toMatchObject({
      text: 'Red running shoes',
      tier: 'gold',
      _task_id: 'task-1',
      _record_number: 1,
      _source: 'inline://crm',
    });
    expect([...hashes.stored.values()].map((entry) => entry.taskId)).toEqual(['task-1', 'task-1', 'task-1']);
    expect(onlyResult(published)).toEqual({
      schemaVersion: 1,
      taskId: 'task-1',
      chunkIndex: 0,
      outcome: 'completed',
      records: { total: 3, processed: 3, skipped: 0, failed: 0, truncated: 0, split: 0, skippedReasons: {} },
      tokens: sum(texts),
      vectors: { upserted: 3, metadataUpdated: 0, deleted: 0 },
      errors: [],
      finishedAt: NOW.toISOString(),
    });
  });

  it("sizes each embedding request to the pacer's limit when it is sent, as the pacer learns the provider's window", async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const { deps } = embedderDeps({ objects, embedder });
    const [first, second, third] = ROWS.map((row) => tokensOf(row.formatted_text));
    // Room for the first two records until the first answer, then for one at a time.
    let limit = first + second;
    deps.pacer = { acquire: async () => undefined, observe: () => void (limit = third), requestTokenLimit: () => limit };
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), deps);

    expect(embedder.requests).toEqual([ROWS.slice(0, 2).map((row) => row.formatted_text), [ROWS[2].formatted_text]]);
  });

  it("embeds the next batch while the last batch's upserts are in flight, never two batches' upserts at once", async () => {
    const objects = memoryObjects();
    const log: string[] = [];
    const recording = recordingVectors();
    const vectors: VectorStore = {
      ...recording,
      async upsert(namespace, records) {
        log.push(`upsert ${records.map((record) => record.id).join(',')} starts`);
        // An upsert round trip: the rest of the chunk may go on meanwhile.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await recording.upsert(namespace, records);
        log.push(`upsert ${records.map((record) => record.id).join(',')} ends`);
      },
    };
    const inner = fakeEmbedder();
    const embedder: Embedder = { ...inner, embed: async (inputs) => (log.push(`embed ${inputs.length}`), inner.embed(inputs)) };
    const { deps, published } = embedderDeps({ objects, embedder, vectors });
    // One record a request.
    deps.pacer = { acquire: async () => undefined, requestTokenLimit: () => 1 };
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), deps);

    expect(log).toEqual([
      'embed 1',
      'upsert c-1 starts',
      'embed 1',
      'upsert c-1 ends',
      'upsert c-2 starts',
      'embed 1',
      'upsert c-2 ends',
      'upsert c-3 starts',
      'upsert c-3 ends',
    ]);
    expect(onlyResult(published)).toMatchObject({ records: { processed: 3 }, vectors: { upserted: 3 } });
  });

  it('skips records unchanged since another task upserted them, and embeds only the changed one', async () => {
    const objects = memoryObjects();
    const hashes = memoryHashes();
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), embedderDeps({ objects, hashes }).deps);

    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, hashes, embedder, vectors });
    const changed = [ROWS[0], { ...ROWS[1], formatted_text: 'Returned a blue hat and a scarf' }, ROWS[2]];
    await embedChunk(await plannedChunk(objects, 'task-2', changed), deps);

    expect(embedder.requests).toEqual([['Returned a blue hat and a scarf']]);
    expect(vectors.upserts).toEqual([{ namespace: NAMESPACE, ids: ['c-2'] }]);
    expect(onlyResult(published)).toMatchObject({
      taskId: 'task-2',
      records: { total: 3, processed: 1, skipped: 2, failed: 0, skippedReasons: { unchanged: 2 } },
      tokens: tokensOf('Returned a blue hat and a scarf'),
    });
  });

  it('re-embeds unchanged records when the run is forced', async () => {
    const objects = memoryObjects();
    const hashes = memoryHashes();
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), embedderDeps({ objects, hashes }).deps);

    const embedder = fakeEmbedder();
    const { deps, published } = embedderDeps({ objects, hashes, embedder });
    await embedChunk(await plannedChunk(objects, 'task-2', ROWS, { force: true }), deps);

    expect(embedder.requests).toEqual([ROWS.map((row) => row.formatted_text)]);
    expect(onlyResult(published).records).toMatchObject({ processed: 3, skipped: 0 });
  });

  it('fails only the record whose input the provider rejects with a 400; the rest of its batch goes through', async () => {
    const rows = [...ROWS, { id: 'c-4', formatted_text: 'Likes yellow scarves', tier: 'silver' }];
    rows[2] = { id: 'c-3', formatted_text: 'REJECT this input', tier: 'gold' };
    const objects = memoryObjects();
    const embedder = fakeEmbedder({ rejects: (input) => input.startsWith('REJECT') });
    const vectors = recordingVectors();
    const hashes = memoryHashes();
    const { deps, published } = embedderDeps({ objects, embedder, vectors, hashes });
    await embedChunk(await plannedChunk(objects, 'task-1', rows), deps);

    const [a, b, c, d] = rows.map((row) => row.formatted_text);
    // Halved until the bad input stands alone.
    expect(embedder.requests).toEqual([[a, b, c, d], [a, b], [c, d], [c], [d]]);
    expect(vectors.upserts).toEqual([{ namespace: NAMESPACE, ids: ['c-1', 'c-2', 'c-4'] }]);
    expect([...hashes.stored.keys()].sort()).toEqual([`${NAMESPACE}/c-1`, `${NAMESPACE}/c-2`, `${NAMESPACE}/c-4`]);
    expect(onlyResult(published)).toMatchObject({
      outcome: 'completed',
      records: { total: 4, processed: 3, skipped: 0, failed: 1 },
      tokens: sum([a, b, d]),
      errors: [{ recordNumber: 3, id: 'c-3', message: 'embedding rejected: input 0 is invalid' }],
    });
  });

  it('fails only the record whose vector the store rejects with a 400', async () => {
    const objects = memoryObjects();
    const rejected = new ProviderRejectedError('metadata too large', { provider: 'pinecone', status: 400, operation: 'upsert' });
    const vectors = recordingVectors({ failWith: (records) => (records.some((record) => record.id === 'c-2') ? rejected : undefined) });
    const { deps, published } = embedderDeps({ objects, vectors });
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS), deps);

    expect(vectors.upserts).toEqual([
      { namespace: NAMESPACE, ids: ['c-1'] },
      { namespace: NAMESPACE, ids: ['c-3'] },
    ]);
    expect(onlyResult(published)).toMatchObject({
      records: { total: 3, processed: 2, failed: 1 },
      tokens: sum(ROWS.map((row) => row.formatted_text)),
      errors: [{ recordNumber: 2, id: 'c-2', message: 'upsert rejected: metadata too large' }],
    });
  });

  it('fails the whole attempt, announcing nothing, when the provider is unavailable (a retry may succeed)', async () => {
    const objects = memoryObjects();
    const throttled = new ProviderUnavailableError('rate limited', { provider: 'openai', status: 429 });
    const embedder = fakeEmbedder({ failWith: () => throttled });
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, embedder, vectors });

    await expect(embedChunk(await plannedChunk(objects, 'task-1', ROWS), deps)).rejects.toBe(throttled);
    expect(embedder.requests).toHaveLength(1);
    expect(vectors.upserts).toEqual([]);
    expect(published).toEqual([]);
  });

  it('resumes after an attempt that failed part-way: what it upserted counts as processed and costs nothing again', async () => {
    const objects = memoryObjects();
    const hashes = memoryHashes();
    const env = { PINECONE_BATCH_SIZE: '1' };
    const down = new ProviderUnavailableError('pinecone is down', { provider: 'pinecone', status: 503 });
    const chunk = await plannedChunk(objects, 'task-1', ROWS);
    const flaky = recordingVectors({ failWith: (records: VectorRecord[]) => (records[0].id === 'c-2' ? down : undefined) });
    await expect(embedChunk(chunk, embedderDeps({ objects, hashes, env, vectors: flaky }).deps)).rejects.toBe(down);
    // The three upserts went out together: the two that passed are noted.
    expect(flaky.upserts.map((upsert) => upsert.ids)).toEqual([['c-1'], ['c-3']]);

    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, hashes, env, embedder, vectors });
    await embedChunk(chunk, deps);

    expect(embedder.requests).toEqual([[ROWS[1].formatted_text]]);
    expect(vectors.upserts.map((upsert) => upsert.ids)).toEqual([['c-2']]);
    expect(onlyResult(published)).toMatchObject({
      records: { total: 3, processed: 3, skipped: 0, failed: 0, skippedReasons: {} },
      tokens: sum(ROWS.map((row) => row.formatted_text)),
    });
  });

  it('counts a record with empty text as skipped and one without an id as failed', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const { deps, published } = embedderDeps({ objects, embedder });
    const rows: Row[] = [ROWS[0], { id: 'c-2', formatted_text: '   ' }, { id: '', formatted_text: 'No id here' }];
    await embedChunk(await plannedChunk(objects, 'task-1', rows), deps);

    expect(embedder.requests).toEqual([['Red running shoes']]);
    expect(onlyResult(published)).toMatchObject({
      records: { total: 3, processed: 1, skipped: 1, failed: 1, skippedReasons: { empty_text: 1 } },
      errors: [{ recordNumber: 3, message: 'column "id" is empty: a vector needs an id' }],
    });
  });

  it('with long_text=truncate, embeds a text over the token limit cut to it, counted and marked as truncated', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, embedder, vectors });
    const rows = [ROWS[0], { id: 'long', formatted_text: 'word '.repeat(9000).trim() }];
    await embedChunk(await plannedChunk(objects, 'task-1', rows, { longText: 'truncate' }), deps);

    const sent = embedder.requests.flat();
    expect(sent).toHaveLength(2);
    expect(tokensOf(sent[1])).toBeLessThanOrEqual(8191);
    expect(vectors.stored.get(`${NAMESPACE}/long`)?.metadata._truncated).toBe(true);
    expect(vectors.stored.get(`${NAMESPACE}/c-1`)?.metadata).not.toHaveProperty('_truncated');
    expect(onlyResult(published)).toMatchObject({ records: { total: 2, processed: 2, truncated: 1 }, tokens: sum(sent) });
  });

  it('splits a text over the token limit into pieces within it, the record counted once, each piece a vector', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const hashes = memoryHashes();
    const { deps, published } = embedderDeps({ objects, embedder, vectors, hashes });
    const long = Array.from({ length: 1200 }, (_, i) => `Sentence ${i} is about red shoes.`).join(' ');
    await embedChunk(await plannedChunk(objects, 'task-1', [ROWS[0], { id: 'long', formatted_text: long }]), deps);

    const pieces = [...vectors.stored.values()].filter((vector) => vector.metadata._parent_id === 'long');
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(vectors.stored.has(`${NAMESPACE}/long`)).toBe(false);
    for (const piece of pieces) expect(tokensOf(String(piece.metadata.text))).toBeLessThanOrEqual(8191);
    expect(hashes.stored.get(`${NAMESPACE}/long`)).toMatchObject({ write: 'split', pieces: pieces.length });
    expect(onlyResult(published)).toMatchObject({
      records: { total: 2, processed: 2, truncated: 0, split: 1 },
      vectors: { upserted: pieces.length + 1, metadataUpdated: 0, deleted: 0 },
    });
  });

  it('spends nothing on a dry run, reporting the tokens it would have spent', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const hashes = memoryHashes();
    const { deps, published } = embedderDeps({ objects, embedder, vectors, hashes });
    await embedChunk(await plannedChunk(objects, 'task-1', ROWS, { dryRun: true }), deps);

    expect(embedder.requests).toEqual([]);
    expect(vectors.upserts).toEqual([]);
    expect(hashes.puts).toBe(0);
    expect(onlyResult(published)).toMatchObject({
      records: { total: 3, processed: 3 },
      tokens: sum(ROWS.map((row) => row.formatted_text)),
    });
  });

  it('reads a CSV range of the version its task was pinned to', async () => {
    const csv = `id,formatted_text,tier\n${ROWS.map((row) => `${row.id},${row.formatted_text},${row.tier}`).join('\n')}\n`;
    const objects = memoryObjects({ 'uploads/crm.csv': csv });
    const head = await objects.head('uploads/crm.csv');
    const chunk = await plannedChunk(objects, 'task-1', ROWS, { dataSource: 's3_csv' });
    const byteStart = csv.indexOf('\n') + 1;
    const source = { type: 'csv_range', bucket: objects.bucket, key: 'uploads/crm.csv', versionId: 'v1', etag: head!.etag } as const;
    const { deps, published } = embedderDeps({ objects });
    objects.reads.length = 0;

    await embedChunk(
      { ...chunk, source: { ...source, byteStart, byteEnd: csv.length, header: ['id', 'formatted_text', 'tier'], delimiter: ',' } },
      deps,
    );

    expect(objects.reads).toEqual([{ key: 'uploads/crm.csv', start: byteStart, end: csv.length, versionId: 'v1' }]);
    expect(onlyResult(published).records).toMatchObject({ processed: 3, failed: 0 });
  });

  it('does nothing for a chunk already recorded (a duplicate delivery): nothing read, embedded or published', async () => {
    const embedder = fakeEmbedder();
    const chunk = await plannedChunk(memoryObjects(), 'task-1', ROWS);
    const { deps, published } = embedderDeps({ objects: fakeObjects({}), embedder, recorded: true });
    await embedChunk(chunk, deps);
    expect(embedder.requests).toEqual([]);
    expect(published).toEqual([]);
  });

  it('does nothing for a chunk of a task that has ended', async () => {
    const embedder = fakeEmbedder();
    const chunk = await plannedChunk(memoryObjects(), 'task-1', ROWS);
    const cancelled = aTask({ taskId: 'task-1', status: 'CANCELLED' });
    const { deps, published } = embedderDeps({ objects: fakeObjects({}), embedder, task: cancelled });
    await embedChunk(chunk, deps);
    expect(embedder.requests).toEqual([]);
    expect(published).toEqual([]);
  });
});

/** The stores an index in step keeps across runs: the bucket of chunks, the fingerprints and the vectors. */
function stores() {
  return { objects: memoryObjects(), hashes: memoryHashes(), vectors: recordingVectors() };
}

type Stores = ReturnType<typeof stores>;

/** Delivers a chunk to a fresh embedder over the shared stores: its ChunkEmbedded, and what it asked and wrote. */
async function deliver(store: Stores, chunk: ChunkPlanned) {
  const embedder = fakeEmbedder();
  const { deps, published } = embedderDeps({ ...store, embedder });
  const upserted = store.vectors.upserts.length;
  const deleted = store.vectors.deletes.length;
  const puts = store.hashes.puts;
  await embedChunk(chunk, deps);
  return {
    result: onlyResult(published),
    requests: embedder.requests,
    upserts: store.vectors.upserts.slice(upserted),
    deletes: store.vectors.deletes.slice(deleted),
    puts: store.hashes.puts - puts,
  };
}

const deliverRows = async (store: Stores, taskId: string, rows: Row[], extra: Parameters<typeof plannedChunk>[3] = {}) =>
  deliver(store, await plannedChunk(store.objects, taskId, rows, extra));

const vectorOf = (store: Stores, id: string) => store.vectors.stored.get(`${NAMESPACE}/${id}`);
const hashOf = (store: Stores, id: string) => store.hashes.stored.get(`${NAMESPACE}/${id}`);
const noTokens = { tokens: 0, vectors: { upserted: 0, metadataUpdated: 0, deleted: 0 } };

describe('embedChunk keeping the index in step', () => {
  it('rewrites the metadata of a record whose business column changed: stored values kept, 0 tokens, metadataUpdated', async () => {
    const store = stores();
    await deliverRows(store, 'task-1', ROWS);
    const before = { c2: vectorOf(store, 'c-2'), c3: vectorOf(store, 'c-3'), c2Hash: hashOf(store, 'c-2') };

    const changed = [ROWS[0], { ...ROWS[1], tier: 'gold' }, { id: 'c-3', formatted_text: ROWS[2].formatted_text }];
    const chunk = await plannedChunk(store.objects, 'task-2', changed);
    const run = await deliver(store, chunk);

    expect(run.requests).toEqual([]);
    expect(run.upserts).toEqual([{ namespace: NAMESPACE, ids: ['c-2', 'c-3'] }]);
    expect(vectorOf(store, 'c-2')?.values).toEqual(before.c2?.values);
    expect(vectorOf(store, 'c-2')?.metadata).toEqual({ ...before.c2?.metadata, tier: 'gold', _task_id: 'task-2' });
    // The metadata is replaced whole: a column emptied at the source disappears.
    expect(vectorOf(store, 'c-3')?.values).toEqual(before.c3?.values);
    expect(vectorOf(store, 'c-3')?.metadata).not.toHaveProperty('tier');
    expect(vectorOf(store, 'c-3')?.metadata).toMatchObject({ text: 'Wants green socks', _task_id: 'task-2' });
    expect(hashOf(store, 'c-2')).toMatchObject({ inputHash: before.c2Hash?.inputHash, taskId: 'task-2', write: 'metadata' });
    expect(hashOf(store, 'c-2')?.metadataHash).not.toBe(before.c2Hash?.metadataHash);
    expect(hashOf(store, 'c-1')).toMatchObject({ taskId: 'task-1', write: 'embed' });
    const expected = {
      records: { total: 3, processed: 2, skipped: 1, failed: 0, truncated: 0, skippedReasons: { unchanged: 1 } },
      tokens: 0,
      vectors: { upserted: 0, metadataUpdated: 2, deleted: 0 },
      errors: [],
    };
    expect(run.result).toMatchObject(expected);

    // A retry of the chunk (its ChunkEmbedded lost) counts the updates its earlier attempt made, and writes nothing.
    const retry = await deliver(store, chunk);
    expect(retry.upserts).toEqual([]);
    expect(retry.puts).toBe(0);
    expect(retry.result).toMatchObject(expected);
  });

  it('leaves alone a record whose only change is provenance: another object of the same dataset, another record number', async () => {
    const store = stores();
    await deliverRows(store, 'task-1', ROWS, { dataset: 'crm', sourceUri: 's3://test-bucket/exports/2026-11-27.jsonl' });
    const before = [...store.hashes.stored.values()];

    const reordered = [ROWS[2], ROWS[0], ROWS[1]];
    const run = await deliverRows(store, 'task-2', reordered, { dataset: 'crm', sourceUri: 's3://test-bucket/exports/2026-11-28.jsonl' });

    expect(run.requests).toEqual([]);
    expect(run.upserts).toEqual([]);
    expect(run.puts).toBe(0);
    expect([...store.hashes.stored.values()]).toEqual(before);
    expect(vectorOf(store, 'c-1')?.metadata).toMatchObject({
      _dataset: 'crm',
      _source: 's3://test-bucket/exports/2026-11-27.jsonl',
      _task_id: 'task-1',
    });
    expect(run.result).toMatchObject({
      records: { total: 3, processed: 0, skipped: 3, failed: 0, skippedReasons: { unchanged: 3 } },
      ...noTokens,
    });
  });

  it('deletes the vectors tombstone rows name (true, 1, yes, a date) and counts them; other values keep the row', async () => {
    const store = stores();
    const six: Row[] = [
      ...ROWS,
      { id: 'c-4', formatted_text: 'Asks about gloves' },
      { id: 'c-5', formatted_text: 'Bought a coat' },
      { id: 'c-6', formatted_text: 'Likes ties' },
    ];
    await deliverRows(store, 'task-1', six);
    const columns = { text: 'formatted_text', id: 'id', date: 'date', deleted: '_deleted' };

    const marked: Row[] = [
      { ...six[0], _deleted: true },
      { ...six[1], _deleted: 1 },
      { ...six[2], _deleted: 'YES' },
      { ...six[3], _deleted: '2026-11-27 10:00' },
      { ...six[4], _deleted: 'no' },
      { ...six[5], _deleted: '' },
      { id: 'c-404', formatted_text: 'never stored', _deleted: 'true' },
    ];
    const chunk = await plannedChunk(store.objects, 'task-2', marked, { columns });
    const run = await deliver(store, chunk);

    const gone = ['c-1', 'c-2', 'c-3', 'c-4'];
    expect(run.deletes).toEqual([{ namespace: NAMESPACE, ids: gone }]);
    expect(run.requests).toEqual([]);
    expect(run.upserts).toEqual([]);
    expect([...store.vectors.stored.keys()]).toEqual([`${NAMESPACE}/c-5`, `${NAMESPACE}/c-6`]);
    for (const id of gone) expect(hashOf(store, id)).toMatchObject({ write: 'delete', taskId: 'task-2', inputHash: '', metadataHash: '' });
    expect(hashOf(store, 'c-404')).toBeUndefined();
    const expected = {
      records: { total: 7, processed: 5, skipped: 2, failed: 0, truncated: 0, skippedReasons: { unchanged: 2 } },
      tokens: 0,
      vectors: { upserted: 0, metadataUpdated: 0, deleted: 4 },
      errors: [],
    };
    expect(run.result).toMatchObject(expected);

    // A retry after the deletion counts what its earlier attempt deleted (the markers say so), and deletes nothing again.
    const retry = await deliver(store, chunk);
    expect(retry.deletes).toEqual([]);
    expect(retry.result).toMatchObject(expected);

    // Another task's tombstones of the same ids find them deleted by someone else: nothing counted, nothing deleted.
    const later = await deliverRows(store, 'task-3', marked.slice(0, 4), { columns });
    expect(later.deletes).toEqual([]);
    expect(later.result).toMatchObject({ records: { total: 4, processed: 4, skipped: 0, failed: 0 }, ...noTokens });
  });

  it('counts in a dry run the vectors tombstones would delete, and deletes none', async () => {
    const store = stores();
    await deliverRows(store, 'task-1', ROWS);
    const columns = { text: 'formatted_text', id: 'id', date: 'date', deleted: '_deleted' };
    const tombstones: Row[] = [
      { ...ROWS[0], _deleted: 'true' },
      { id: 'c-404', formatted_text: 'x', _deleted: 'true' },
    ];
    const run = await deliverRows(store, 'task-2', tombstones, { columns, dryRun: true });
    expect(run.deletes).toEqual([]);
    expect(hashOf(store, 'c-1')).toMatchObject({ write: 'embed', taskId: 'task-1' });
    expect(run.result.vectors).toEqual({ upserted: 0, metadataUpdated: 0, deleted: 1 });
  });

  it('marks seen in a full sync the records it did not write: unchanged ones, and rows skipped as dated before start_date', async () => {
    const store = stores();
    const dated: Row[] = [
      { id: 'c-1', formatted_text: 'Red running shoes', tier: 'gold', date: '2026-02-01' },
      { id: 'c-2', formatted_text: 'Returned a blue hat', tier: 'silver', date: '2026-03-01' },
      { id: 'c-3', formatted_text: 'Wants green socks', tier: 'gold', date: '2026-04-01' },
      { id: 'c-4', formatted_text: 'Old complaint', tier: 'bronze', date: '2025-06-01' },
      { id: 'c-7', formatted_text: 'Left the shop', tier: 'bronze', date: '2026-05-01' },
    ];
    await deliverRows(store, 'task-1', dated);
    const before = { c1: hashOf(store, 'c-1'), c4: hashOf(store, 'c-4'), c7: hashOf(store, 'c-7') };

    const rows: Row[] = [
      dated[0],
      { ...dated[1], formatted_text: 'Returned a blue hat and a scarf' },
      { ...dated[2], tier: 'platinum' },
      dated[3],
      { id: 'c-5', formatted_text: 'Never stored and too old', date: '2025-01-01' },
    ];
    const run = await deliverRows(store, 'task-2', rows, { sync: 'full', startDate: '2026-01-01' });

    expect(run.requests).toEqual([['Returned a blue hat and a scarf']]);
    expect(run.upserts).toEqual([
      { namespace: NAMESPACE, ids: ['c-3'] },
      { namespace: NAMESPACE, ids: ['c-2'] },
    ]);
    expect(hashOf(store, 'c-1')).toEqual({ ...before.c1, seenBy: 'task-2' });
    expect(hashOf(store, 'c-2')).toMatchObject({ taskId: 'task-2', write: 'embed', seenBy: 'task-2' });
    expect(hashOf(store, 'c-3')).toMatchObject({ taskId: 'task-2', write: 'metadata', seenBy: 'task-2' });
    expect(hashOf(store, 'c-4')).toEqual({ ...before.c4, seenBy: 'task-2' });
    // Not in this run's source: its deletion step will find it unseen.
    expect(hashOf(store, 'c-7')).toEqual(before.c7);
    expect(hashOf(store, 'c-5')).toBeUndefined();
    expect(run.result).toMatchObject({
      records: { total: 5, processed: 2, skipped: 3, failed: 0, skippedReasons: { unchanged: 1, before_start_date: 2 } },
      tokens: tokensOf('Returned a blue hat and a scarf'),
      vectors: { upserted: 1, metadataUpdated: 1, deleted: 0 },
    });
  });

  it('writes nothing in a dry-run full sync but the seen marks, also of the records it would have written', async () => {
    const store = stores();
    await deliverRows(store, 'task-1', ROWS);
    const before = new Map([...store.hashes.stored].map(([key, stored]) => [key, { ...stored }]));
    const vectorsBefore = new Map(store.vectors.stored);

    const rows: Row[] = [
      ROWS[0],
      { ...ROWS[1], formatted_text: 'Returned a blue hat and a scarf' },
      { ...ROWS[2], tier: 'platinum' },
      { id: 'c-4', formatted_text: 'New here' },
    ];
    const run = await deliverRows(store, 'task-2', rows, { sync: 'full', dryRun: true });

    expect(run.requests).toEqual([]);
    expect(run.upserts).toEqual([]);
    expect(run.puts).toBe(0);
    expect(store.vectors.stored).toEqual(vectorsBefore);
    expect([...store.hashes.stored.keys()]).toEqual([...before.keys()]);
    for (const [key, stored] of before) expect(store.hashes.stored.get(key)).toEqual({ ...stored, seenBy: 'task-2' });
    expect(run.result).toMatchObject({
      records: { total: 4, processed: 3, skipped: 1, failed: 0, skippedReasons: { unchanged: 1 } },
      tokens: tokensOf('Returned a blue hat and a scarf') + tokensOf('New here'),
      vectors: { upserted: 2, metadataUpdated: 1, deleted: 0 },
    });
  });

  it('embeds a record whose metadata changed but whose vector is missing from the store', async () => {
    const store = stores();
    await deliverRows(store, 'task-1', ROWS);
    store.vectors.stored.delete(`${NAMESPACE}/c-2`);

    const run = await deliverRows(store, 'task-2', [ROWS[0], { ...ROWS[1], tier: 'gold' }, ROWS[2]]);

    expect(run.requests).toEqual([['Returned a blue hat']]);
    expect(run.upserts).toEqual([{ namespace: NAMESPACE, ids: ['c-2'] }]);
    expect(vectorOf(store, 'c-2')?.metadata).toMatchObject({ tier: 'gold', _task_id: 'task-2' });
    expect(hashOf(store, 'c-2')).toMatchObject({ taskId: 'task-2', write: 'embed' });
    expect(run.result).toMatchObject({
      records: { total: 3, processed: 1, skipped: 2, failed: 0, skippedReasons: { unchanged: 2 } },
      tokens: tokensOf('Returned a blue hat'),
      vectors: { upserted: 1, metadataUpdated: 0, deleted: 0 },
    });
  });
});
