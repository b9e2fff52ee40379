/**
 * Configuration: the chunk byte bound that keeps a chunk's pacing within the embedder's timeout.
 */
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { loadConfig } from '../../../shared/config';
import { ConfigurationError } from '../../../shared/errors';

describe('loadConfig: chunk size', () => {
  it('bounds a chunk by what one consumer may embed in half the embedder timeout: 1M TPM / 5 consumers × 150 s', () => {
    const config = loadConfig({});
    expect(config.embedderConcurrency).toBe(5);
    expect(config.embedderTimeoutSeconds).toBe(300);
    expect(config.chunk).toEqual({ records: 1000, maxBytes: 500_000 });
  });

  it('follows the budget, the concurrency and the timeout, between 64 KiB and 8 MiB', () => {
    expect(loadConfig({ OPENAI_TPM: '5000000' }).chunk.maxBytes).toBe(2_500_000);
    expect(loadConfig({ OPENAI_TPM: '1000000', EMBEDDER_CONCURRENCY: '10', EMBEDDER_TIMEOUT_SECONDS: '120' }).chunk.maxBytes).toBe(100_000);
    expect(loadConfig({ OPENAI_TPM: '100000000' }).chunk.maxBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ OPENAI_TPM: '1000' }).chunk.maxBytes).toBe(64 * 1024);
  });

  it('keeps an explicit CHUNK_MAX_BYTES and refuses a timeout Lambda does not allow', () => {
    expect(loadConfig({ CHUNK_MAX_BYTES: '2048' }).chunk.maxBytes).toBe(2048);
    expect(() => loadConfig({ EMBEDDER_TIMEOUT_SECONDS: '1200' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ EMBEDDER_TIMEOUT_SECONDS: '1200' })).toThrow(/EMBEDDER_TIMEOUT_SECONDS must be a number from 1 to 900/);
  });

  // The bound rests on this: every cl100k token stands for at least one byte of UTF-8.
  it.each([
    ['plain English', 'The quick brown fox jumps over the lazy dog. '.repeat(50)],
    ['digits and punctuation', '3.14159, 2.71828; 1.41421! '.repeat(80)],
    ['CJK', '東京の天気は晴れです。北京今天下雨。서울은 맑음. '.repeat(40)],
    ['emoji and combining marks', '🚀🌍👩‍👩‍👧 é́ ñ̃ '.repeat(60)],
    ['one byte each, never merged', Array.from({ length: 2000 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 94))).join('')],
  ])('has no more tokens than bytes: %s', (_name, text) => {
    expect(countTokens(text)).toBeLessThanOrEqual(Buffer.byteLength(text));
  });

  it('splits long texts by default, and names a bad long-text setting', () => {
    expect(loadConfig({}).longText).toEqual({ mode: 'split', maxTokensPerVector: 8191, overlapTokens: 200 });
    expect(loadConfig({ LONG_TEXT: 'truncate', MAX_TOKENS_PER_VECTOR: '1000', PIECE_OVERLAP_TOKENS: '0' }).longText).toEqual({
      mode: 'truncate',
      maxTokensPerVector: 1000,
      overlapTokens: 0,
    });
    expect(() => loadConfig({ MAX_TOKENS_PER_VECTOR: '0' })).toThrow(/MAX_TOKENS_PER_VECTOR must be a number from 1 to 8191/);
    expect(() => loadConfig({ MAX_TOKENS_PER_VECTOR: '9000' })).toThrow(/MAX_TOKENS_PER_VECTOR/);
    expect(() => loadConfig({ MAX_TOKENS_PER_VECTOR: '300', PIECE_OVERLAP_TOKENS: '300' })).toThrow(
      /PIECE_OVERLAP_TOKENS \(300\) must be smaller than MAX_TOKENS_PER_VECTOR \(300\)/,
    );
    expect(() => loadConfig({ LONG_TEXT: 'chop' })).toThrow(/LONG_TEXT must be one of split, truncate/);
  });

  it('reaches back a day before the watermark by default, and names a bad catch-up setting', () => {
    expect(loadConfig({}).catchup).toEqual({ overlapDays: 1 });
    expect(loadConfig({ CATCHUP_OVERLAP_DAYS: '0', CATCHUP_INITIAL_START_DATE: '2024-01-31' }).catchup).toEqual({
      overlapDays: 0,
      initialStartDate: '2024-01-31',
    });
    expect(() => loadConfig({ CATCHUP_OVERLAP_DAYS: '-1' })).toThrow(/CATCHUP_OVERLAP_DAYS must be a number from 0 to 3650/);
    expect(() => loadConfig({ CATCHUP_OVERLAP_DAYS: '1.5' })).toThrow(/CATCHUP_OVERLAP_DAYS must be a whole number/);
    expect(() => loadConfig({ CATCHUP_INITIAL_START_DATE: '2024-02-30' })).toThrow(/CATCHUP_INITIAL_START_DATE must be a real date/);
  });
});

describe('loadConfig: the ingest trigger', () => {
  it('takes where uploads start tasks from INGEST_PREFIX and INGEST_SUFFIX, which go together', () => {
    expect(loadConfig({}).ingest).toBeUndefined();
    expect(loadConfig({ INGEST_PREFIX: 'incoming/', INGEST_SUFFIX: '.csv' }).ingest).toEqual({ prefix: 'incoming/', suffix: '.csv' });
    expect(() => loadConfig({ INGEST_PREFIX: 'incoming/' })).toThrow(/INGEST_PREFIX and INGEST_SUFFIX go together/);
  });
});
