/**
 * Keeping the index in step on the local embedded store: no PINECONE_API_KEY, so vectors live in
 * LanceDB on disk, while embeddings still come from the OpenAI simulator (whose counters are the
 * ground truth for tokens). The same days as inStep.test.ts: a full sync, a next-day export with
 * rows removed and changed, the same export again, the mass-deletion guard, a failed run and
 * tombstones, read back through the runtime's vector store.
 */
import { createHash } from 'node:crypto';
import type { VectorRecord, VectorStore } from '../../shared/ports';
import { catalogRows, csvOf, embeddingTokens, nextDayCatalog, type CatalogRow } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

/** A task's /status answer, as parsed JSON. */
type TaskStatus = Awaited<ReturnType<LocalStack['waitForTask']>>;

/** Vector store methods that change nothing; calls to any other one are counted as writes. */
const READ_METHODS = new Set(['fetch', 'query', 'count', 'close', 'list']);

const idsOf = (rows: readonly { id: string }[]): string[] => rows.map((row) => row.id);
const sorted = (ids: Iterable<string>): string[] => [...ids].sort();
const textsOf = (rows: readonly CatalogRow[], ids: readonly string[]): string[] => {
  const wanted = new Set(ids);
  return rows.filter((row) => wanted.has(row.id)).map((row) => row.formatted_text);
};

const valuesDigest = (record: VectorRecord | undefined): string | undefined =>
  record &&
  createHash('sha256')
    .update(Buffer.from(record.values.buffer, record.values.byteOffset, record.values.byteLength))
    .digest('base64url');

/** What a stored vector is, values and metadata (keys sorted), in a short string. */
function fingerprint(record: VectorRecord | undefined): string | undefined {
  if (!record) return undefined;
  const metadata = Object.fromEntries(Object.entries(record.metadata).sort(([a], [b]) => a.localeCompare(b)));
  return `${valuesDigest(record)} ${JSON.stringify(metadata)}`;
}

describe('keeping the index in step with a dataset (local runtime, LanceDB on disk)', () => {
  let stack: LocalStack;
  let store: VectorStore;
  /** Calls to the vector store's writing methods, by method name. */
  const writeCalls = new Map<string, number>();
  const day1 = catalogRows(3000);
  const day2 = nextDayCatalog(day1);
  const day2Csv = csvOf(day2.rows);
  const day2Ids = idsOf(day2.rows);
  const allIds = idsOf(day1);
  let afterDay1 = new Map<string, VectorRecord>();
  let day1TaskId = '';

  beforeAll(async () => {
    stack = await startLocalStack({ vectorStore: 'lancedb', env: { OPENAI_MAX_RETRIES: '0' } });
    store = stack.runtime.deps.vectors;
    // Count the store's writes (upsert, delete, and whatever else changes vectors); the handlers call through deps at call time.
    const methods = store as unknown as Record<string, unknown>;
    for (const name of Object.keys(methods)) {
      const method = methods[name];
      if (typeof method !== 'function' || READ_METHODS.has(name)) continue;
      methods[name] = (...args: unknown[]) => {
        writeCalls.set(name, (writeCalls.get(name) ?? 0) + 1);
        return (method as (...values: unknown[]) => unknown).apply(store, args);
      };
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const totalWrites = (): number => [...writeCalls.values()].reduce((sum, count) => sum + count, 0);
  const fetchAll = (ids: readonly string[], namespace = NAMESPACE): Promise<Map<string, VectorRecord>> => store.fetch(namespace, [...ids]);
  /** Which of `ids` are stored with metadata `_dataset` = `dataset`. */
  const inDataset = async (dataset: string, ids: readonly string[]): Promise<string[]> =>
    sorted([...(await fetchAll(ids)).values()].filter((record) => record.metadata._dataset === dataset).map((record) => record.id));
  const fingerprints = async (ids: readonly string[]): Promise<Map<string, string | undefined>> => {
    const found = await fetchAll(ids);
    return new Map(ids.map((id) => [id, fingerprint(found.get(id))]));
  };

  interface Run {
    status: TaskStatus;
    tokens: number;
    embeddingInputs: number;
    writes: number;
    upsertCalls: number;
    deleteCalls: number;
  }

  async function runTask(request: { query: string } | { body: Record<string, unknown> }): Promise<Run> {
    const before = { tokens: stack.openai.stats.tokens, inputs: stack.openai.stats.inputs, writes: totalWrites() };
    const upserts = writeCalls.get('upsert') ?? 0;
    const deletes = writeCalls.get('delete') ?? 0;
    const started =
      'query' in request
        ? await stack.api(`/process?${request.query}`)
        : await stack.api('/process', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request.body),
          });
    expect(started).toMatchObject({ status: 202, body: { task_id: expect.any(String) } });
    const status = await stack.waitForTask(started.body.task_id);
    return {
      status,
      tokens: stack.openai.stats.tokens - before.tokens,
      embeddingInputs: stack.openai.stats.inputs - before.inputs,
      writes: totalWrites() - before.writes,
      upsertCalls: (writeCalls.get('upsert') ?? 0) - upserts,
      deleteCalls: (writeCalls.get('delete') ?? 0) - deletes,
    };
  }

  async function runCsv(key: string, csv: string, query = ''): Promise<Run> {
    await stack.putObject(key, csv);
    return runTask({ query: `data_source=s3_csv&s3_key=${encodeURIComponent(key)}${query}` });
  }

  it('uses LanceDB, not Pinecone', () => {
    expect(store.description).toMatch(/^lancedb/);
  });

  it('day 1: a full sync of a new dataset embeds every row, each vector tagged with the dataset', async () => {
    const run = await runCsv('exports/2025-06-01.csv', csvOf(day1), '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 3000, processed: 3000, skipped: 0, failed: 0 },
      vectors: { upserted: 3000, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.tokens).toBe(embeddingTokens(day1.map((row) => row.formatted_text)));
    expect(run.status.embedding_tokens).toBe(run.tokens);
    expect(run.deleteCalls).toBe(0);

    afterDay1 = await fetchAll(allIds);
    day1TaskId = run.status.task_id;
    expect(afterDay1.size).toBe(3000);
    expect(await inDataset('catalog', allIds)).toEqual(sorted(allIds));
    expect(afterDay1.get(day1[41].id)?.metadata).toMatchObject({
      _dataset: 'catalog',
      text: day1[41].formatted_text,
      category: day1[41].category,
    });
  });

  it('day 2 (POST): tokens only for the changed texts, categories updated in place, the removed rows deleted, counts exact', async () => {
    await stack.putObject('exports/2025-06-02.csv', day2Csv);
    const run = await runTask({ body: { data_source: 's3_csv', s3_key: 'exports/2025-06-02.csv', dataset: 'catalog', sync: 'full' } });

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 2700, processed: 300, skipped: 2400, failed: 0, skipped_reasons: { unchanged: 2400 } },
      vectors: { upserted: 150, metadata_updated: 150, deleted: 300 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 300 },
    });
    const changedTokens = embeddingTokens(textsOf(day2.rows, day2.changedTextIds));
    expect(run.tokens).toBe(changedTokens);
    expect(run.status.embedding_tokens).toBe(changedTokens);
    expect(run.embeddingInputs).toBe(150);

    const now = await fetchAll(allIds);
    expect(sorted(now.keys())).toEqual(sorted(day2Ids));
    const byId = new Map(day2.rows.map((row) => [row.id, row]));
    for (const id of day2.changedTextIds) {
      expect(now.get(id)?.metadata).toMatchObject({ _dataset: 'catalog', text: byId.get(id)?.formatted_text });
      expect(valuesDigest(now.get(id))).not.toBe(valuesDigest(afterDay1.get(id)));
    }
    for (const id of day2.changedCategoryIds) {
      expect(now.get(id)?.metadata).toMatchObject({ _dataset: 'catalog', category: byId.get(id)?.category });
      expect(valuesDigest(now.get(id))).toBe(valuesDigest(afterDay1.get(id)));
    }
    const rewritten = day2.unchangedIds.filter((id) => fingerprint(now.get(id)) !== fingerprint(afterDay1.get(id)));
    expect(rewritten).toEqual([]);
    expect(now.get(day2.unchangedIds[0])?.metadata).toMatchObject({ _task_id: day1TaskId });
  });

  it('the day-2 export again under a third key: zero tokens, zero writes, every record unchanged', async () => {
    const before = await fingerprints(allIds);
    const run = await runCsv('exports/2025-06-02-resent.csv', day2Csv, '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      embedding_tokens: 0,
      records: { total: 2700, processed: 0, skipped: 2700, failed: 0, skipped_reasons: { unchanged: 2700 } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run).toMatchObject({ tokens: 0, embeddingInputs: 0, writes: 0 });
    expect(await fingerprints(allIds)).toEqual(before);
  });

  it('a 10-row export of the dataset: the guard skips the deletion, says why, and the task still completes', async () => {
    const run = await runCsv('exports/ten-rows.csv', csvOf(day2.rows.slice(0, 10)), '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 10, processed: 0, skipped: 10, failed: 0 },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.sync.deletion_skipped).toMatch(/SYNC_MAX_DELETE_FRACTION|fraction|0\.5\b|50\s?%/i);
    expect(run).toMatchObject({ tokens: 0, writes: 0 });
    expect(await inDataset('catalog', allIds)).toEqual(sorted(day2Ids));
  });

  it('the same 10 rows with allow_mass_delete=true&dry_run=true: reports what would go, deletes nothing', async () => {
    const run = await runCsv(
      'exports/ten-rows.csv',
      csvOf(day2.rows.slice(0, 10)),
      '&dataset=catalog&sync=full&allow_mass_delete=true&dry_run=true',
    );

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      dry_run: true,
      sync: { mode: 'full', dataset: 'catalog', deleted: 0, would_delete: 2690 },
    });
    const samples: string[] = run.status.sync.sample_ids;
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(10);
    const wouldGo = new Set(day2Ids.slice(10));
    expect(samples.filter((id) => !wouldGo.has(id))).toEqual([]);
    expect(run).toMatchObject({ tokens: 0, writes: 0 });
    expect(await inDataset('catalog', allIds)).toEqual(sorted(day2Ids));
  });

  it('allow_mass_delete=true deletes past the guard, from LanceDB too', async () => {
    const mass = catalogRows(20, { prefix: 'mass' });
    expect((await runCsv('exports/mass-full.csv', csvOf(mass), '&dataset=mass&sync=full')).status).toMatchObject({
      status: 'COMPLETED',
      vectors: { upserted: 20 },
    });
    const run = await runCsv('exports/mass-two.csv', csvOf(mass.slice(0, 2)), '&dataset=mass&sync=full&allow_mass_delete=true');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      vectors: { upserted: 0, deleted: 18 },
      sync: { mode: 'full', dataset: 'mass', deleted: 18 },
    });
    expect(await inDataset('mass', idsOf(mass))).toEqual(sorted(idsOf(mass.slice(0, 2))));
    expect(await inDataset('catalog', allIds)).toEqual(sorted(day2Ids));
  });

  it('a full sync with a failed record (a malformed row) ends PARTIAL and deletes nothing', async () => {
    const kept = day2.rows.slice(0, -5);
    const run = await runCsv(
      'exports/malformed.csv',
      `${csvOf(kept)}catalog-broken,a row with only two fields\n`,
      '&dataset=catalog&sync=full',
    );

    expect(run.status).toMatchObject({
      status: 'PARTIAL',
      records: { total: kept.length + 1, processed: 0, failed: 1, skipped_reasons: { unchanged: kept.length } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.sync.deletion_skipped).toEqual(expect.any(String));
    expect(run).toMatchObject({ tokens: 0, writes: 0 });
    expect(await inDataset('catalog', allIds)).toEqual(sorted(day2Ids));
  });

  it('tombstones: a row whose _deleted is true, 1, yes (any case) or a date deletes its vector; empty or false embeds', async () => {
    const tomb = catalogRows(12, { prefix: 'tomb' });
    expect((await runCsv('exports/tomb-seed.csv', csvOf(tomb), '&dataset=tomb')).status).toMatchObject({
      status: 'COMPLETED',
      vectors: { upserted: 12 },
    });

    const marks = ['true', '1', 'yes', '2025-06-03', 'TRUE', 'Yes'];
    const tombstoned = tomb.slice(0, 6).map((row, index) => ({ ...row, _deleted: marks[index] }));
    const fresh = [
      { id: 'tomb-new-1', formatted_text: 'A brand new folding chair for balconies.', category: 'cat-1', price: '19.00', _deleted: '' },
      {
        id: 'tomb-new-2',
        formatted_text: 'A brand new picnic basket with four plates.',
        category: 'cat-2',
        price: '34.00',
        _deleted: 'false',
      },
    ];
    const untouched = tomb.slice(8).map((row) => ({ ...row, _deleted: '' }));
    const csv = csvOf([...tombstoned, ...fresh, ...untouched], ['id', 'formatted_text', 'category', 'price', '_deleted']);
    const run = await runCsv('exports/tombstones.csv', csv, '&dataset=tomb');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 12, processed: 8, skipped: 4, failed: 0, skipped_reasons: { unchanged: 4 } },
      vectors: { upserted: 2, metadata_updated: 0, deleted: 6 },
    });
    expect(run.tokens).toBe(embeddingTokens(fresh.map((row) => row.formatted_text)));
    const candidates = [...idsOf(tomb), 'tomb-new-1', 'tomb-new-2'];
    expect(await inDataset('tomb', candidates)).toEqual(sorted([...idsOf(tomb.slice(6)), 'tomb-new-1', 'tomb-new-2']));
  });

  it('an S3 drop under incoming/full/<dataset>/ starts a full sync that deletes from LanceDB', async () => {
    const rows = day2.rows.slice(0, -20);
    await stack.putObject('incoming/full/catalog/day3.csv', csvOf(rows));
    await stack.runtime.waitForIdle(60_000);
    const requests = stack.runtime.bus
      .published()
      .filter(
        (event) =>
          event['detail-type'] === 'TaskRequested' &&
          (event.detail as { source?: { key?: string } }).source?.key === 'incoming/full/catalog/day3.csv',
      );
    expect(requests).toHaveLength(1);
    expect(requests[0].detail).toMatchObject({ dataset: 'catalog', sync: 'full' });
    const status = await stack.waitForTask((requests[0].detail as { taskId: string }).taskId);

    expect(status).toMatchObject({
      status: 'COMPLETED',
      vectors: { upserted: 0, metadata_updated: 0, deleted: 20 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 20 },
    });
    expect(await inDataset('catalog', allIds)).toEqual(sorted(idsOf(rows)));
  });

  it('never called Pinecone', () => {
    expect(stack.pinecone.stats.requests).toBe(0);
  });
});
