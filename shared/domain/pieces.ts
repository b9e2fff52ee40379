/**
 * Long texts as several vectors: a record's text over one vector's token limit becomes pieces,
 * each within that limit and within the bytes its metadata can hold whole, cut at sentence
 * boundaries, then at word boundaries, then (a run without spaces) at a token boundary, each
 * piece beginning with up to `overlapTokens` of the previous one so that nothing said across a
 * cut is lost to search. Pure: no I/O.
 */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { fitToTokenLimit } from './batching';

// Strings such as "<|endoftext|>" occur in real data: count them as the plain text they are.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

export interface PieceLimits {
  maxTokens: number;
  overlapTokens: number;
  /** UTF-8 bytes a piece's text may take (what the vector's metadata can carry). */
  maxBytes: number;
}

export interface Piece {
  text: string;
  tokens: number;
}

interface Unit {
  text: string;
  tokens: number;
  bytes: number;
}

const SENTENCE_END = /(?<=[.!?…。！？])\s+/u;

function countTokens(text: string): number {
  return encode(text, PLAIN_TEXT).length;
}

function unit(text: string): Unit {
  return { text, tokens: countTokens(text), bytes: Buffer.byteLength(text) + 1 };
}

/** Sentences, or the words of a sentence too long for a piece, or token-sized runs of a word too long. */
function units(text: string, limits: PieceLimits): Unit[] {
  const out: Unit[] = [];
  const fits = (candidate: Unit) => candidate.tokens <= limits.maxTokens && candidate.bytes <= limits.maxBytes;
  for (const sentence of text.split(SENTENCE_END)) {
    const whole = unit(sentence);
    if (fits(whole)) {
      out.push(whole);
      continue;
    }
    for (const word of sentence.split(' ')) {
      let rest = word;
      while (rest) {
        const candidate = unit(rest);
        if (fits(candidate)) {
          out.push(candidate);
          break;
        }
        // A run without spaces longer than a piece: cut it on a token boundary, within the bytes.
        let head = fitToTokenLimit(rest, limits.maxTokens).text || rest.slice(0, 1);
        while (head.length > 1 && Buffer.byteLength(head) + 1 > limits.maxBytes) head = head.slice(0, Math.floor(head.length * 0.9));
        out.push(unit(head));
        rest = rest.slice(head.length);
      }
    }
  }
  return out;
}

/** The text whole when it fits one vector, else its pieces in order. */
export function splitIntoPieces(text: string, limits: PieceLimits): Piece[] {
  const whole = unit(text);
  if (whole.tokens <= limits.maxTokens && whole.bytes <= limits.maxBytes) return [{ text, tokens: whole.tokens }];
  const all = units(text, limits);
  const pieces: Piece[] = [];
  let start = 0;
  while (start < all.length) {
    let end = start;
    let tokens = 0;
    let bytes = 0;
    // Joining with spaces changes a token or two at the seams: pack by the units' own counts, then check the joined text.
    while (end < all.length && tokens + all[end].tokens <= limits.maxTokens && bytes + all[end].bytes <= limits.maxBytes) {
      tokens += all[end].tokens;
      bytes += all[end].bytes;
      end += 1;
    }
    if (end === start) end = start + 1;
    let piece = join(all, start, end);
    while (end - start > 1 && (piece.tokens > limits.maxTokens || Buffer.byteLength(piece.text) > limits.maxBytes)) {
      end -= 1;
      piece = join(all, start, end);
    }
    pieces.push(piece);
    if (end >= all.length) break;
    start = overlapStart(all, start, end, limits.overlapTokens);
  }
  return pieces;
}

function join(all: Unit[], start: number, end: number): Piece {
  const text = all
    .slice(start, end)
    .map((part) => part.text)
    .join(' ');
  return { text, tokens: countTokens(text) };
}

/** Where the next piece begins: as far back into this one as whole units within the overlap go, but always past its start. */
function overlapStart(all: Unit[], start: number, end: number, overlapTokens: number): number {
  let next = end;
  let tokens = 0;
  while (next - 1 > start && tokens + all[next - 1].tokens <= overlapTokens) {
    next -= 1;
    tokens += all[next].tokens;
  }
  return next;
}
