/**
 * The Pinecone vector store adapter against the data-plane simulator, through the official client.
 * Retry waits go through an injected sleep that records them, so no test waits for real.
 */
import { ConfigurationError, ProviderError, ProviderRejectedError, ProviderUnavailableError } from '../../../../../shared/errors';
import { createPineconeVectorStore } from '../../../../../shared/adapters/pinecone/pineconeVectorStore';
import type { VectorRecord } from '../../../../../shared/ports';
import { startPineconeSimulator, type PineconeSimulator } from '../../../../../simulators/pinecone';
import { recordingLogger } from '../../../../helpers/fakes';

const KEY = 'pc-adapter-test-key';

function vector(seed: number): Float32Array {
  return Float32Array.from({ length: 1536 }, (_, i) => Math.cos(seed * 104729 + i * 0.11) + 0.01);
}

function record(id: string, seed: number, metadata: VectorRecord['metadata'] = {}): VectorRecord {
  return { id, values: vector(seed), metadata };
}

async function storeErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('createPineconeVectorStore', () => {
  let sim: PineconeSimulator;
  let delays: number[];
  const sleep = async (ms: number): Promise<void> => {
    delays.push(ms);
  };
  let logger: ReturnType<typeof recordingLogger>;
  const store = (options: { maxAttempts?: number; indexHost?: string } = {}) =>
    createPineconeVectorStore({ apiKey: KEY, indexHost: sim.url, baseDelayMs: 100, sleep, logger, ...options });

  beforeAll(async () => {
    sim = await startPineconeSimulator({ apiKey: KEY });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
    delays = [];
    logger = recordingLogger();
  });

  it('upserts and fetches records with their metadata', async () => {
    const vectors = store();
    await vectors.upsert('catalog', [record('a', 1, { text: 'hello', tags: ['x'], price: 3, live: true }), record('b', 2)]);

    const found = await vectors.fetch('catalog', ['a', 'b', 'missing']);

    expect([...found.keys()].sort()).toEqual(['a', 'b']);
    expect(found.get('a')).toEqual(record('a', 1, { text: 'hello', tags: ['x'], price: 3, live: true }));
    expect(found.get('b')).toEqual(record('b', 2));
    expect(sim.namespaces()).toEqual(['catalog']);
  });

  it("delivers every float32 intact to the index, bit for bit (-0 included), on the client's API version", async () => {
    const values = Float32Array.from({ length: 1536 }, (_, i) => ((i % 7 === 0 ? -1 : 1) * Math.sin(i * 1.7) ** 9) / 31);
    values.set([1e-45, -1.1754944e-38, 3.4028235e38, 0.099999994, 1e-7, -0, 0.5, 0.99999994]);
    await store().upsert('catalog', [{ id: 'edges', values, metadata: { text: 'x' } }]);

    const [stored] = sim.dump('catalog');
    const bits = (floats: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(floats).buffer));
    expect(bits(stored.values)).toEqual(bits(values));
    expect(sim.stats.apiVersions).toHaveLength(1);
  });

  it('writes to the __default__ namespace when given an empty one, and reads it back either way', async () => {
    const vectors = store();
    await vectors.upsert('', [record('a', 1)]);

    expect(sim.namespaces()).toEqual(['__default__']);
    expect([...(await vectors.fetch('__default__', ['a'])).keys()]).toEqual(['a']);
    expect([...(await vectors.fetch('', ['a'])).keys()]).toEqual(['a']);
  });

  it('queries the nearest records with metadata', async () => {
    const vectors = store();
    await vectors.upsert('ns', [record('a', 1, { text: 'one' }), record('b', 2, { text: 'two' }), record('c', 3)]);

    const matches = await vectors.query('ns', vector(2), 2);

    expect(matches).toHaveLength(2);
    expect(matches[0]).toMatchObject({ id: 'b', metadata: { text: 'two' } });
    expect(matches[0].score).toBeCloseTo(1, 5);
    expect(matches[1].score).toBeLessThan(matches[0].score);
  });

  it('sends a metadata filter with the query', async () => {
    const vectors = store();
    await vectors.upsert('ns', [record('a', 1, { kind: 'hat' }), record('b', 2, { kind: 'shoe' }), record('c', 3, { kind: 'hat' })]);

    const matches = await vectors.query('ns', vector(2), 5, { kind: { $eq: 'hat' } });

    expect(matches.map((match) => match.id).sort()).toEqual(['a', 'c']);
  });

  it('retries 429s with growing, jittered backoff and then succeeds', async () => {
    sim.failNext(2, 429);

    await store().upsert('ns', [record('a', 1)]);

    expect(sim.stats.statusCounts).toEqual({ 429: 2, 200: 1 });
    expect(sim.dump('ns')).toHaveLength(1);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it('writes one WARN line per retried attempt, naming the operation and the status, and none for the last', async () => {
    sim.failNext(5, 429);

    await storeErrorOf(store({ maxAttempts: 3 }).upsert('ns', [record('a', 1)]));

    expect(logger.entries).toEqual(
      [1, 2].map((attempt, i) => ({
        level: 'warn',
        message: 'Pinecone upsert failed; retrying',
        extra: [{ attempt, attempts: 3, retry_in_ms: Math.round(delays[i]), reason: expect.stringContaining('HTTP 429') }],
      })),
    );
  });

  it('waits as long as retry-after asks', async () => {
    sim.failNext(1, 429, { retryAfterSeconds: 3 });

    await store().fetch('ns', ['a']);

    expect(delays).toEqual([3000]);
  });

  it('retries 5xx itself, the client retrying nothing on top', async () => {
    sim.failNext(2, 503);

    await store().query('ns', vector(1), 1);

    expect(sim.stats.statusCounts).toEqual({ 503: 2, 200: 1 });
    expect(delays).toHaveLength(2);
  });

  it('gives up after maxAttempts with a retryable error carrying the status', async () => {
    sim.failNext(5, 429);

    const error = await storeErrorOf(store({ maxAttempts: 3 }).upsert('ns', [record('a', 1)]));

    expect(error).toMatchObject({ operation: 'upsert', status: 429, retryable: true, attempts: 3 });
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toContain('Too many requests');
    expect(sim.stats.statusCounts).toEqual({ 429: 3 });
  });

  it('does not retry a bad request, and says what Pinecone said', async () => {
    const error = await storeErrorOf(store().upsert('ns', [{ id: 'a', values: Float32Array.of(0.1, 0.2, 0.3), metadata: {} }]));

    expect(error).toMatchObject({ provider: 'pinecone', operation: 'upsert', status: 400, retryable: false, attempts: 1 });
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error.message).toContain('Vector dimension 3 does not match the dimension of the index 1536');
    expect(sim.stats.statusCounts).toEqual({ 400: 1 });
    expect(delays).toEqual([]);
  });

  it('does not retry a refused key', async () => {
    const error = await storeErrorOf(createPineconeVectorStore({ apiKey: 'wrong', indexHost: sim.url, sleep }).fetch('ns', ['a']));
    expect(error).toMatchObject({ status: 401, retryable: false, attempts: 1 });
    expect(error).not.toBeInstanceOf(ProviderRejectedError);
  });

  it('retries an unreachable host as a network failure', async () => {
    const gone = await startPineconeSimulator();
    await gone.close();

    const error = await storeErrorOf(store({ indexHost: gone.url, maxAttempts: 2 }).fetch('ns', ['a']));

    expect(error).toMatchObject({ status: undefined, retryable: true, attempts: 2 });
    expect(delays).toHaveLength(1);
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', message: 'Pinecone fetch failed; retrying' })]);
  });

  it('splits fetches by the 1000-id limit and by URL length', async () => {
    const vectors = store();
    await vectors.upsert('ns', [record('id-7', 7)]);

    const many = Array.from({ length: 2500 }, (_, i) => `id-${i}`);
    expect([...(await vectors.fetch('ns', many)).keys()]).toEqual(['id-7']);
    expect(sim.stats.operations.fetch).toBe(3);

    const long = Array.from({ length: 100 }, (_, i) => `${'k'.repeat(500)}-${i}`);
    await vectors.fetch('ns', long);
    expect(sim.stats.operations.fetch).toBeGreaterThanOrEqual(3 + 4);
  });

  it('accepts an index host with a trailing slash', async () => {
    await store({ indexHost: `${sim.url}/` }).upsert('ns', [record('a', 1)]);
    expect(sim.dump('ns')).toHaveLength(1);
  });

  it('needs an index host or name', () => {
    expect(() => createPineconeVectorStore({ apiKey: KEY })).toThrow(ConfigurationError);
  });
});
