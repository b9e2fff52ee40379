import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { splitIntoPieces } from '../../../../shared/domain/pieces';

const tokensOf = (text: string) => encode(text, { disallowedSpecial: new Set() }).length;
const LIMITS = { maxTokens: 500, overlapTokens: 50, maxBytes: 30_000 };

describe('splitIntoPieces', () => {
  it('keeps a text that fits as one piece, as it is', () => {
    expect(splitIntoPieces('Short text. Two sentences.', LIMITS)).toEqual([
      { text: 'Short text. Two sentences.', tokens: tokensOf('Short text. Two sentences.') },
    ]);
  });

  it('cuts at sentence boundaries, each piece within the limit, every sentence whole in some piece, consecutive pieces overlapping', () => {
    const sentences = Array.from({ length: 300 }, (_, i) => `Sentence ${i} describes item ${i * 3} in detail.`);
    const pieces = splitIntoPieces(sentences.join(' '), LIMITS);
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) {
      expect(piece.tokens).toBe(tokensOf(piece.text));
      expect(piece.tokens).toBeLessThanOrEqual(LIMITS.maxTokens);
    }
    expect(sentences.filter((sentence) => !pieces.some((piece) => piece.text.includes(sentence)))).toEqual([]);
    for (let i = 1; i < pieces.length; i += 1) {
      const opening = pieces[i].text.split(/(?<=\.) /)[0];
      expect(pieces[i - 1].text).toContain(opening);
      expect(tokensOf(opening)).toBeLessThanOrEqual(LIMITS.overlapTokens);
    }
  });

  it('cuts a sentence longer than a piece at word boundaries, and a run without spaces on token boundaries', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const wordPieces = splitIntoPieces(words, LIMITS);
    expect(wordPieces.every((piece) => piece.tokens <= LIMITS.maxTokens)).toBe(true);
    expect(wordPieces.flatMap((piece) => piece.text.split(' '))).toEqual(expect.arrayContaining(['w0', 'w999', 'w1999']));
    const blob = 'x'.repeat(50_000);
    const blobPieces = splitIntoPieces(blob, { ...LIMITS, overlapTokens: 0 });
    expect(blobPieces.every((piece) => piece.tokens <= LIMITS.maxTokens)).toBe(true);
    expect(
      blobPieces
        .map((piece) => piece.text)
        .join('')
        .replace(/ /g, ''),
    ).toBe(blob);
  });

  it('keeps each piece within the bytes its metadata can hold, for multi-byte text too', () => {
    const text = Array.from({ length: 400 }, (_, i) => `東京の天気は晴れです、項目${i}。`).join('');
    const pieces = splitIntoPieces(text, { maxTokens: 8191, overlapTokens: 100, maxBytes: 4_000 });
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(Buffer.byteLength(piece.text)).toBeLessThanOrEqual(4_000);
  });
});
