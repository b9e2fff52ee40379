/**
 * The offline embedder: deterministic unit vectors whose cosine similarity follows shared words,
 * so that local search ranks the obviously relevant record first.
 */
import { createOfflineEmbedder } from '../../../../local/adapters/offlineEmbedder';

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function norm(vector: Float32Array): number {
  return Math.sqrt(dot(vector, vector));
}

/** Computed in full rather than assuming unit vectors, so the ranking tests stand on their own. */
function cosine(a: Float32Array, b: Float32Array): number {
  return dot(a, b) / (norm(a) * norm(b));
}

async function embedOne(text: string): Promise<Float32Array> {
  return (await createOfflineEmbedder().embed([text])).vectors[0];
}

describe('createOfflineEmbedder', () => {
  it('describes itself and defaults to 1536 dimensions', async () => {
    const embedder = createOfflineEmbedder();
    expect(embedder.model).toBe('offline-lexical-v1');
    expect(embedder.dimensions).toBe(1536);
    expect(embedder.description).toBe('offline lexical embedder (1536 dims)');
    const { vectors } = await embedder.embed(['a first text', 'a second text']);
    expect(vectors.map((vector) => vector.length)).toEqual([1536, 1536]);
  });

  it('honours a custom dimension count', async () => {
    const embedder = createOfflineEmbedder({ dimensions: 64 });
    expect(embedder.dimensions).toBe(64);
    expect((await embedder.embed(['short text'])).vectors[0]).toHaveLength(64);
  });

  it('is deterministic across calls and instances, and keeps input order', async () => {
    const texts = ['Red running shoes, size 42', '!!! ???', 'Stainless steel kitchen knife', 'Zürich café'];
    const batch = await createOfflineEmbedder().embed(texts);
    const oneByOne = await Promise.all(texts.map(embedOne));
    expect(batch.vectors).toEqual(oneByOne);
    const reversed = await createOfflineEmbedder().embed([...texts].reverse());
    expect(reversed.vectors.reverse()).toEqual(batch.vectors);
    expect(new Set(batch.vectors.map((vector) => vector.join())).size).toBe(texts.length);
  });

  it('returns unit vectors, including for text without any words', async () => {
    const { vectors } = await createOfflineEmbedder().embed(['Some ordinary text.', '!!! ??? ...', 'x'.repeat(5000), 'the of and']);
    for (const vector of vectors) {
      expect(norm(vector)).toBeCloseTo(1, 6);
      expect(vector.every(Number.isFinite)).toBe(true);
    }
  });

  it('ranks a document about red running shoes first for "red running shoes"', async () => {
    const documents = [
      'Quarterly revenue report for the finance department',
      'Stainless steel kitchen knife set with wooden block',
      'Red running shoes with breathable mesh upper, size 42',
      'Blue cotton t-shirt, slim fit',
      'Recipe: slow-cooked beef stew with carrots',
    ];
    const embedder = createOfflineEmbedder();
    const { vectors } = await embedder.embed(documents);
    const [query] = (await embedder.embed(['red running shoes'])).vectors;
    const ranked = documents.map((text, i) => ({ text, score: cosine(query, vectors[i]) })).sort((a, b) => b.score - a.score);
    expect(ranked[0].text).toBe(documents[2]);
    // Clearly ahead, not a coin toss between near-equal scores.
    expect(ranked[0].score).toBeGreaterThan(ranked[1].score + 0.3);
  });

  it('scores similar texts higher than dissimilar ones', async () => {
    const anchor = await embedOne('Invoice overdue: payment reminder for customer order 1234');
    const similar = await embedOne('Payment reminder: customer invoice for order 1234 is overdue');
    const related = await embedOne('Customer paid the invoice for order 987');
    const unrelated = await embedOne('Hiking trail through the alpine meadows');
    expect(cosine(anchor, similar)).toBeGreaterThan(cosine(anchor, related));
    expect(cosine(anchor, related)).toBeGreaterThan(cosine(anchor, unrelated));
  });

  it('ignores case and diacritics, and matches plural with singular', async () => {
    expect(cosine(await embedOne('Crème Brûlée at the CAFÉ'), await embedOne('creme brulee at the cafe'))).toBeCloseTo(1, 6);
    const shoes = await embedOne('shoes');
    expect(cosine(shoes, await embedOne('shoe'))).toBeGreaterThan(cosine(shoes, await embedOne('shirt')) + 0.5);
  });

  it('counts tokens with cl100k_base and treats special-token strings as plain text', async () => {
    const embedder = createOfflineEmbedder();
    // "hello world" is 2 cl100k_base tokens; "<|endoftext|>" as plain text is several, not 1 and not an error.
    expect((await embedder.embed(['hello world'])).tokens).toBe(2);
    expect((await embedder.embed(['hello world', 'hello world'])).tokens).toBe(4);
    const special = await embedder.embed(['<|endoftext|>']);
    expect(special.tokens).toBeGreaterThan(1);
    expect(norm(special.vectors[0])).toBeCloseTo(1, 6);
  });
});
