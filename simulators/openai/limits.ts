/** The embeddings endpoint's limits, as OpenAI documents and enforces them. */

/** Inputs per request. */
export const MAX_INPUTS = 2048;
/** Tokens per input (the models' context length). */
export const MAX_INPUT_TOKENS = 8192;
/** Tokens per request, summed over its inputs. */
export const MAX_REQUEST_TOKENS = 300_000;
/** Far above what 2048 inputs of 8192 tokens need, so only a runaway client meets it. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
