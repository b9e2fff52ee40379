/**
 * The Pinecone data-plane simulator, driven through the official v9 client with `pc.index({ host })`
 * (and raw fetch where the client would hide what is on the wire).
 */
import { Pinecone, type PineconeRecord, type RecordMetadata } from '@pinecone-database/pinecone';
import { startPineconeSimulator, type PineconeSimulator } from '../../simulators/pinecone';

const KEY = 'pc-simulator-test-key';
const DIMENSION = 1536;

/** A deterministic non-zero vector of `dimension` components, distinct per seed. */
function vector(seed: number, dimension = DIMENSION): number[] {
  return Array.from({ length: dimension }, (_, i) => Math.sin(seed * 7919 + i * 0.37) + 0.01);
}

/** Metadata whose JSON is exactly `bytes` long. */
function metadataOfBytes(bytes: number): RecordMetadata {
  const overhead = JSON.stringify({ text: '' }).length;
  return { text: 'x'.repeat(bytes - overhead) };
}

function records(count: number, metadata?: RecordMetadata): PineconeRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: `rec-${i}`, values: vector(i), ...(metadata ? { metadata } : {}) }));
}

/** Records whose values print short, for the tests that only count bytes: the JSON body stays small. */
function bulkRecords(count: number, metadata: RecordMetadata): PineconeRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: `bulk-${i}`, values: new Array<number>(DIMENSION).fill(0.5), metadata }));
}

/** Returns the error the call throws, failing the test if it does not throw. */
async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail');
}

describe('Pinecone data-plane simulator', () => {
  let sim: PineconeSimulator;
  let pc: Pinecone;

  beforeAll(async () => {
    sim = await startPineconeSimulator({ apiKey: KEY });
    pc = new Pinecone({ apiKey: KEY, maxRetries: 0 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('operations through the official client', () => {
    it("stores an index handle's records in __default__ when no namespace is named, and sends the client's API version", async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: [{ id: 'a', values: vector(1), metadata: { text: 'hello', tags: ['x', 'y'], n: 3, ok: true } }] });

      expect(sim.namespaces()).toEqual(['__default__']);
      expect(sim.dump()).toEqual([
        { id: 'a', values: vector(1).map(Math.fround), metadata: { text: 'hello', tags: ['x', 'y'], n: 3, ok: true } },
      ]);
      expect(sim.stats.apiVersions).toEqual(['2026-07']);
      expect(sim.stats.upsertBatchSizes).toEqual([1]);
    });

    it('treats an empty namespace as __default__', async () => {
      const response = await fetch(`${sim.url}/vectors/upsert`, {
        method: 'POST',
        headers: { 'Api-Key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: [{ id: 'a', values: vector(1) }], namespace: '' }),
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ upsertedCount: 1 });
      expect(sim.namespaces()).toEqual(['__default__']);
    });

    it('keeps named namespaces apart', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: records(2), namespace: 'tenant-a' });
      await index.namespace('tenant-b').upsert({ records: records(1) });

      expect(sim.namespaces()).toEqual(['tenant-a', 'tenant-b']);
      expect(sim.dump('tenant-a').map((record) => record.id)).toEqual(['rec-0', 'rec-1']);
      const stats = await index.describeIndexStats();
      expect(stats.dimension).toBe(DIMENSION);
      expect(stats.totalRecordCount).toBe(3);
      expect(stats.namespaces).toEqual({ 'tenant-a': { recordCount: 2 }, 'tenant-b': { recordCount: 1 } });
    });

    it('fetches the ids it holds (sent repeated in the query string) and omits the others', async () => {
      const index = pc.index({ host: sim.url, namespace: 'ns' });
      await index.upsert({ records: records(3, { text: 'meta' }) });

      const response = await index.fetch({ ids: ['rec-0', 'rec-2', 'missing'] });

      expect(Object.keys(response.records).sort()).toEqual(['rec-0', 'rec-2']);
      expect(response.records['rec-2']).toEqual({ id: 'rec-2', values: vector(2).map(Math.fround), metadata: { text: 'meta' } });
      expect(response.namespace).toBe('ns');
    });

    it('overwrites a record upserted again under the same id', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: [{ id: 'a', values: vector(1), metadata: { v: 1 } }] });
      await index.upsert({ records: [{ id: 'a', values: vector(2), metadata: { v: 2 } }] });

      expect(sim.dump()).toEqual([{ id: 'a', values: vector(2).map(Math.fround), metadata: { v: 2 } }]);
    });

    it('queries by cosine similarity, best first, with metadata', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: records(5, { text: 'meta' }) });
      const nearThree = vector(3).map((value, i) => value + (i % 2 === 0 ? 0.05 : -0.05));

      const response = await index.query({ vector: nearThree, topK: 3, includeMetadata: true });

      expect(response.matches).toHaveLength(3);
      expect(response.matches[0].id).toBe('rec-3');
      expect(response.matches[0].score).toBeGreaterThan(0.99);
      expect(response.matches[0].metadata).toEqual({ text: 'meta' });
      const scores = response.matches.map((match) => match.score ?? 0);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('deletes by id and everything in a namespace', async () => {
      const index = pc.index({ host: sim.url, namespace: 'ns' });
      await index.upsert({ records: records(3) });

      await index.deleteMany({ ids: ['rec-0'] });
      expect(sim.dump('ns').map((record) => record.id)).toEqual(['rec-1', 'rec-2']);
      await index.deleteAll();
      expect(sim.namespaces()).toEqual([]);
    });
  });

  describe('limits', () => {
    it('accepts 1000 records per upsert and rejects 1001', async () => {
      // A small index keeps 1000 records under 2 MB, so only the count can fail.
      const small = await startPineconeSimulator({ dimension: 8 });
      try {
        const index = new Pinecone({ apiKey: 'any', maxRetries: 0 }).index({ host: small.url });
        const batch = (count: number): PineconeRecord[] =>
          Array.from({ length: count }, (_, i) => ({ id: `s-${i}`, values: vector(i, 8) }));
        await index.upsert({ records: batch(1000) });

        const error = await errorOf(index.upsert({ records: batch(1001) }));
        expect(error.name).toBe('PineconeBadRequestError');
        expect(error.message).toContain('exceeds the limit of 1000 vectors per upsert request');
        expect(small.stats.upsertBatchSizes).toEqual([1000]);
      } finally {
        await small.close();
      }
    });

    it('counts 2 MB as Pinecone does: 245 records of 1536 dims with 2 KB metadata fit, 246 do not', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: bulkRecords(245, metadataOfBytes(2000)) });
      expect(sim.stats.upsertedVectors).toBe(245);

      const error = await errorOf(index.upsert({ records: bulkRecords(246, metadataOfBytes(2000)) }));
      expect(error.name).toBe('PineconeBadRequestError');
      expect(error.message).toContain('exceeds the maximum supported size of 2MB');
      expect(sim.stats.upsertedVectors).toBe(245);
    });

    it('rejects 100 records whose long text metadata takes them over 2 MB', async () => {
      const error = await errorOf(pc.index({ host: sim.url }).upsert({ records: bulkRecords(100, metadataOfBytes(15_000)) }));
      expect(error.message).toContain('exceeds the maximum supported size of 2MB');
    });

    it('accepts 40 KB of metadata per record and rejects one byte more', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: [{ id: 'fits', values: vector(1), metadata: metadataOfBytes(40_960) }] });

      const error = await errorOf(index.upsert({ records: [{ id: 'big', values: vector(1), metadata: metadataOfBytes(40_961) }] }));
      expect(error.name).toBe('PineconeBadRequestError');
      expect(error.message).toBe('Metadata size is 40961 bytes, which exceeds the limit of 40960 bytes per vector');
    });

    it.each([
      ['null', null],
      ['a nested object', { nested: 'no' }],
      ['a list of numbers', [1, 2]],
    ])('rejects %s as a metadata value', async (_label, value) => {
      const metadata = { ok: 'fine', bad: value } as unknown as RecordMetadata;
      const error = await errorOf(pc.index({ host: sim.url }).upsert({ records: [{ id: 'a', values: vector(1), metadata }] }));

      expect(error.name).toBe('PineconeBadRequestError');
      expect(error.message).toBe(
        `Metadata value must be a string, number, boolean or list of strings, got '${JSON.stringify(value)}' for field 'bad'`,
      );
    });

    it('accepts ids of 512 characters and rejects 513', async () => {
      const index = pc.index({ host: sim.url });
      await index.upsert({ records: [{ id: 'i'.repeat(512), values: vector(1) }] });

      const error = await errorOf(index.upsert({ records: [{ id: 'i'.repeat(513), values: vector(1) }] }));
      expect(error.name).toBe('PineconeBadRequestError');
      expect(error.message).toContain('between 1 and 512 characters');
    });

    it('rejects a vector whose dimension differs from the index', async () => {
      const error = await errorOf(pc.index({ host: sim.url }).upsert({ records: [{ id: 'a', values: [0.1, 0.2, 0.3] }] }));
      expect(error.name).toBe('PineconeBadRequestError');
      expect(error.message).toBe('Vector dimension 3 does not match the dimension of the index 1536');
    });

    it("answers Pinecone's error body shape", async () => {
      const response = await fetch(`${sim.url}/vectors/upsert`, {
        method: 'POST',
        headers: { 'Api-Key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: [{ id: 'a', values: [1, 2] }] }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        code: 3,
        message: 'Vector dimension 2 does not match the dimension of the index 1536',
        details: [],
      });
    });

    it('rejects more than 1000 ids in a fetch or a delete', async () => {
      const index = pc.index({ host: sim.url });
      const ids = Array.from({ length: 1001 }, (_, i) => `r${i}`);
      await index.fetch({ ids: ids.slice(0, 1000) });

      const fetchError = await errorOf(index.fetch({ ids }));
      expect(fetchError.name).toBe('PineconeBadRequestError');
      expect(fetchError.message).toContain('Cannot fetch more than 1000 ids');
      const deleteError = await errorOf(index.deleteMany({ ids }));
      expect(deleteError.message).toContain('Cannot delete more than 1000 ids');
    });

    it('uses the index dimension it is given', async () => {
      const small = await startPineconeSimulator({ dimension: 8 });
      try {
        const index = new Pinecone({ apiKey: 'any', maxRetries: 0 }).index({ host: small.url });
        await index.upsert({ records: [{ id: 'a', values: vector(1, 8) }] });
        const error = await errorOf(index.upsert({ records: [{ id: 'b', values: vector(1) }] }));
        expect(error.message).toBe('Vector dimension 1536 does not match the dimension of the index 8');
      } finally {
        await small.close();
      }
    });
  });

  describe('authentication, throttling and faults', () => {
    it('refuses a wrong Api-Key with 401', async () => {
      const error = await errorOf(new Pinecone({ apiKey: 'wrong', maxRetries: 0 }).index({ host: sim.url }).describeIndexStats());
      expect(error.name).toBe('PineconeAuthorizationError');
    });

    it('refuses a request without Api-Key with 401 and an error body', async () => {
      const response = await fetch(`${sim.url}/describe_index_stats`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 16, message: 'Invalid API Key' });
    });

    it('answers 429 over the request rate, which the client does not retry', async () => {
      const limited = await startPineconeSimulator({ rps: 0.01, retryAfter: true });
      try {
        const index = new Pinecone({ apiKey: 'any' }).index({ host: limited.url });
        await index.describeIndexStats();
        const error = await errorOf(index.describeIndexStats());

        expect(error.name).toBe('PineconeUnmappedHttpError');
        expect(error.message).toContain('429');
        expect(limited.stats.statusCounts).toEqual({ 200: 1, 429: 1 });
        const raw = await fetch(`${limited.url}/describe_index_stats`, { method: 'POST', headers: { 'Api-Key': 'any' }, body: '{}' });
        expect(raw.status).toBe(429);
        expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });

    it('lets the client retry injected 5xx and succeed', async () => {
      sim.failNext(2, 503);
      const index = new Pinecone({ apiKey: KEY, maxRetries: 2 }).index({ host: sim.url });

      await index.upsert({ records: records(1) });

      expect(sim.stats.statusCounts).toEqual({ 503: 2, 200: 1 });
      expect(sim.dump()).toHaveLength(1);
    });

    it('sends retry-after with an injected failure when asked', async () => {
      sim.failNext(1, 429, { retryAfterSeconds: 2 });
      const response = await fetch(`${sim.url}/describe_index_stats`, { method: 'POST', headers: { 'Api-Key': KEY }, body: '{}' });

      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(await response.json()).toMatchObject({ code: 8 });
    });
  });
});
