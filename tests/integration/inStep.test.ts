/**
 * Keeping the index in step with a dataset (local runtime, Pinecone simulator through the official
 * client): vectors tagged with their dataset, embeddings reused whatever file a row came from,
 * metadata updated without embedding, full syncs deleting what left the source behind their guards,
 * and tombstone rows. The simulators' counters are the ground truth for tokens and vector writes.
 */
import { createHash } from 'node:crypto';
import type { StoredVector } from '../../simulators/pinecone';
import { catalogRows, csvOf, embeddingTokens, nextDayCatalog, type CatalogRow } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

/** A task's /status answer, as parsed JSON. */
type TaskStatus = Awaited<ReturnType<LocalStack['waitForTask']>>;

/** Pinecone operations that change nothing: every other one the simulator counts is a write. */
const READ_OPERATIONS = new Set(['fetch', 'query', 'describeIndexStats', 'list']);

interface Counters {
  tokens: number;
  embeddingRequests: number;
  /** Texts sent to the embeddings endpoint. */
  embeddingInputs: number;
  upserts: number;
  deletes: number;
  writes: number;
}

interface Run extends Counters {
  /** The task's /status once it ended. */
  status: TaskStatus;
}

function counters(stack: LocalStack): Counters {
  const { operations } = stack.pinecone.stats;
  const writes = Object.entries(operations).reduce((sum, [operation, count]) => (READ_OPERATIONS.has(operation) ? sum : sum + count), 0);
  return {
    tokens: stack.openai.stats.tokens,
    embeddingRequests: stack.openai.stats.requests,
    embeddingInputs: stack.openai.stats.inputs,
    upserts: operations.upsert,
    deletes: operations.delete,
    writes,
  };
}

function since(stack: LocalStack, before: Counters): Counters {
  const now = counters(stack);
  return {
    tokens: now.tokens - before.tokens,
    embeddingRequests: now.embeddingRequests - before.embeddingRequests,
    embeddingInputs: now.embeddingInputs - before.embeddingInputs,
    upserts: now.upserts - before.upserts,
    deletes: now.deletes - before.deletes,
    writes: now.writes - before.writes,
  };
}

/** Starts a task through the API (GET with `query`, or POST with `body`) and waits for its end. */
async function runTask(stack: LocalStack, request: { query: string } | { body: Record<string, unknown> }): Promise<Run> {
  const before = counters(stack);
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
  return { status, ...since(stack, before) };
}

/** Uploads `csv` at `key` and runs it with GET /process and the extra `query` parameters. */
async function runCsv(stack: LocalStack, key: string, csv: string, query = ''): Promise<Run> {
  await stack.putObject(key, csv);
  return runTask(stack, { query: `data_source=s3_csv&s3_key=${encodeURIComponent(key)}${query}` });
}

const idsOf = (rows: readonly { id: string }[]): string[] => rows.map((row) => row.id);
const textsOf = (rows: readonly CatalogRow[], ids: readonly string[]): string[] => {
  const wanted = new Set(ids);
  return rows.filter((row) => wanted.has(row.id)).map((row) => row.formatted_text);
};
const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** A digest of a stored vector's values. */
const valuesDigest = (vector: StoredVector | undefined): string | undefined =>
  vector &&
  createHash('sha256')
    .update(Buffer.from(Float64Array.from(vector.values).buffer))
    .digest('base64url');

/** What a stored vector is, values and metadata (keys sorted), in a short string (to compare thousands of them). */
function fingerprint(vector: StoredVector | undefined): string | undefined {
  if (!vector) return undefined;
  const metadata = Object.fromEntries(Object.entries(vector.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return `${valuesDigest(vector)} ${JSON.stringify(metadata)}`;
}

describe('keeping the index in step with a dataset (local runtime, Pinecone simulator)', () => {
  let stack: LocalStack;
  const day1 = catalogRows(3000);
  const day2 = nextDayCatalog(day1);
  const day2Csv = csvOf(day2.rows);
  const day2Ids = idsOf(day2.rows);
  /** Day 1's stored vectors, by id. */
  let afterDay1 = new Map<string, StoredVector>();
  let day1TaskId = '';

  beforeAll(async () => {
    stack = await startLocalStack({
      // A Metabase is configured (never reached) so that a Metabase request fails only on its parameters.
      env: { OPENAI_MAX_RETRIES: '0', METABASE_URL: 'http://127.0.0.1:9', METABASE_API_KEY: 'mb-unused' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const stored = (): Map<string, StoredVector> => new Map(stack.pinecone.dump(NAMESPACE).map((vector) => [vector.id, vector]));
  const datasetIds = (dataset: string): string[] =>
    stack.pinecone
      .dump(NAMESPACE)
      .filter((vector) => vector.metadata?._dataset === dataset)
      .map((vector) => vector.id);
  const fingerprints = (): Map<string, string | undefined> =>
    new Map(stack.pinecone.dump(NAMESPACE).map((vector) => [vector.id, fingerprint(vector)]));
  const published = (detailType: string) => stack.runtime.bus.published().filter((event) => event['detail-type'] === detailType);

  it('day 1: a full sync of a new dataset embeds every row, each vector tagged with the dataset', async () => {
    const run = await runCsv(stack, 'exports/2025-06-01.csv', csvOf(day1), '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 3000, processed: 3000, skipped: 0, failed: 0 },
      vectors: { upserted: 3000, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.tokens).toBe(embeddingTokens(day1.map((row) => row.formatted_text)));
    expect(run.status.embedding_tokens).toBe(run.tokens);
    expect(run.deletes).toBe(0);

    afterDay1 = stored();
    day1TaskId = run.status.task_id;
    expect(sorted(afterDay1.keys())).toEqual(sorted(idsOf(day1)));
    const withoutDataset = [...afterDay1.values()].filter((vector) => vector.metadata?._dataset !== 'catalog').map((vector) => vector.id);
    expect(withoutDataset).toEqual([]);
    expect(afterDay1.get(day1[41].id)?.metadata).toMatchObject({
      _dataset: 'catalog',
      text: day1[41].formatted_text,
      category: day1[41].category,
    });
  });

  it('day 2 (POST): tokens only for the changed texts, categories updated in place, the removed rows deleted, counts exact', async () => {
    await stack.putObject('exports/2025-06-02.csv', day2Csv);
    const run = await runTask(stack, {
      body: { data_source: 's3_csv', s3_key: 'exports/2025-06-02.csv', dataset: 'catalog', sync: 'full' },
    });
    const { removedIds: removed, changedTextIds: changedText, changedCategoryIds: changedCategory, unchangedIds: unchanged } = day2;
    expect([removed.length, changedText.length, changedCategory.length, unchanged.length]).toEqual([300, 150, 150, 2400]);

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 2700, processed: 300, skipped: 2400, failed: 0, skipped_reasons: { unchanged: 2400 } },
      vectors: { upserted: 150, metadata_updated: 150, deleted: 300 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 300, scanned: expect.any(Number) },
    });
    expect(run.status.sync.deletion_skipped).toBeUndefined();
    // Exactly the changed texts were embedded: a recount of them, well under 6% of day 1.
    const changedTokens = embeddingTokens(textsOf(day2.rows, changedText));
    expect(run.tokens).toBe(changedTokens);
    expect(run.status.embedding_tokens).toBe(changedTokens);
    expect(run.tokens).toBeLessThan(embeddingTokens(day1.map((row) => row.formatted_text)) * 0.06);
    expect(run.embeddingInputs).toBe(150);
    expect(run.deletes).toBeGreaterThanOrEqual(1);

    const now = stored();
    expect(now.size).toBe(2700);
    expect(removed.filter((id) => now.has(id))).toEqual([]);
    expect(sorted(now.keys())).toEqual(sorted(day2Ids));
    const byId = new Map(day2.rows.map((row) => [row.id, row]));
    for (const id of changedText) {
      expect(now.get(id)?.metadata).toMatchObject({ _dataset: 'catalog', text: byId.get(id)?.formatted_text });
      expect(valuesDigest(now.get(id))).not.toBe(valuesDigest(afterDay1.get(id)));
    }
    for (const id of changedCategory) {
      expect(now.get(id)?.metadata).toMatchObject({
        _dataset: 'catalog',
        category: byId.get(id)?.category,
        text: byId.get(id)?.formatted_text,
      });
      expect(valuesDigest(now.get(id))).toBe(valuesDigest(afterDay1.get(id)));
    }
    // An unchanged row was not written at all: its vector is day 1's, provenance included.
    const rewritten = unchanged.filter((id) => fingerprint(now.get(id)) !== fingerprint(afterDay1.get(id)));
    expect(rewritten).toEqual([]);
    expect(now.get(unchanged[0])?.metadata).toMatchObject({
      _task_id: day1TaskId,
      _source: expect.stringContaining('exports/2025-06-01.csv'),
    });
  });

  it('the day-2 export again under a third key: zero tokens, zero writes, every record unchanged', async () => {
    const before = fingerprints();
    const run = await runCsv(stack, 'exports/2025-06-02-resent.csv', day2Csv, '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      embedding_tokens: 0,
      records: { total: 2700, processed: 0, skipped: 2700, failed: 0, skipped_reasons: { unchanged: 2700 } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run).toMatchObject({ tokens: 0, embeddingRequests: 0, upserts: 0, deletes: 0, writes: 0 });
    expect(fingerprints()).toEqual(before);
  });

  it('a 10-row export of the dataset: the guard skips the deletion, says why, and the task still completes', async () => {
    const ten = day2.rows.slice(0, 10);
    const run = await runCsv(stack, 'exports/ten-rows.csv', csvOf(ten), '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 10, processed: 0, skipped: 10, failed: 0, skipped_reasons: { unchanged: 10 } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.sync.deletion_skipped).toEqual(expect.any(String));
    // It names the limit it kept to: SYNC_MAX_DELETE_FRACTION, 0.5 by default.
    expect(run.status.sync.deletion_skipped).toMatch(/SYNC_MAX_DELETE_FRACTION|fraction|0\.5\b|50\s?%/i);
    expect(run).toMatchObject({ tokens: 0, deletes: 0, writes: 0 });
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
  });

  it('the same 10 rows with allow_mass_delete=true&dry_run=true: reports what would go, deletes nothing', async () => {
    const ten = day2.rows.slice(0, 10);
    const run = await runCsv(stack, 'exports/ten-rows.csv', csvOf(ten), '&dataset=catalog&sync=full&allow_mass_delete=true&dry_run=true');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      dry_run: true,
      records: { total: 10, failed: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0, would_delete: 2700 - 10 },
    });
    const samples: string[] = run.status.sync.sample_ids;
    expect(Array.isArray(samples)).toBe(true);
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(10);
    expect(new Set(samples).size).toBe(samples.length);
    const wouldGo = new Set(day2Ids.slice(10));
    expect(samples.filter((id) => !wouldGo.has(id))).toEqual([]);
    expect(run).toMatchObject({ tokens: 0, embeddingRequests: 0, deletes: 0, writes: 0 });
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
  });

  it('allow_mass_delete=true lets a full sync delete past the guard, within its own dataset only', async () => {
    const mass = catalogRows(20, { prefix: 'mass' });
    const seeded = await runCsv(stack, 'exports/mass-full.csv', csvOf(mass), '&dataset=mass&sync=full');
    expect(seeded.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 20 } });

    const guarded = await runCsv(stack, 'exports/mass-two.csv', csvOf(mass.slice(0, 2)), '&dataset=mass&sync=full');
    expect(guarded.status).toMatchObject({ status: 'COMPLETED', vectors: { deleted: 0 }, sync: { dataset: 'mass', deleted: 0 } });
    expect(guarded.status.sync.deletion_skipped).toEqual(expect.any(String));
    expect(datasetIds('mass')).toHaveLength(20);

    const allowed = await runCsv(stack, 'exports/mass-two.csv', csvOf(mass.slice(0, 2)), '&dataset=mass&sync=full&allow_mass_delete=true');
    expect(allowed.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 2, processed: 0, skipped_reasons: { unchanged: 2 } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 18 },
      sync: { mode: 'full', dataset: 'mass', deleted: 18 },
    });
    expect(allowed.status.sync.deletion_skipped).toBeUndefined();
    expect(allowed.tokens).toBe(0);
    expect(sorted(datasetIds('mass'))).toEqual(sorted(idsOf(mass.slice(0, 2))));
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
  });

  it('a full sync that read no records deletes nothing', async () => {
    const run = await runCsv(stack, 'exports/header-only.csv', 'id,formatted_text,category,price\n', '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 0, processed: 0, skipped: 0, failed: 0 },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.sync.deletion_skipped).toEqual(expect.any(String));
    expect(run).toMatchObject({ deletes: 0, writes: 0 });
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
  });

  it('a full sync with a failed record (a malformed row) ends PARTIAL and deletes nothing', async () => {
    const kept = day2.rows.slice(0, -5);
    const csv = `${csvOf(kept)}catalog-broken,a row with only two fields\n`;
    const run = await runCsv(stack, 'exports/malformed.csv', csv, '&dataset=catalog&sync=full');

    expect(run.status).toMatchObject({
      status: 'PARTIAL',
      records: { total: kept.length + 1, processed: 0, skipped: kept.length, failed: 1, skipped_reasons: { unchanged: kept.length } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.errors).toContainEqual(expect.stringMatching(/record has 2 fields; the header has 4/));
    expect(run.status.sync.deletion_skipped).toEqual(expect.any(String));
    expect(run).toMatchObject({ tokens: 0, deletes: 0, writes: 0 });
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
  });

  it('a full sync whose embeddings fail (OpenAI down) ends PARTIAL or FAILED and deletes nothing', async () => {
    const rows = day2.rows
      .slice(0, -5)
      .map((row, index) => (index < 3 ? { ...row, formatted_text: `${row.formatted_text} Back in stock.` } : row));
    await stack.putObject('exports/outage.csv', csvOf(rows));
    stack.openai.failNext(100_000, 503);
    let run: Run;
    try {
      run = await runTask(stack, { query: 'data_source=s3_csv&s3_key=exports/outage.csv&dataset=catalog&sync=full' });
    } finally {
      stack.openai.reset();
    }

    expect(['PARTIAL', 'FAILED']).toContain(run.status.status);
    expect(run.status.records.failed).toBeGreaterThanOrEqual(3);
    expect(run.status).toMatchObject({
      vectors: { upserted: 0, metadata_updated: 0, deleted: 0 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 0 },
    });
    expect(run.status.sync.deletion_skipped).toEqual(expect.any(String));
    expect(run).toMatchObject({ deletes: 0, writes: 0 });
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(day2Ids));
    // The failed texts are still the stored ones.
    expect(stored().get(rows[0].id)?.metadata?.text).toBe(day2.rows[0].formatted_text);
  });

  it('tombstones: a row whose _deleted is true, 1, yes (any case) or a date deletes its vector; empty or false embeds', async () => {
    const tomb = catalogRows(12, { prefix: 'tomb' });
    const seeded = await runCsv(stack, 'exports/tomb-seed.csv', csvOf(tomb), '&dataset=tomb');
    expect(seeded.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 12 } });

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
    const columns = ['id', 'formatted_text', 'category', 'price', '_deleted'];
    const run = await runCsv(stack, 'exports/tombstones.csv', csvOf([...tombstoned, ...fresh, ...untouched], columns), '&dataset=tomb');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 12, processed: 8, skipped: 4, failed: 0, skipped_reasons: { unchanged: 4 } },
      vectors: { upserted: 2, metadata_updated: 0, deleted: 6 },
    });
    expect(run.status.sync).toBeUndefined();
    expect(run.tokens).toBe(embeddingTokens(fresh.map((row) => row.formatted_text)));
    expect(run.deletes).toBeGreaterThanOrEqual(1);
    // Not a full sync: tomb-000007 and tomb-000008, absent from the file, stay.
    expect(sorted(datasetIds('tomb'))).toEqual(sorted([...idsOf(tomb.slice(6)), 'tomb-new-1', 'tomb-new-2']));
    expect(stored().get('tomb-new-2')?.metadata).toMatchObject({ _dataset: 'tomb', text: fresh[1].formatted_text });
  });

  it('deleted_column names another tombstone column', async () => {
    const seed = catalogRows(3, { prefix: 'removed' });
    const seeded = await runCsv(stack, 'exports/removed-seed.csv', csvOf(seed), '&dataset=removed');
    expect(seeded.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 3 } });

    const rows = [
      { ...seed[0], formatted_text: 'ignored', removed: 'yes' },
      { ...seed[1], formatted_text: 'ignored too', removed: '2025-06-04T08:00:00Z' },
    ];
    const run = await runCsv(stack, 'exports/removed.csv', csvOf(rows), '&dataset=removed&deleted_column=removed');

    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 2, processed: 2, skipped: 0, failed: 0 },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 2 },
    });
    expect(run.tokens).toBe(0);
    expect(datasetIds('removed')).toEqual([seed[2].id]);
  });

  it('an S3 drop under incoming/full/<dataset>/ starts a full sync of that dataset', async () => {
    const others = new Map([...fingerprints()].filter(([id]) => !id.startsWith('catalog-')));
    const rows = day2.rows.slice(0, -20);
    const gone = idsOf(day2.rows.slice(-20));
    await stack.putObject('incoming/full/catalog/day3.csv', csvOf(rows));
    await stack.runtime.waitForIdle(60_000);

    const requests = published('TaskRequested').filter(
      (event) => (event.detail as { source?: { key?: string } }).source?.key === 'incoming/full/catalog/day3.csv',
    );
    expect(requests).toHaveLength(1);
    const detail = requests[0].detail as { taskId: string };
    expect(detail).toMatchObject({
      source: { type: 's3_csv', key: 'incoming/full/catalog/day3.csv' },
      requestedBy: 's3',
      dataset: 'catalog',
      sync: 'full',
    });
    const status = await stack.waitForTask(detail.taskId);

    expect(status).toMatchObject({
      status: 'COMPLETED',
      records: { total: rows.length, processed: 0, failed: 0, skipped_reasons: { unchanged: rows.length } },
      vectors: { upserted: 0, metadata_updated: 0, deleted: 20 },
      sync: { mode: 'full', dataset: 'catalog', deleted: 20 },
    });
    const now = stored();
    expect(gone.filter((id) => now.has(id))).toEqual([]);
    expect(sorted(datasetIds('catalog'))).toEqual(sorted(idsOf(rows)));
    // Other datasets of the namespace are left as they were.
    expect(new Map([...fingerprints()].filter(([id]) => !id.startsWith('catalog-')))).toEqual(others);
    const completed = published('TaskCompleted').filter((event) => (event.detail as { taskId: string }).taskId === detail.taskId);
    expect(completed).toHaveLength(1);
  });

  it('a full sync leaves the same dataset in another namespace alone', async () => {
    const rows = catalogRows(4, { prefix: 'shared' });
    const elsewhere = await runCsv(stack, 'exports/shared-elsewhere.csv', csvOf(rows), '&dataset=shared&namespace=elsewhere');
    expect(elsewhere.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 4 } });
    const here = await runCsv(stack, 'exports/shared-here.csv', csvOf(rows), '&dataset=shared');
    expect(here.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 4 } });

    const run = await runCsv(stack, 'exports/shared-less.csv', csvOf(rows.slice(0, 3)), '&dataset=shared&sync=full');
    expect(run.status).toMatchObject({
      status: 'COMPLETED',
      sync: { mode: 'full', dataset: 'shared', deleted: 1 },
      vectors: { deleted: 1 },
    });
    expect(sorted(datasetIds('shared'))).toEqual(sorted(idsOf(rows.slice(0, 3))));
    expect(sorted(stack.pinecone.dump('elsewhere').map((vector) => vector.id))).toEqual(sorted(idsOf(rows)));
  });

  it('the dataset defaults to the source identity: the S3 key, inline://<name>', async () => {
    const rows = catalogRows(3, { prefix: 'plain' });
    const run = await runCsv(stack, 'exports/plain.csv', csvOf(rows), '&namespace=defaults');
    expect(run.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 3 } });
    expect(stack.pinecone.dump('defaults').map((vector) => vector.metadata?._dataset)).toEqual([
      'exports/plain.csv',
      'exports/plain.csv',
      'exports/plain.csv',
    ]);

    const records = [{ id: 'inline-1', formatted_text: 'Pushed by another system about copper kettles.' }];
    await stack.runtime.bus.publish([
      {
        detailType: 'TaskRequested',
        source: 'crm.exporter',
        detail: {
          schemaVersion: 1,
          taskId: 'inline-dataset',
          namespace: 'defaults-inline',
          source: { type: 'inline', name: 'crm', records },
        },
      },
    ]);
    expect(await stack.waitForTask('inline-dataset')).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 1 } });
    expect(stack.pinecone.dump('defaults-inline').map((vector) => vector.metadata?._dataset)).toEqual(['inline://crm']);
  });

  const s3 = 'data_source=s3_csv&s3_key=exports/2025-06-01.csv';
  it.each([
    ['sync=partial', `${s3}&sync=partial`, 'sync'],
    ['dataset=bad/name', `${s3}&dataset=${encodeURIComponent('bad/name')}`, 'dataset'],
    ['a 101-character dataset', `${s3}&dataset=${'d'.repeat(101)}`, 'dataset'],
    ['a dataset with a space', `${s3}&dataset=${encodeURIComponent('two words')}`, 'dataset'],
    ['allow_mass_delete=true without sync=full', `${s3}&allow_mass_delete=true`, 'allow_mass_delete'],
  ])('GET /process answers 400 for %s, naming the parameter', async (_name, query, parameter) => {
    const tasksBefore = published('TaskRequested').length;
    const answer = await stack.api(`/process?${query}`);
    expect(answer).toMatchObject({ status: 400, body: { error: expect.any(String), parameter } });
    // A known parameter with a bad value, not an unknown one.
    expect(answer.body.error).not.toMatch(/unknown parameter/);
    expect(published('TaskRequested')).toHaveLength(tasksBefore);
  });

  it.each([
    ['sync: partial', { sync: 'partial' }, 'sync'],
    ['dataset: bad/name', { dataset: 'bad/name' }, 'dataset'],
    ['allow_mass_delete: true without sync', { allow_mass_delete: true }, 'allow_mass_delete'],
  ])('POST /process answers 400 for %s, naming the parameter', async (_name, extra, parameter) => {
    const body = { data_source: 's3_csv', s3_key: 'exports/2025-06-01.csv', ...extra };
    const answer = await stack.api('/process', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(answer).toMatchObject({ status: 400, body: { error: expect.any(String), parameter } });
    // A known parameter with a bad value, not an unknown one.
    expect(answer.body.error).not.toMatch(/unknown parameter/);
  });

  it('refuses sync=full on a Metabase question filtered by start_date, naming both', async () => {
    const answer = await stack.api('/process?data_source=metabase&question_id=232&sync=full&start_date=2025-01-01');
    expect(answer).toMatchObject({ status: 400, body: { parameter: 'sync', error: expect.stringContaining('start_date') } });
    expect(answer.body.error).not.toMatch(/unknown parameter/);
  });
});

describe('keeping the index in step, configured by environment (local runtime, Pinecone simulator)', () => {
  let stack: LocalStack;
  const small = catalogRows(10, { prefix: 'small' });

  beforeAll(async () => {
    stack = await startLocalStack({
      env: { DELETED_COLUMN: 'gone', SYNC_MAX_DELETE_FRACTION: '0.9', FULL_SYNC_PREFIX: 'incoming/mirror/' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const datasetIds = (dataset: string): string[] =>
    stack.pinecone
      .dump(NAMESPACE)
      .filter((vector) => vector.metadata?._dataset === dataset)
      .map((vector) => vector.id)
      .sort();
  const requestFor = (key: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'TaskRequested' && (event.detail as { source?: { key?: string } }).source?.key === key);

  it('DELETED_COLUMN names the tombstone column', async () => {
    const seeded = await runCsv(stack, 'exports/small.csv', csvOf(small), '&dataset=small&sync=full');
    expect(seeded.status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 10 } });

    const rows = [
      { ...small[9], gone: 'yes', _deleted: '' },
      { ...small[8], gone: '', _deleted: 'true' },
    ];
    const run = await runCsv(
      stack,
      'exports/small-gone.csv',
      csvOf(rows, ['id', 'formatted_text', 'category', 'price', 'gone', '_deleted']),
      '&dataset=small',
    );
    expect(run.status).toMatchObject({ status: 'COMPLETED', records: { total: 2, failed: 0 }, vectors: { upserted: 0, deleted: 1 } });
    expect(datasetIds('small')).toEqual(idsOf(small.slice(0, 9)).sort());
  });

  it('FULL_SYNC_PREFIX and SYNC_MAX_DELETE_FRACTION: a drop under the configured prefix deletes up to the configured share', async () => {
    await stack.putObject('incoming/mirror/small/next.csv', csvOf(small.slice(0, 2)));
    await stack.runtime.waitForIdle(60_000);
    const requests = requestFor('incoming/mirror/small/next.csv');
    expect(requests).toHaveLength(1);
    expect(requests[0].detail).toMatchObject({ dataset: 'small', sync: 'full' });
    const status = await stack.waitForTask((requests[0].detail as { taskId: string }).taskId);

    // 7 of the dataset's 9 vectors (0.78) is within 0.9.
    expect(status).toMatchObject({
      status: 'COMPLETED',
      vectors: { upserted: 0, deleted: 7 },
      sync: { mode: 'full', dataset: 'small', deleted: 7 },
    });
    expect(status.sync.deletion_skipped).toBeUndefined();
    expect(datasetIds('small')).toEqual(idsOf(small.slice(0, 2)).sort());
  });

  it('a drop under the default full-sync prefix is then an ordinary run, its dataset the key', async () => {
    const rows = catalogRows(2, { prefix: 'plain' });
    await stack.putObject('incoming/full/small/x.csv', csvOf(rows));
    await stack.runtime.waitForIdle(60_000);
    const requests = requestFor('incoming/full/small/x.csv');
    expect(requests).toHaveLength(1);
    expect(requests[0].detail).not.toHaveProperty('sync');
    const status = await stack.waitForTask((requests[0].detail as { taskId: string }).taskId);

    expect(status).toMatchObject({ status: 'COMPLETED', vectors: { upserted: 2, deleted: 0 } });
    expect(status.sync).toBeUndefined();
    expect(datasetIds('incoming/full/small/x.csv')).toEqual(idsOf(rows).sort());
    expect(datasetIds('small')).toEqual(idsOf(small.slice(0, 2)).sort());
  });
});
