import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import {
  EMBEDDING_LIMITS,
  batchForUpsert,
  fitToTokenLimit,
  nextBatch,
  upsertBytes,
  type BatchLimits,
} from '../../../../shared/domain/batching';
import type { VectorRecord } from '../../../../shared/ports';

describe('fitToTokenLimit', () => {
  it('keeps a text within the limit whole', () => {
    expect(fitToTokenLimit('hello world')).toEqual({ text: 'hello world', tokens: 2, truncated: false });
  });

  it('cuts a long text to the per-input limit on a token boundary', () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(3000);
    const fitted = fitToTokenLimit(long);
    expect(fitted.truncated).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxTokensPerInput);
    expect(encode(fitted.text).length).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxTokensPerInput);
    expect(long.startsWith(fitted.text)).toBe(true);
  });

  it('counts special-token strings as plain text instead of throwing', () => {
    expect(fitToTokenLimit('a <|endoftext|> b').tokens).toBeGreaterThan(3);
  });

  it('cuts a giant single field quickly by characters before tokenising', () => {
    const fitted = fitToTokenLimit('x'.repeat(50_000_000));
    expect(fitted.truncated).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxTokensPerInput);
  });
});

describe('nextBatch', () => {
  const allBatches = <T extends { tokens: number }>(items: T[], limits?: Partial<BatchLimits>): T[][] => {
    const batches: T[][] = [];
    for (let start = 0; start < items.length; start += batches[batches.length - 1].length) batches.push(nextBatch(items, start, limits));
    return batches;
  };

  it('never exceeds the input count or the token cap, keeps order, never splits an item', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ i, tokens: ((i * 37) % 900) + 1 }));
    const batches = allBatches(items);
    expect(batches.flat().map((item) => item.i)).toEqual(items.map((item) => item.i));
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxInputsPerRequest);
      expect(batch.reduce((sum, item) => sum + item.tokens, 0)).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxTokensPerRequest);
    }
  });

  it('splits on the input count when items are tiny', () => {
    const batches = allBatches(Array.from({ length: 5000 }, () => ({ tokens: 1 })));
    expect(batches.map((batch) => batch.length)).toEqual([2048, 2048, 904]);
  });

  it('keeps to a lower token cap (what the window absorbs), an item over it going alone', () => {
    const items = [300, 300, 500, 1200, 100, 100].map((tokens) => ({ tokens }));
    expect(allBatches(items, { maxTokens: 1000 }).map((batch) => batch.map((item) => item.tokens))).toEqual([
      [300, 300],
      [500],
      [1200],
      [100, 100],
    ]);
  });

  it('never goes over the embedding limits, whatever higher caps it is given', () => {
    const items = Array.from({ length: 3000 }, () => ({ tokens: 1 }));
    expect(nextBatch(items, 0, { maxInputs: 10_000, maxTokens: Infinity })).toHaveLength(2048);
  });
});

describe('batchForUpsert', () => {
  const vector = (id: string, textBytes: number): VectorRecord => ({
    id,
    values: new Float32Array(1536).fill(0.1),
    metadata: { text: 'x'.repeat(textBytes) },
  });

  it('caps batches at the record count', () => {
    const batches = batchForUpsert(
      Array.from({ length: 250 }, (_, i) => vector(String(i), 10)),
      100,
    );
    expect(batches.map((batch) => batch.length)).toEqual([100, 100, 50]);
  });

  it('caps batches by Pinecone request size when metadata is large', () => {
    const records = Array.from({ length: 100 }, (_, i) => vector(String(i), 39_000));
    const batches = batchForUpsert(records, 100);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.reduce((sum, record) => sum + upsertBytes(record), 0)).toBeLessThanOrEqual(1_900_000);
    expect(batches.flat()).toHaveLength(100);
  });
});
