import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { EMBEDDING_LIMITS, batchByTokens, batchForUpsert, fitToTokenLimit, upsertBytes } from '../../../../shared/domain/batching';
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

describe('batchByTokens', () => {
  it('never exceeds the input count or the token cap, keeps order, never splits an item', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ i, tokens: ((i * 37) % 900) + 1 }));
    const batches = batchByTokens(items, { maxInputs: 2048, maxTokens: 250_000 });
    expect(batches.flat().map((item) => item.i)).toEqual(items.map((item) => item.i));
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(2048);
      expect(batch.reduce((sum, item) => sum + item.tokens, 0)).toBeLessThanOrEqual(250_000);
    }
  });

  it('splits on the input count when items are tiny', () => {
    const batches = batchByTokens(Array.from({ length: 5000 }, () => ({ tokens: 1 })));
    expect(batches.map((batch) => batch.length)).toEqual([2048, 2048, 904]);
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
