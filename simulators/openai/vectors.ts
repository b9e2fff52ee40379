/**
 * Embeddings as pseudo-random unit vectors seeded by a hash of the input text, so equal texts get
 * equal vectors (whether sent as text or as its tokens).
 */
import { createHash } from 'node:crypto';
import { decode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { Input } from './input';

/** The `data` of the answer: each input's vector, as floats or as base64 little-endian float32. */
export function embeddingData(inputs: Input[], dimensions: number, encodingFormat: 'float' | 'base64'): unknown[] {
  return inputs.map((input, index) => {
    const vector = embed(typeof input === 'string' ? input : decode(input), dimensions);
    const embedding =
      encodingFormat === 'base64'
        ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
        : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
}

/**
 * A unit vector seeded by the text. The components are a stream from the seeded generator, so the
 * first `dimensions` of them are the native vector's prefix: renormalising them is exactly how the
 * text-embedding-3 models shorten.
 */
function embed(text: string, dimensions: number): Float32Array {
  const next = seededRandom(createHash('sha256').update(text).digest());
  const components = new Float64Array(dimensions);
  let sumOfSquares = 0;
  for (let i = 0; i < dimensions; i++) {
    // Uniform components: not isotropic, but cheap (2048 × 1536 per request) and near-orthogonal between texts.
    const value = 2 * next() - 1;
    components[i] = value;
    sumOfSquares += value * value;
  }
  const scale = 1 / Math.sqrt(sumOfSquares);
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = components[i] * scale;
  return vector;
}

/** sfc32 seeded with the first 16 bytes of the digest: fast, and good enough for test vectors. */
function seededRandom(seed: Buffer): () => number {
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
