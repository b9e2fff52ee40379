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
type Row = { id?: string; formatted_text: string; tier?: string };

const ROWS: Row[] = [
  { id: 'c-1', formatted_text: 'Red running shoes', tier: 'gold' },
  { id: 'c-2', formatted_text: 'Returned a blue hat', tier: 'silver' },
  { id: 'c-3', formatted_text: 'Wants green socks', tier: 'gold' },
];

const chunkKey = (taskId: string) => `tasks/${taskId}/chunk-000000.jsonl`;
const jsonLines = (rows: Row[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
const sum = (texts: string[]) => texts.reduce((total, text) => total + tokensOf(text), 0);

async function plannedChunk(objects: ObjectStore, taskId: string, rows: Row[], extra: Partial<ChunkPlanned> = {}): Promise<ChunkPlanned> {
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
      sourceUri: 'inline://crm',
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
      records: { total: 3, processed: 3, skipped: 0, failed: 0, truncated: 0, skippedReasons: {} },
      tokens: sum(texts),
      errors: [],
      finishedAt: NOW.toISOString(),
    });
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
    expect(flaky.upserts.map((upsert) => upsert.ids)).toEqual([['c-1']]);

    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, hashes, env, embedder, vectors });
    await embedChunk(chunk, deps);

    expect(embedder.requests).toEqual([[ROWS[1].formatted_text, ROWS[2].formatted_text]]);
    expect(vectors.upserts.map((upsert) => upsert.ids)).toEqual([['c-2'], ['c-3']]);
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

  it('embeds a text over the token limit cut to it, counted and marked as truncated', async () => {
    const objects = memoryObjects();
    const embedder = fakeEmbedder();
    const vectors = recordingVectors();
    const { deps, published } = embedderDeps({ objects, embedder, vectors });
    await embedChunk(await plannedChunk(objects, 'task-1', [ROWS[0], { id: 'long', formatted_text: 'word '.repeat(9000).trim() }]), deps);

    const sent = embedder.requests.flat();
    expect(sent).toHaveLength(2);
    expect(tokensOf(sent[1])).toBeLessThanOrEqual(8191);
    expect(vectors.stored.get(`${NAMESPACE}/long`)?.metadata._truncated).toBe(true);
    expect(vectors.stored.get(`${NAMESPACE}/c-1`)?.metadata).not.toHaveProperty('_truncated');
    expect(onlyResult(published)).toMatchObject({ records: { total: 2, processed: 2, truncated: 1 }, tokens: sum(sent) });
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
    expect(onlyResult(published)).toMatchObject({ records: { total: 3, processed: 3 }, tokens: sum(ROWS.map((row) => row.formatted_text)) });
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
