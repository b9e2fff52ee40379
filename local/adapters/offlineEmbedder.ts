/**
 * The embedder local mode uses when no OPENAI_API_KEY is set: deterministic feature hashing of
 * words, word bigrams and character trigrams. It knows no synonyms, but texts that share words
 * (or word stems, through the trigrams) land close together, so search behaves sensibly offline.
 */
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import type { Embedder, EmbeddingResult, Vector } from '../../shared/ports';

export interface OfflineEmbedderOptions {
  dimensions?: number;
}

/** Treats strings such as `<|endoftext|>` as plain text (the default throws), as the embeddings API does. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Each feature family is normalised on its own, then weighted, so long texts with many
 *  trigrams do not drown out the word matches that carry most of the meaning. */
const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.6;
const TRIGRAM_WEIGHT = 0.6;

/** Distinct seeds keep the families' hashes apart, so "red" the word and "red" the trigram differ. */
const UNIGRAM_SEED = 0x811c9dc5;
const BIGRAM_SEED = 0x9e3779b9;
const TRIGRAM_SEED = 0x85ebca6b;
const FALLBACK_SEED = 0xc2b2ae35;

/** Words that occur in nearly every English text: without IDF they would make unrelated texts look alike. */
const STOP_WORDS = new Set(
  ('a an and are as at be but by for from has have in is it its of on or that the this to was were ' + 'will with').split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const COMBINING_MARK = /\p{M}+/gu;

export function createOfflineEmbedder({ dimensions = 1536 }: OfflineEmbedderOptions = {}): Embedder {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new Error(`dimensions must be a positive integer, got ${dimensions}`);
  const featurize = createFeaturizer(dimensions);
  return {
    description: `offline lexical embedder (${dimensions} dims)`,
    model: 'offline-lexical-v1',
    dimensions,
    async embed(inputs: string[]): Promise<EmbeddingResult> {
      let tokens = 0;
      const vectors = inputs.map((input) => {
        tokens += countTokens(input, PLAIN_TEXT);
        return featurize(input);
      });
      return { vectors, tokens };
    },
  };
}

/** Reuses typed scratch buffers across texts: embedding runs over 100K+ records, and Maps or
 *  fresh arrays per text made allocation and hashing the bottleneck. */
function createFeaturizer(dimensions: number): (text: string) => Vector {
  const accumulator = new Float64Array(dimensions);
  let unigrams = new Uint32Array(64);
  let bigrams = new Uint32Array(64);
  let trigrams = new Uint32Array(512);

  /** Adds one family with sublinear term frequency, scaled to norm `weight`; the hash's top bit picks
   *  the sign so that collisions cancel out on average instead of piling up. */
  const addFamily = (hashes: Uint32Array, length: number, weight: number): void => {
    if (length === 0) return;
    // Sorting groups equal hashes into runs, which gives the term counts without a Map.
    const sorted = hashes.subarray(0, length).sort();
    let sumOfSquares = 0;
    forEachRun(sorted, (_hash, count) => (sumOfSquares += (1 + Math.log(count)) ** 2));
    const scale = weight / Math.sqrt(sumOfSquares);
    forEachRun(sorted, (hash, count) => {
      const value = (1 + Math.log(count)) * scale;
      accumulator[hash % dimensions] += hash & 0x80000000 ? -value : value;
    });
  };

  return (text) => {
    const words = wordsOf(text);
    if (words.length > unigrams.length) {
      unigrams = new Uint32Array(words.length * 2);
      bigrams = new Uint32Array(words.length * 2);
    }
    let trigramCount = 0;
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      unigrams[i] = hashString(word, UNIGRAM_SEED);
      if (i > 0) bigrams[i - 1] = mix(hashString(words[i - 1], BIGRAM_SEED) ^ Math.imul(unigrams[i], 0x27d4eb2d));
      // Padding marks word boundaries, so prefixes and suffixes ("run" in "running") match.
      const padded = ` ${word} `;
      if (trigramCount + padded.length > trigrams.length) trigrams = grow(trigrams, trigramCount + padded.length);
      for (let j = 0; j + 3 <= padded.length; j++) trigrams[trigramCount++] = hashTrigram(padded, j);
    }
    if (words.length === 0) {
      // Punctuation or symbols only: still a non-zero vector (Pinecone rejects all-zero vectors), equal for equal texts.
      unigrams[0] = hashString(text.trim(), FALLBACK_SEED);
    }
    addFamily(unigrams, Math.max(words.length, 1), UNIGRAM_WEIGHT);
    addFamily(bigrams, Math.max(words.length - 1, 0), BIGRAM_WEIGHT);
    addFamily(trigrams, trigramCount, TRIGRAM_WEIGHT);

    let sumOfSquares = 0;
    for (let i = 0; i < dimensions; i++) sumOfSquares += accumulator[i] * accumulator[i];
    const inverse = 1 / Math.sqrt(sumOfSquares);
    const vector = new Float32Array(dimensions);
    for (let i = 0; i < dimensions; i++) vector[i] = accumulator[i] * inverse;
    accumulator.fill(0);
    return vector;
  };
}

function forEachRun(sorted: Uint32Array, visit: (hash: number, count: number) => void): void {
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i === sorted.length || sorted[i] !== sorted[start]) {
      visit(sorted[start], i - start);
      start = i;
    }
  }
}

function grow(buffer: Uint32Array, needed: number): Uint32Array<ArrayBuffer> {
  const larger = new Uint32Array(Math.max(needed, buffer.length * 2));
  larger.set(buffer);
  return larger;
}

/** Lowercase, diacritics stripped, stop words dropped (unless nothing else is left), light plural stemming. */
function wordsOf(text: string): string[] {
  const folded = text.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase();
  const all = folded.match(WORD) ?? [];
  const content = all.filter((word) => !STOP_WORDS.has(word));
  return (content.length > 0 ? content : all).map(stem);
}

/** Only the plural endings: enough for "shoe"/"shoes" to share a unigram without an English stemmer's surprises. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** FNV-1a over UTF-16 code units, finished with a murmur3 mix so the low bits (used for the index) are well spread. */
function hashString(value: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return mix(hash);
}

/** hashString(value.slice(start, start + 3), TRIGRAM_SEED) without allocating the substring. */
function hashTrigram(value: string, start: number): number {
  let hash = TRIGRAM_SEED;
  hash = Math.imul(hash ^ value.charCodeAt(start), 0x01000193);
  hash = Math.imul(hash ^ value.charCodeAt(start + 1), 0x01000193);
  hash = Math.imul(hash ^ value.charCodeAt(start + 2), 0x01000193);
  return mix(hash);
}

/** murmur3 fmix32; returns an unsigned 32-bit integer. */
function mix(input: number): number {
  let hash = input;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
