/** What a request's inputs cost in cl100k_base tokens, held to the per-input and per-request limits. */
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { apiError } from './errors';
import type { Input } from './input';
import { MAX_INPUT_TOKENS, MAX_REQUEST_TOKENS } from './limits';

/** Strings such as `<|endoftext|>` are plain text to the API; the tokenizer's default throws on them. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** The tokens of all the inputs together. */
export function requestTokens(inputs: Input[]): number {
  const counts = inputs.map((input) => (typeof input === 'string' ? countTokens(input, PLAIN_TEXT) : input.length));
  if (counts.some((count) => count > MAX_INPUT_TOKENS)) {
    throw apiError(400, `Invalid 'input': maximum context length is ${MAX_INPUT_TOKENS} tokens.`, { param: 'input' });
  }
  const tokens = counts.reduce((sum, count) => sum + count, 0);
  if (tokens > MAX_REQUEST_TOKENS) {
    throw apiError(400, `Requested ${tokens} tokens, max ${MAX_REQUEST_TOKENS} tokens per request`, {
      type: 'max_tokens_per_request',
      code: 'max_tokens_per_request',
    });
  }
  return tokens;
}
