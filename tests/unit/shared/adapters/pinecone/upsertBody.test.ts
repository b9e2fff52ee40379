/**
 * The upsert body written from Float32Arrays: valid JSON whose every number comes back as the
 * same float32, bit for bit, in fewer bytes than JSON.stringify of the widened doubles.
 */
import { upsertBody, writeFloat32s } from '../../../../../shared/adapters/pinecone/upsertBody';
import type { VectorRecord } from '../../../../../shared/ports';

/** The float32 a JSON number parses to, as Pinecone stores it. */
const asFloat32 = (value: number) => Math.fround(value);
const bits = (values: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(values).buffer));

function written(value: number): string {
  const out = Buffer.alloc(32);
  return out.subarray(0, writeFloat32s(out, 0, [value])).toString('latin1');
}

/** Float32s from random bit patterns (all exponents, signs, subnormals), finite ones only. */
function randomFloat32s(count: number): Float32Array {
  const words = new Uint32Array(count);
  let seed = 12345;
  for (let i = 0; i < count; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    words[i] = seed ^ (seed >>> 13) ^ Math.imul(i, 2654435761);
  }
  return new Float32Array(words.buffer).filter(Number.isFinite);
}

describe('writeFloat32s', () => {
  // 9 digits always, not the shortest that would do: finding the shortest costs more than it saves.
  it.each([
    [0.1, '0.100000001'],
    [-0.0234, '-0.0233999994'],
    [0.5, '0.5'],
    [1e-7, '0.000000100000001'],
    [0.99999994, '0.99999994'],
    [0, '0'],
    [-0, '-0'],
    [1, '1.00000000'],
    [3.4028235e38, '3.40282347e+38'],
    [NaN, 'null'],
  ])('writes the float32 nearest %p as %s', (value, text) => {
    expect(written(Math.fround(value))).toBe(text);
  });

  it('writes every float32 so that it parses back to itself, in at most 9 significant digits', () => {
    const values = [
      ...randomFloat32s(100_000),
      // Embedding-like components, and the edges of the fixed-notation range.
      ...Float32Array.from({ length: 50_000 }, (_, i) => Math.sin(i * 7.3) / 39),
      ...[1e-7, 9.999999e-8, 0.099999994, 0.1, 0.9999999, 1e-45, 1.1754944e-38, 3.4028235e38].flatMap((v) => [v, -v]),
    ].map(asFloat32);
    const wrong = values.filter((value) => {
      const text = written(value);
      const digits = text
        .replace(/e.*$/, '')
        .replace(/^[-0.]+/, '')
        .replace('.', '');
      return !Object.is(asFloat32(JSON.parse(text) as number), value) || digits.length > 9;
    });
    expect(wrong).toEqual([]);
  });
});

describe('upsertBody', () => {
  const vectors = [Float32Array.from({ length: 1536 }, (_, i) => Math.cos(i * 0.37) / 39), randomFloat32s(1536).subarray(0, 1536)];
  const records: VectorRecord[] = [
    { id: 'sku-1', values: vectors[0], metadata: { text: 'Café "crème" — naïve\nfaçade 🚀', tags: ['a', 'b'], price: 3.5, live: true } },
    { id: 'sku-2 ünïcode', values: vectors[1], metadata: {} },
  ];

  it("is Pinecone's upsert request, every value the same float32, metadata only where there is some", () => {
    const body = JSON.parse(upsertBody(records, 'catalog').toString('utf8')) as {
      vectors: { id: string; values: number[]; metadata?: object }[];
      namespace?: string;
    };
    expect(body.namespace).toBe('catalog');
    expect(body.vectors.map(({ id, metadata }) => ({ id, metadata }))).toEqual([
      { id: 'sku-1', metadata: records[0].metadata },
      { id: 'sku-2 ünïcode', metadata: undefined },
    ]);
    body.vectors.forEach((vector, i) => expect(bits(vector.values.map(asFloat32))).toEqual(bits(records[i].values)));
  });

  it('leaves the namespace out when there is none', () => {
    expect(JSON.parse(upsertBody(records.slice(1), undefined).toString('utf8'))).not.toHaveProperty('namespace');
  });

  it('is about two thirds of what JSON.stringify of the widened doubles takes', () => {
    const plain = JSON.stringify({ vectors: [{ id: 'sku-1', values: Array.from(vectors[0]) }] }).length;
    expect(upsertBody([{ id: 'sku-1', values: vectors[0], metadata: {} }], undefined).length).toBeLessThan(0.7 * plain);
  });
});
