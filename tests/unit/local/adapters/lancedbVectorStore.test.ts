/**
 * The embedded LanceDB vector store, on a real database in a temporary directory: Pinecone's
 * upsert/fetch/query semantics, namespaces kept apart, and data that survives a reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLanceDbVectorStore, type LanceDbVectorStore } from '../../../../local/adapters/lancedbVectorStore';
import type { Metadata, VectorRecord } from '../../../../shared/ports';

const DIMENSIONS = 1536;

/** A unit vector at `angle` radians from axis 0 towards axis 1: its cosine with axis 0 is cos(angle).
 *  Components are float32 already, so values read back compare exactly. */
function vectorAt(angle: number, axis = 1): Float32Array {
  const values = new Float32Array(DIMENSIONS);
  values[0] = Math.cos(angle);
  values[axis] = Math.sin(angle);
  return values;
}

function record(id: string, angle: number, metadata: Metadata = {}): VectorRecord {
  return { id, values: vectorAt(angle), metadata };
}

describe('createLanceDbVectorStore', () => {
  let root: string;
  let directory: string;
  let stores: LanceDbVectorStore[];
  const open = (): LanceDbVectorStore => {
    const store = createLanceDbVectorStore({ directory });
    stores.push(store);
    return store;
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'lancedb-store-test-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    directory = mkdtempSync(path.join(root, 'db-'));
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  it('answers empty for a namespace that has no table yet, without creating one', async () => {
    const store = open();
    await expect(store.fetch('nothing-here', ['a'])).resolves.toEqual(new Map());
    await expect(store.query('nothing-here', vectorAt(0), 5)).resolves.toEqual([]);
    await expect(store.count('nothing-here')).resolves.toBe(0);
    await store.upsert('something', [record('a', 0)]);
    await expect(store.count('nothing-here')).resolves.toBe(0);
    expect(store.description).toBe(`lancedb (${directory})`);
  });

  it('upserts and fetches records with values and typed metadata', async () => {
    const store = open();
    const metadata = { text: 'red running shoes', price: 79.5, inStock: true, tags: ['shoes', 'red'] };
    await store.upsert('catalog', [record('a', 0.1, metadata), record('b', 0.2)]);
    const found = await store.fetch('catalog', ['a', 'b', 'missing']);
    expect([...found.keys()].sort()).toEqual(['a', 'b']);
    expect(found.get('a')).toEqual({ id: 'a', values: vectorAt(0.1), metadata });
    expect(found.get('b')).toEqual({ id: 'b', values: vectorAt(0.2), metadata: {} });
  });

  it('overwrites on a second upsert without duplicating', async () => {
    const store = open();
    await store.upsert('catalog', [record('a', 0.1, { version: 1 }), record('b', 0.2, { version: 1 })]);
    await store.upsert('catalog', [record('a', 0.3, { version: 2 }), record('c', 0.4, { version: 1 })]);
    await expect(store.count('catalog')).resolves.toBe(3);
    const found = await store.fetch('catalog', ['a', 'b', 'c']);
    expect(found.get('a')).toEqual({ id: 'a', values: vectorAt(0.3), metadata: { version: 2 } });
    expect(found.get('b')?.metadata).toEqual({ version: 1 });
  });

  it('keeps the last of duplicate ids within one batch, as Pinecone does', async () => {
    const store = open();
    await store.upsert('catalog', [record('a', 0.1, { n: 1 }), record('a', 0.2, { n: 2 })]);
    await store.upsert('catalog', [record('a', 0.3, { n: 3 }), record('a', 0.4, { n: 4 })]);
    await expect(store.count('catalog')).resolves.toBe(1);
    expect((await store.fetch('catalog', ['a'])).get('a')?.metadata).toEqual({ n: 4 });
  });

  it('still overwrites once the id index has been built over earlier batches', async () => {
    const store = open();
    // 60 batches cross the index rebuild after 50 writes; later batches stay outside the index.
    for (let batch = 0; batch < 60; batch++) {
      await store.upsert('many', [record(`r${batch}-0`, 0.1, { round: 1 }), record(`r${batch}-1`, 0.2, { round: 1 })]);
    }
    for (let batch = 0; batch < 60; batch += 20) {
      const ids = Array.from({ length: 20 }, (_, i) => [`r${batch + i}-0`, `r${batch + i}-1`]).flat();
      await store.upsert(
        'many',
        ids.map((id) => record(id, 0.3, { round: 2 })),
      );
    }
    await expect(store.count('many')).resolves.toBe(120);
    const found = await store.fetch('many', ['r0-0', 'r49-1', 'r59-0']);
    expect([...found.values()].map((stored) => stored.metadata)).toEqual([{ round: 2 }, { round: 2 }, { round: 2 }]);
  });

  it('queries by cosine similarity, best first, limited to topK', async () => {
    const store = open();
    const angles = { far: 1.2, near: 0.1, middle: 0.6, opposite: Math.PI };
    await store.upsert(
      'catalog',
      Object.entries(angles).map(([id, angle]) => record(id, angle, { label: id })),
    );
    const matches = await store.query('catalog', vectorAt(0), 3);
    expect(matches.map((match) => match.id)).toEqual(['near', 'middle', 'far']);
    expect(matches[0].metadata).toEqual({ label: 'near' });
    matches.forEach((match) => expect(match.score).toBeCloseTo(Math.cos(angles[match.id as keyof typeof angles]), 5));
    const all = await store.query('catalog', vectorAt(0), 10);
    expect(all.at(-1)).toMatchObject({ id: 'opposite', score: expect.closeTo(-1, 5) });
  });

  it('filters by metadata as Pinecone does, looking past the nearest vectors until topK match', async () => {
    const store = open();
    // 40 near shoes, then (farther) 3 hats: a filter on hats must look past every shoe.
    const records = [
      ...Array.from({ length: 40 }, (_, i) => record(`shoe-${i}`, 0.01 * i, { kind: 'shoe', price: i, tags: ['red'] })),
      ...[0, 1, 2].map((i) => record(`hat-${i}`, 1 + 0.1 * i, { kind: 'hat', price: 100 + i, tags: ['blue', 'wool'] })),
    ];
    await store.upsert('catalog', records);
    const ids = async (filter: Record<string, unknown>, topK = 2) =>
      (await store.query('catalog', vectorAt(0), topK, filter)).map((match) => match.id);

    expect(await ids({ kind: 'hat' })).toEqual(['hat-0', 'hat-1']);
    expect(await ids({ kind: { $eq: 'hat' } }, 10)).toEqual(['hat-0', 'hat-1', 'hat-2']);
    expect(await ids({ kind: { $in: ['hat', 'scarf'] }, price: { $gte: 101 } })).toEqual(['hat-1', 'hat-2']);
    expect(await ids({ tags: 'wool' }, 1)).toEqual(['hat-0']);
    expect(await ids({ $or: [{ price: { $lt: 1 } }, { price: 102 }] }, 5)).toEqual(['shoe-0', 'hat-2']);
    expect(await ids({ kind: { $nin: ['shoe'] }, missing: { $exists: false } }, 1)).toEqual(['hat-0']);
    expect(await ids({ kind: 'scarf' })).toEqual([]);
  });

  it('keeps namespaces apart, including ones that differ only in case or escaping', async () => {
    const store = open();
    const namespaces = ['', '__default__', 'Docs', 'docs', 'a/b', 'a_2fb', 'a.b', 'ünïcode ns', "it's"];
    for (const [i, namespace] of namespaces.entries()) await store.upsert(namespace, [record(`only-${i}`, 0.1 * i, { namespace })]);
    for (const [i, namespace] of namespaces.entries()) {
      await expect(store.count(namespace)).resolves.toBe(1);
      const matches = await store.query(namespace, vectorAt(0), 10);
      expect(matches.map((match) => [match.id, match.metadata.namespace])).toEqual([[`only-${i}`, namespace]]);
      expect(
        (
          await store.fetch(
            namespace,
            namespaces.map((_, j) => `only-${j}`),
          )
        ).size,
      ).toBe(1);
    }
  });

  it('accepts a namespace too long to use as a file name', async () => {
    const store = open();
    const long = 'ns-'.repeat(200);
    await store.upsert(long, [record('a', 0)]);
    await expect(store.count(long)).resolves.toBe(1);
    await expect(store.count(`${long}x`)).resolves.toBe(0);
  });

  it('fetches ids that need quoting in SQL', async () => {
    const store = open();
    const ids = ["it's", 'back\\slash', 'naïve "quoted"', "'); DROP TABLE x; --", 'a,b'];
    await store.upsert(
      'odd-ids',
      ids.map((id, i) => record(id, 0.1 * i)),
    );
    const found = await store.fetch('odd-ids', ids);
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    await expect(store.count('odd-ids')).resolves.toBe(ids.length);
  });

  it('lands every record when 5 upserts run at once on a new namespace', async () => {
    const store = open();
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 40 }, (_, i) => record(`b${b}-r${i}`, 0.01 * i, { batch: b })),
    );
    await Promise.all(batches.map((batch) => store.upsert('concurrent', batch)));
    await expect(store.count('concurrent')).resolves.toBe(200);
    const found = await store.fetch(
      'concurrent',
      batches.flat().map((stored) => stored.id),
    );
    expect(found.size).toBe(200);
  });

  it("serialises writes from two stores on one directory, each seeing the other's", async () => {
    const [first, second] = [open(), open()];
    await Promise.all(
      Array.from({ length: 6 }, (_, b) =>
        (b % 2 ? first : second).upsert('shared', [record(`r${b}`, 0.1 * b), record('same', 0.5, { writer: b })]),
      ),
    );
    await expect(first.count('shared')).resolves.toBe(7);
    await expect(second.count('shared')).resolves.toBe(7);
  });

  it('sees the data after reopening the directory with a new store', async () => {
    const writer = open();
    await writer.upsert('catalog', [record('a', 0.1, { text: 'kept' }), record('b', 0.9)]);
    await writer.upsert('', [record('default', 0.2)]);
    await writer.close();
    const reader = open();
    await expect(reader.count('catalog')).resolves.toBe(2);
    await expect(reader.count('')).resolves.toBe(1);
    expect((await reader.fetch('catalog', ['a'])).get('a')).toEqual({ id: 'a', values: vectorAt(0.1), metadata: { text: 'kept' } });
    expect((await reader.query('catalog', vectorAt(0), 1)).map((match) => match.id)).toEqual(['a']);
    // And the writer, reused after close, reconnects and sees the reader's writes.
    await reader.upsert('catalog', [record('c', 0.3)]);
    await expect(writer.count('catalog')).resolves.toBe(3);
  });

  it('rejects vectors of the wrong dimension instead of storing them', async () => {
    const store = open();
    await expect(store.upsert('catalog', [{ id: 'short', values: Float32Array.of(1, 0, 0), metadata: {} }])).rejects.toThrow(
      /3 dimensions.*1536/,
    );
    await expect(store.count('catalog')).resolves.toBe(0);
    await store.upsert('catalog', [record('a', 0)]);
    await expect(store.query('catalog', Float32Array.of(1, 0), 1)).rejects.toThrow(/2 dimensions/);
  });
});
