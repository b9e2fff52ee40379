/** The accepted shapes of `input`: a string, a list of strings, a list of token ids, or a list of such lists. */
import { vocabularySize } from 'gpt-tokenizer/encoding/cl100k_base';
import { apiError } from './errors';
import { MAX_INPUTS } from './limits';

/** An input as text or as cl100k_base token ids. */
export type Input = string | number[];

const INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

/** Normalises every accepted shape of `input` to strings or token arrays, rejecting what the API rejects. */
export function inputTexts(input: unknown): Input[] {
  if (typeof input === 'string') {
    if (input === '') throw apiError(400, INVALID_INPUT);
    return [input];
  }
  if (!Array.isArray(input) || input.length === 0) throw apiError(400, INVALID_INPUT);
  if (input.length > MAX_INPUTS) {
    throw apiError(
      400,
      `Invalid 'input': array too long. Expected an array with maximum length ${MAX_INPUTS}, but got an array with length ${input.length} instead.`,
      { param: 'input', code: 'array_above_max_length' },
    );
  }
  if (input.every(isTokenId)) return [input as number[]];
  return input.map((item: unknown) => {
    if (typeof item === 'string' && item !== '') return item;
    if (Array.isArray(item) && item.length > 0 && item.every(isTokenId)) return item as number[];
    throw apiError(400, INVALID_INPUT);
  });
}

function isTokenId(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < vocabularySize;
}
