/**
 * The OpenAI embedder adapter against the embeddings simulator, through the official client.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAIEmbedder } from '../../../../../shared/adapters/openai/openaiEmbedder';
import { ProviderError, ProviderRejectedError, ProviderUnavailableError } from '../../../../../shared/errors';
import { startOpenAISimulator, type OpenAISimulator } from '../../../../../simulators/openai';
import { recordingLogger } from '../../../../helpers/fakes';

const KEY = 'sk-adapter-test-key';

async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('createOpenAIEmbedder', () => {
  let sim: OpenAISimulator;

  beforeAll(async () => {
    sim = await startOpenAISimulator({ apiKey: KEY });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('embeds a batch in one request, one unit vector per input in input order, with the billed tokens', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });

    const forward = await embedder.embed(['alpha', 'beta gamma', 'delta']);
    const backward = await embedder.embed(['delta', 'beta gamma', 'alpha']);

    expect(embedder.model).toBe('text-embedding-3-small');
    expect(embedder.dimensions).toBe(1536);
    expect(forward.vectors).toHaveLength(3);
    expect(forward.vectors[0]).toHaveLength(1536);
    expect(backward.vectors).toEqual([...forward.vectors].reverse());
    expect(forward.tokens).toBe(4);
    expect(sim.stats.inputsPerRequest).toEqual([3, 3]);
  });

  it('decodes base64 into float32 vectors equal to what the float format answers', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });
    const { vectors } = await embedder.embed(['alpha', 'beta gamma']);
    const response = await fetch(`${sim.url}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: ['alpha', 'beta gamma'], encoding_format: 'float' }),
    });
    const floats = ((await response.json()) as { data: { embedding: number[] }[] }).data.map((item) => item.embedding);

    expect(vectors.every((vector) => vector instanceof Float32Array)).toBe(true);
    expect(vectors.map((vector) => Array.from(vector))).toEqual(floats);
    expect(sim.stats.requests).toBe(2);
  });

  it('asks for the configured dimensions', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url, dimensions: 256 });
    const { vectors } = await embedder.embed(['short']);
    expect(vectors[0]).toHaveLength(256);
  });

  it('embeds special-token strings as plain text', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });
    const { vectors, tokens } = await embedder.embed(['a <|endoftext|> b']);
    expect(vectors).toHaveLength(1);
    expect(tokens).toBeGreaterThan(2);
  });

  it('sends no request for no inputs', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });
    expect(await embedder.embed([])).toEqual({ vectors: [], tokens: 0 });
    expect(sim.stats.requests).toBe(0);
  });

  it("lets the client's retry ride out 429s", async () => {
    sim.failNext(3, 429, { retryAfterMs: 1 });
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });

    const { vectors } = await embedder.embed(['throttled']);

    expect(vectors).toHaveLength(1);
    expect(sim.stats.statusCounts).toEqual({ 429: 3, 200: 1 });
  });

  it('returns the rate-limit headers and counts the 429s the client rode out, for the pacer', async () => {
    const budget = await startOpenAISimulator({ apiKey: KEY, rpm: 600, tpm: 120_000 });
    try {
      budget.failNext(2, 429, { retryAfterMs: 1 });
      const { rateLimit } = await createOpenAIEmbedder({ apiKey: KEY, baseURL: budget.url }).embed(['one input', 'two inputs']);
      expect(rateLimit).toMatchObject({ limitRequests: 600, limitTokens: 120_000, rateLimited: { count: 2, final: false } });
      expect(rateLimit?.remainingRequests).toBeLessThan(600);
      expect(rateLimit?.remainingTokens).toBeLessThan(120_000);
      expect(rateLimit?.resetTokensMs).toBeGreaterThan(0);
    } finally {
      await budget.close();
    }
  });

  it('reports throttling that outlasts maxRetries as a retryable error with the wait asked for', async () => {
    sim.failNext(5, 429, { retryAfterMs: 7 });
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url, maxRetries: 1 });

    const error = await providerErrorOf(embedder.embed(['throttled']));

    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', retryable: true, retryAfterMs: 7 });
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.requestId).toMatch(/^req_/);
    expect(error.rateLimit?.rateLimited).toMatchObject({ count: 2, final: true });
    expect(sim.stats.statusCounts).toEqual({ 429: 2 });
  });

  it('reports a bad input as a non-retryable 400, without retrying it', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url });

    const error = await providerErrorOf(embedder.embed(['fine', '']));

    expect(error).toMatchObject({ provider: 'openai', status: 400, type: 'invalid_request_error', retryable: false });
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error.message).toContain("'$.input' is invalid");
    expect(sim.stats.statusCounts).toEqual({ 400: 1 });
  });

  it('reports a wrong key as a non-retryable 401', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: 'sk-wrong-key-1111', baseURL: sim.url });
    const error = await providerErrorOf(embedder.embed(['x']));
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', retryable: false });
    expect(error).not.toBeInstanceOf(ProviderRejectedError);
  });

  it('reports a server error that outlasts maxRetries as retryable', async () => {
    sim.failNext(2, 500, { retryAfterMs: 1 });
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url, maxRetries: 1 });
    const error = await providerErrorOf(embedder.embed(['x']));
    expect(error).toMatchObject({ status: 500, type: 'server_error', retryable: true });
  });

  it('writes one WARN line per attempt the client sends again, with the wait asked for, and none for the last', async () => {
    sim.failNext(3, 429, { retryAfterMs: 7 });
    const logger = recordingLogger();
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url, maxRetries: 2, logger });

    await providerErrorOf(embedder.embed(['throttled']));

    expect(logger.entries).toEqual(
      [1, 2].map((attempt) => ({
        level: 'warn',
        message: 'OpenAI embeddings failed; retrying',
        extra: [{ attempt, attempts: 3, retry_in_ms: 7, reason: 'HTTP 429' }],
      })),
    );
  });

  it('writes a WARN line for a server error and for no answer, both retried by the client', async () => {
    const logger = recordingLogger();
    sim.failNext(1, 503, { retryAfterMs: 1 });
    await createOpenAIEmbedder({ apiKey: KEY, baseURL: sim.url, maxRetries: 1, logger }).embed(['x']);
    const closed = await startOpenAISimulator();
    await closed.close();
    await providerErrorOf(createOpenAIEmbedder({ apiKey: KEY, baseURL: closed.url, maxRetries: 1, logger }).embed(['x']));

    expect(logger.entries.map((entry) => entry.extra[0])).toEqual([
      { attempt: 1, attempts: 2, retry_in_ms: 1, reason: 'HTTP 503' },
      { attempt: 1, attempts: 2, reason: expect.stringMatching(/^no answer: .*ECONNREFUSED/) },
    ]);
  });

  it('reports an unreachable server as a retryable connection error', async () => {
    const closed = await startOpenAISimulator();
    await closed.close();
    const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: closed.url, maxRetries: 0 });

    const error = await providerErrorOf(embedder.embed(['x']));

    expect(error).toMatchObject({ status: undefined, code: 'connection_error', retryable: true });
  });

  it('gives up on a request over timeoutMs with a retryable error', async () => {
    const slow = await startOpenAISimulator({ latencyMs: 5000 });
    try {
      const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: slow.url, maxRetries: 0, timeoutMs: 50 });
      const error = await providerErrorOf(embedder.embed(['x']));
      // Plain Node reports `timeout`; under Jest the abort error comes from another realm, and the
      // client, no longer recognising it as an AbortError, reports a connection error instead.
      expect(['timeout', 'connection_error']).toContain(error.code);
      expect(error.retryable).toBe(true);
      expect(slow.stats.requests).toBe(1);
      expect(slow.stats.statusCounts).toEqual({});
    } finally {
      await slow.close();
    }
  });

  describe('against a compatible server that answers out of order, in numbers although base64 was asked', () => {
    let url: string;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const data = [
          { object: 'embedding', index: 1, embedding: [0, 1] },
          { object: 'embedding', index: 0, embedding: [1, 0] },
        ];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data, model: 'compatible-model', usage: { prompt_tokens: 2, total_tokens: 2 } }));
      });
    });

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('puts the vectors back in input order by their index', async () => {
      const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: url, model: 'compatible-model', dimensions: 2 });
      const { vectors, tokens } = await embedder.embed(['first', 'second']);
      expect(vectors).toEqual([Float32Array.of(1, 0), Float32Array.of(0, 1)]);
      expect(tokens).toBe(2);
    });

    it('refuses vectors of another size than configured', async () => {
      const embedder = createOpenAIEmbedder({ apiKey: KEY, baseURL: url, model: 'compatible-model', dimensions: 3 });
      const error = await providerErrorOf(embedder.embed(['first', 'second']));
      expect(error).toMatchObject({ code: 'unexpected_response', retryable: false });
    });
  });
});
