/**
 * Provider limits as arithmetic: how many inputs go in one embeddings request, how long one input
 * may be, and how many vectors go in one upsert (README › Limits). Pure: no I/O.
 */
import { decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { VectorRecord } from '../ports';

export const EMBEDDING_LIMITS = {
  maxInputsPerRequest: 2048,
  /** The model accepts 8192 tokens per input; one token of margin. */
  maxTokensPerInput: 8191,
  /** 300,000 per request, with margin for the provider's own counting. */
  maxTokensPerRequest: 250_000,
} as const;

export const UPSERT_LIMITS = {
  maxRecordsPerRequest: 1000,
  /** Pinecone's 2 MB per request, with margin. */
  maxBytesPerRequest: 1_900_000,
} as const;

/**
 * Cutting by characters first keeps a giant field from costing seconds of tokenising; no cl100k
 * token is longer than this many characters on average over 8191 tokens.
 */
const MAX_CHARS_BEFORE_TOKENISING = EMBEDDING_LIMITS.maxTokensPerInput * 32;
// Strings such as "<|endoftext|>" occur in real data: count them as the plain text they are.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

export interface FittedText {
  text: string;
  tokens: number;
  truncated: boolean;
}

/**
 * BPE cost grows with the square of a pre-token's length, and a run without spaces (a base64 blob,
 * "=====") is one pre-token: tokenising in segments of at most this many characters keeps the
 * cost linear. Segments end before a space, where the tokenizer splits anyway; a hard split
 * inside a long run can only add tokens, so the count never under-counts.
 */
const SEGMENT_CHARS = 2000;

function* segments(text: string): Generator<string> {
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + SEGMENT_CHARS);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start) end = space;
    }
    yield text.slice(start, end);
    start = end;
  }
}

/** The text cut to the model's per-input token limit (on a token boundary), with its token count. */
export function fitToTokenLimit(text: string, maxTokens: number = EMBEDDING_LIMITS.maxTokensPerInput): FittedText {
  const prefix = text.length > MAX_CHARS_BEFORE_TOKENISING ? text.slice(0, MAX_CHARS_BEFORE_TOKENISING) : text;
  const kept: string[] = [];
  let tokens = 0;
  for (const segment of segments(prefix)) {
    const encoded = encode(segment, PLAIN_TEXT);
    if (tokens + encoded.length > maxTokens) {
      // Decoding a token prefix can end inside a multi-byte character; drop that replacement char.
      const cut = decode(encoded.slice(0, maxTokens - tokens)).replace(/\uFFFD+$/, '');
      kept.push(cut);
      tokens += encode(cut, PLAIN_TEXT).length;
      return { text: kept.join(''), tokens, truncated: true };
    }
    kept.push(segment);
    tokens += encoded.length;
  }
  return { text: prefix, tokens, truncated: prefix !== text };
}

/** Caps on one embeddings request. */
export interface BatchLimits {
  maxInputs: number;
  maxTokens: number;
}

const EMBEDDING_BATCH_LIMITS: BatchLimits = {
  maxInputs: EMBEDDING_LIMITS.maxInputsPerRequest,
  maxTokens: EMBEDDING_LIMITS.maxTokensPerRequest,
};

/**
 * The next request from `start` on, in order: as many items as fit the embedding limits (and
 * lower caps when given, such as what the provider's window absorbs), at least one, never
 * splitting an item. Taken one request at a time, so that each is sized to the caps of its moment.
 */
export function nextBatch<T extends { tokens: number }>(items: T[], start: number, limits: Partial<BatchLimits> = {}): T[] {
  const maxInputs = Math.min(limits.maxInputs ?? Infinity, EMBEDDING_BATCH_LIMITS.maxInputs);
  const maxTokens = Math.min(limits.maxTokens ?? Infinity, EMBEDDING_BATCH_LIMITS.maxTokens);
  let end = start + 1;
  let tokens = items[start]?.tokens ?? 0;
  while (end < items.length && end - start < maxInputs && tokens + items[end].tokens <= maxTokens) tokens += items[end++].tokens;
  return items.slice(start, end);
}

/** What Pinecone counts against its request limit: ~4 bytes per dimension plus the metadata JSON. */
export function upsertBytes(record: VectorRecord): number {
  return record.values.length * 4 + Buffer.byteLength(JSON.stringify(record.metadata)) + Buffer.byteLength(record.id) + 16;
}

/** Groups vectors into upserts, in order, within a record count and Pinecone's request size. */
export function batchForUpsert<T extends VectorRecord>(
  records: T[],
  maxRecords: number,
  maxBytes: number = UPSERT_LIMITS.maxBytesPerRequest,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = upsertBytes(record);
    if (current.length && (current.length >= maxRecords || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}
