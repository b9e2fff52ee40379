/**
 * An in-repo simulator of the OpenAI embeddings API (`POST /v1/embeddings`) for tests, local runs
 * and benchmarks, reached through the official `openai` client. It keeps the wire format (float or
 * base64 little-endian float32 embeddings, usage), the limits (2048 inputs, 8192 tokens per input,
 * 300,000 tokens per request, cl100k_base), OpenAI's error bodies and the `x-ratelimit-*` headers.
 *
 * Rate limits are two token buckets (requests and tokens) refilled continuously at `rpm`/60 and
 * `tpm`/60 per second. A bucket holds `bucketSeconds` worth of budget (60 by default: one minute's
 * quota may be spent in a burst; a smaller value models OpenAI's note that limits may be enforced
 * over shorter periods). `x-ratelimit-remaining-*` is the bucket's level and `x-ratelimit-reset-*`
 * the time until it is full again.
 *
 * Embeddings are pseudo-random unit vectors seeded by a hash of the input text, so equal texts get
 * equal vectors (whether sent as text or as its tokens), and `dimensions` shortens the model's
 * native vector and renormalises it, as the text-embedding-3 models do.
 *
 * A request goes through: auth.ts (the key), request.ts (the body: models.ts, input.ts, tokens.ts,
 * within limits.ts), rateLimits.ts (the buckets), vectors.ts (the answer); errors.ts words failures.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { readBody } from '../../local/httpServer';
import { InjectedFailures, type Drop } from '../failures';
import { HttpError, send, serve, type Handler } from '../http';
import { countStatus, trackInFlight } from '../stats';
import { authenticate } from './auth';
import { apiError, injectedFailure } from './errors';
import { MAX_BODY_BYTES } from './limits';
import { embeddingModels } from './models';
import { RateLimits } from './rateLimits';
import { parseEmbeddingsRequest } from './request';
import type { OpenAISimulator, OpenAISimulatorOptions, OpenAISimulatorStats } from './types';
import { embeddingData } from './vectors';

export { formatGoDuration } from './goDuration';
export type { InjectedFailureOptions, OpenAISimulator, OpenAISimulatorOptions, OpenAISimulatorStats } from './types';

export async function startOpenAISimulator(options: OpenAISimulatorOptions = {}): Promise<OpenAISimulator> {
  const rpm = options.rpm ?? 10_000;
  const tpm = options.tpm ?? 10_000_000;
  const bucketSeconds = options.bucketSeconds ?? 60;
  const organization = options.organization ?? 'org-simulator';
  if (!(rpm > 0 && tpm > 0 && bucketSeconds > 0)) throw new RangeError('rpm, tpm and bucketSeconds must be positive');
  const limits = { rpm, tpm, bucketSeconds, now: options.now ?? Date.now, organization };
  const models = embeddingModels(options.dimensions ?? 1536);
  const stats = emptyStats();
  const failures = new InjectedFailures<{ status: number; retryAfterMs?: number }>();
  const drops = new InjectedFailures<Drop>();
  let rateLimits = new RateLimits(limits, stats);

  const handle: Handler = async (req, res, closing) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/embeddings') {
      throw apiError(404, `Invalid URL (${req.method} ${path})`);
    }
    const raw = await readBody(req, MAX_BODY_BYTES, () => apiError(413, 'Request body too large.'));
    authenticate(req.headers.authorization, options.apiKey);
    const failure = failures.next();
    if (failure) throw injectedFailure(failure.status, failure.retryAfterMs);
    const drop = drops.next();
    if (drop === 'before') return void req.socket.destroy();

    const { model, encodingFormat, dimensions, inputs, tokens } = parseEmbeddingsRequest(raw, models);
    rateLimits.admit(model, tokens);

    const latency = typeof options.latencyMs === 'function' ? options.latencyMs({ inputs: inputs.length, tokens }) : options.latencyMs;
    if (latency) await delay(latency, undefined, { signal: closing });

    stats.inputs += inputs.length;
    stats.tokens += tokens;
    stats.inputsPerRequest.push(inputs.length);
    stats.tokensPerRequest.push(tokens);
    const data = embeddingData(inputs, dimensions, encodingFormat);
    if (drop === 'after') return void req.socket.destroy();
    respond(res, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, { 'openai-model': model });
  };

  /** Every answer, failures included, carries OpenAI's headers and the buckets' levels. */
  const respond = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    countStatus(stats, status);
    send(res, status, body, {
      'x-request-id': `req_${randomUUID().replaceAll('-', '')}`,
      'openai-version': '2020-10-01',
      'openai-organization': organization,
      ...rateLimits.headers(),
      ...headers,
    });
  };

  const host = options.host ?? '127.0.0.1';
  const server = await serve({ port: options.port, host }, stats, trackInFlight(stats, handle), (error, res) => {
    const failure = error instanceof HttpError ? error : apiError(500, `Simulator error: ${String(error)}`, { type: 'server_error' });
    respond(res, failure.status, failure.body, failure.headers);
  });

  return {
    url: `http://${host}:${server.address.port}/v1`,
    stats,
    failNext(count, status, failureOptions = {}) {
      failures.add(count, { status, retryAfterMs: failureOptions.retryAfterMs });
    },
    dropNext(count, when) {
      drops.add(count, when);
    },
    pendingFaults: () => failures.pending + drops.pending,
    reset() {
      drops.clear();
      Object.assign(stats, emptyStats());
      failures.clear();
      rateLimits = new RateLimits(limits, stats);
    },
    close: () => server.close(),
  };
}

function emptyStats(): OpenAISimulatorStats {
  return {
    requests: 0,
    inputs: 0,
    tokens: 0,
    statusCounts: {},
    rateLimited: { requests: 0, tokens: 0 },
    inputsPerRequest: [],
    tokensPerRequest: [],
    maxInFlight: 0,
  };
}
