/**
 * The OpenAI embeddings simulator, driven through the official `openai` client (and raw fetch where
 * the client would hide what is on the wire).
 */
import { countTokens, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { APIError, OpenAI } from 'openai';
import { formatGoDuration, startOpenAISimulator, type OpenAISimulator } from '../../simulators/openai';

const KEY = 'sk-simulator-test-key';
const MODEL = 'text-embedding-3-small';
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** `count` tokens exactly: "a" then " a" repeated (each one cl100k token). */
const textOfTokens = (count: number): string => `a${' a'.repeat(count - 1)}`;

const norm = (vector: number[]): number => Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));

/** Calls and returns the APIError the client throws, failing the test if it does not throw one. */
async function apiErrorOf(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('OpenAI embeddings simulator', () => {
  let sim: OpenAISimulator;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startOpenAISimulator({ apiKey: KEY });
    client = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 0 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('wire format', () => {
    it('answers base64 by default, which the client decodes into the same floats as encoding_format float', async () => {
      const bodies: string[] = [];
      const spying = new OpenAI({
        apiKey: KEY,
        baseURL: sim.url,
        maxRetries: 0,
        fetch: async (url, init) => {
          bodies.push(String(init?.body));
          return fetch(url, init);
        },
      });
      const decoded = await spying.embeddings.create({ model: MODEL, input: ['first text', 'second text'] });
      const floats = await client.embeddings.create({ model: MODEL, input: ['first text', 'second text'], encoding_format: 'float' });

      expect(JSON.parse(bodies[0]).encoding_format).toBe('base64');
      expect(decoded.object).toBe('list');
      expect(decoded.model).toBe(MODEL);
      expect(decoded.data.map((item) => [item.object, item.index])).toEqual([
        ['embedding', 0],
        ['embedding', 1],
      ]);
      expect(decoded.data[0].embedding).toHaveLength(1536);
      expect(decoded.data.map((item) => item.embedding)).toEqual(floats.data.map((item) => item.embedding));
      expect(decoded.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    });

    it('puts little-endian float32 base64 on the wire', async () => {
      const response = await fetch(`${sim.url}/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'hello', encoding_format: 'base64' }),
      });
      const body = (await response.json()) as { data: Array<{ embedding: string }> };
      const bytes = Buffer.from(body.data[0].embedding, 'base64');
      const fromWire = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
      const viaClient = await client.embeddings.create({ model: MODEL, input: 'hello' });

      expect(typeof body.data[0].embedding).toBe('string');
      expect(fromWire).toEqual(viaClient.data[0].embedding);
    });

    it('gives deterministic unit vectors per text', async () => {
      const first = await client.embeddings.create({ model: MODEL, input: ['same', 'other'] });
      const second = await client.embeddings.create({ model: MODEL, input: ['same'] });

      expect(second.data[0].embedding).toEqual(first.data[0].embedding);
      expect(first.data[1].embedding).not.toEqual(first.data[0].embedding);
      for (const item of first.data) expect(norm(item.embedding)).toBeCloseTo(1, 5);
    });

    it('honours dimensions by shortening the native vector and renormalising it', async () => {
      const native = await client.embeddings.create({ model: MODEL, input: 'shorten me' });
      const short = await client.embeddings.create({ model: MODEL, input: 'shorten me', dimensions: 256 });

      const vector = short.data[0].embedding;
      expect(vector).toHaveLength(256);
      expect(norm(vector)).toBeCloseTo(1, 5);
      const prefix = native.data[0].embedding.slice(0, 256);
      const scale = norm(prefix);
      vector.forEach((value, i) => expect(value).toBeCloseTo(prefix[i] / scale, 5));
    });

    it('accepts token arrays and embeds them as the text they encode', async () => {
      const tokens = encode('token input');
      const fromTokens = await client.embeddings.create({ model: MODEL, input: [tokens] });
      const fromText = await client.embeddings.create({ model: MODEL, input: 'token input' });

      expect(fromTokens.data[0].embedding).toEqual(fromText.data[0].embedding);
      expect(fromTokens.usage.total_tokens).toBe(tokens.length);
    });

    it('counts special-token strings such as <|endoftext|> as plain text', async () => {
      const text = 'before <|endoftext|> after';
      const response = await client.embeddings.create({ model: MODEL, input: text });

      expect(response.usage.total_tokens).toBe(countTokens(text, PLAIN_TEXT));
      expect(response.usage.total_tokens).toBeGreaterThan(3);
    });

    it('sends an x-request-id', async () => {
      const { response } = await client.embeddings.create({ model: MODEL, input: 'id' }).withResponse();
      expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    });
  });

  describe('limits and errors', () => {
    const invalidInput = {
      message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      type: 'invalid_request_error',
      param: null,
      code: null,
    };

    it('rejects an empty string input with 400', async () => {
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: '' }));
      expect(error.status).toBe(400);
      expect(error.error).toEqual(invalidInput);
    });

    it('rejects an empty string inside an array with 400', async () => {
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: ['fine', ''] }));
      expect(error.status).toBe(400);
      expect(error.error).toEqual(invalidInput);
    });

    it('accepts 2048 inputs and rejects 2049', async () => {
      const ok = await client.embeddings.create({ model: MODEL, input: Array.from({ length: 2048 }, (_, i) => `row ${i}`), dimensions: 8 });
      expect(ok.data).toHaveLength(2048);

      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: Array.from({ length: 2049 }, (_, i) => `row ${i}`) }));
      expect(error.status).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.code).toBe('array_above_max_length');
      expect(error.message).toContain('maximum length 2048');
    });

    it('accepts an input of 8192 tokens and rejects one of 8193', async () => {
      expect(countTokens(textOfTokens(8193), PLAIN_TEXT)).toBe(8193);
      const ok = await client.embeddings.create({ model: MODEL, input: textOfTokens(8192) });
      expect(ok.usage.total_tokens).toBe(8192);

      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: ['short', textOfTokens(8193)] }));
      expect(error.status).toBe(400);
      expect(error.error).toMatchObject({
        message: "Invalid 'input': maximum context length is 8192 tokens.",
        type: 'invalid_request_error',
      });
    });

    it('rejects more than 300,000 tokens summed over one request', async () => {
      const input = Array.from({ length: 37 }, () => textOfTokens(8192)); // 303,104 tokens
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input }));

      expect(error.status).toBe(400);
      expect(error.code).toBe('max_tokens_per_request');
      expect(error.message).toContain('Requested 303104 tokens, max 300000 tokens per request');
      expect(sim.stats.tokens).toBe(0);
    });

    it('answers 404 model_not_found for an unknown model', async () => {
      const error = await apiErrorOf(client.embeddings.create({ model: 'text-embedding-9', input: 'x' }));
      expect(error.status).toBe(404);
      expect(error.code).toBe('model_not_found');
      expect(error.type).toBe('invalid_request_error');
    });

    it('rejects dimensions for a model that cannot shorten, and above the native size', async () => {
      const ada = await apiErrorOf(client.embeddings.create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 256 }));
      expect(ada.status).toBe(400);
      const tooMany = await apiErrorOf(client.embeddings.create({ model: MODEL, input: 'x', dimensions: 1537 }));
      expect(tooMany.status).toBe(400);
      expect(tooMany.code).toBe('integer_above_max_value');
    });

    it('answers 401 invalid_api_key for a wrong key and for none', async () => {
      const wrong = new OpenAI({ apiKey: 'sk-wrong-key-0000', baseURL: sim.url, maxRetries: 0 });
      const error = await apiErrorOf(wrong.embeddings.create({ model: MODEL, input: 'x' }));
      expect(error.status).toBe(401);
      expect(error.error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
      expect(error.message).not.toContain('sk-wrong-key-0000');

      const response = await fetch(`${sim.url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'x' }),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    });
  });

  describe('fault injection and the client retry', () => {
    it('lets the client retry injected 429s and succeed', async () => {
      const retrying = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 2 });
      sim.failNext(2, 429, { retryAfterMs: 5 });

      const response = await retrying.embeddings.create({ model: MODEL, input: 'retried' });

      expect(response.data).toHaveLength(1);
      expect(sim.stats.statusCounts).toEqual({ 429: 2, 200: 1 });
    });

    it('gives up after maxRetries, answering the last 429 with its body and retry-after headers', async () => {
      const retrying = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 1 });
      sim.failNext(3, 429, { retryAfterMs: 5 });

      const error = await apiErrorOf(retrying.embeddings.create({ model: MODEL, input: 'throttled' }));

      expect(error.status).toBe(429);
      expect(error.error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
      expect(error.headers?.get('retry-after-ms')).toBe('5');
      expect(error.headers?.get('retry-after')).toBe('1');
      expect(sim.stats.statusCounts).toEqual({ 429: 2 });
    });

    it('lets the client retry a 503 and succeed', async () => {
      const retrying = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 1 });
      sim.failNext(1, 503, { retryAfterMs: 5 });

      await retrying.embeddings.create({ model: MODEL, input: 'retried' });

      expect(sim.stats.statusCounts).toEqual({ 503: 1, 200: 1 });
    });

    it("answers injected 500s with OpenAI's server_error body", async () => {
      sim.failNext(1, 500);
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: 'x' }));
      expect(error.status).toBe(500);
      expect(error.type).toBe('server_error');
    });

    it('counts requests, inputs and tokens per request', async () => {
      await client.embeddings.create({ model: MODEL, input: ['one', 'two', 'three'] });
      await client.embeddings.create({ model: MODEL, input: 'four' });

      expect(sim.stats).toMatchObject({ requests: 2, inputs: 4, tokens: 4, inputsPerRequest: [3, 1], tokensPerRequest: [3, 1] });
    });
  });
});

describe('OpenAI simulator rate limits (fixed clock)', () => {
  let time: number;
  const now = (): number => time;

  beforeEach(() => {
    time = 1_700_000_000_000;
  });

  async function withSimulator(
    options: { rpm: number; tpm: number },
    run: (client: OpenAI, sim: OpenAISimulator) => Promise<void>,
  ): Promise<void> {
    const sim = await startOpenAISimulator({ ...options, now });
    try {
      await run(new OpenAI({ apiKey: 'any', baseURL: sim.url, maxRetries: 0 }), sim);
    } finally {
      await sim.close();
    }
  }

  it('puts exact x-ratelimit-* headers on every response', async () => {
    await withSimulator({ rpm: 100, tpm: 10_000 }, async (client) => {
      const { response } = await client.embeddings.create({ model: MODEL, input: 'one two' }).withResponse();
      const headers = Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-ratelimit-')));

      // One request takes 600 ms to refill at 100 RPM; two tokens take 12 ms at 10,000 TPM.
      expect(headers).toEqual({
        'x-ratelimit-limit-requests': '100',
        'x-ratelimit-limit-tokens': '10000',
        'x-ratelimit-remaining-requests': '99',
        'x-ratelimit-remaining-tokens': '9998',
        'x-ratelimit-reset-requests': '600ms',
        'x-ratelimit-reset-tokens': '12ms',
      });

      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: '' }));
      expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('99');
    });
  });

  it('answers 429 type requests with retry-after once the request budget is spent', async () => {
    await withSimulator({ rpm: 1, tpm: 10_000 }, async (client, sim) => {
      await client.embeddings.create({ model: MODEL, input: 'first' });
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: 'second' }));

      expect(error.status).toBe(429);
      expect(error.error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
      expect(error.message).toMatch(
        /Rate limit reached for text-embedding-3-small in organization \S+ on requests per min \(RPM\): Limit 1, Used 1, Requested 1\. Please try again in 1m0s\./,
      );
      expect(error.headers?.get('retry-after-ms')).toBe('60000');
      expect(error.headers?.get('retry-after')).toBe('60');
      expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(error.headers?.get('x-ratelimit-reset-requests')).toBe('1m0s');
      expect(sim.stats.rateLimited).toEqual({ requests: 1, tokens: 0 });

      time += 60_000;
      await client.embeddings.create({ model: MODEL, input: 'after a minute' });
    });
  });

  it('answers 429 type tokens when the token budget cannot cover the request', async () => {
    await withSimulator({ rpm: 100, tpm: 100 }, async (client, sim) => {
      await client.embeddings.create({ model: MODEL, input: textOfTokens(60) });
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: textOfTokens(60) }));

      // 20 tokens short at 100 TPM: 12 s.
      expect(error.status).toBe(429);
      expect(error.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
      expect(error.message).toContain('on tokens per min (TPM): Limit 100, Used 60, Requested 60. Please try again in 12s.');
      expect(error.headers?.get('retry-after-ms')).toBe('12000');
      expect(sim.stats.rateLimited).toEqual({ requests: 0, tokens: 1 });
    });
  });

  it('answers 429 "Request too large" when one request exceeds the whole token budget', async () => {
    await withSimulator({ rpm: 100, tpm: 100 }, async (client) => {
      const error = await apiErrorOf(client.embeddings.create({ model: MODEL, input: textOfTokens(101) }));
      expect(error.status).toBe(429);
      expect(error.message).toContain('Request too large for text-embedding-3-small');
      expect(error.type).toBe('tokens');
    });
  });
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [120, '120ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ])('formats %d ms as %s', (ms, expected) => {
    expect(formatGoDuration(ms)).toBe(expected);
  });
});
