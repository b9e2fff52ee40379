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
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { countTokens, decode, vocabularySize } from 'gpt-tokenizer/encoding/cl100k_base';
import { closeServer, listen, readBody } from '../local/httpServer';

export interface OpenAISimulatorOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; otherwise any key (or none) is accepted. */
  apiKey?: string;
  /** Requests per minute (default 10,000, the tier-5 budget of text-embedding-3-small). */
  rpm?: number;
  /** Tokens per minute (default 10,000,000). */
  tpm?: number;
  /** Seconds of budget a bucket holds (default 60). */
  bucketSeconds?: number;
  /** Delay before each answer, fixed or per request. */
  latencyMs?: number | ((request: { inputs: number; tokens: number }) => number);
  /** Native dimensions of text-embedding-3-small (default 1536). */
  dimensions?: number;
  /** Shown in rate-limit messages, like OpenAI's organisation id. */
  organization?: string;
  /** Clock in milliseconds; tests pass a fixed one to make the rate-limit headers exact. */
  now?: () => number;
  port?: number;
  host?: string;
}

export interface OpenAISimulatorStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Inputs embedded by successful requests. */
  inputs: number;
  /** Tokens billed by successful requests. */
  tokens: number;
  /** Responses by HTTP status. */
  statusCounts: Record<number, number>;
  /** 429s from the buckets (injected failures are not counted here). */
  rateLimited: { requests: number; tokens: number };
  /** Per successful request, in arrival order. */
  inputsPerRequest: number[];
  tokensPerRequest: number[];
  /** Most requests in progress at once. */
  maxInFlight: number;
}

export interface InjectedFailureOptions {
  /** Sent as `retry-after-ms` (and `retry-after`, rounded up to seconds) with the failure. */
  retryAfterMs?: number;
}

export interface OpenAISimulator {
  /** Base URL including `/v1`, as the client's `baseURL` expects. */
  url: string;
  stats: OpenAISimulatorStats;
  /** Answers the next `count` requests (after authentication) with `status` and OpenAI's body for it. */
  failNext(count: number, status: number, options?: InjectedFailureOptions): void;
  /** Clears stats, pending failures and refills both buckets. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_INPUTS = 2048;
const MAX_INPUT_TOKENS = 8192;
const MAX_REQUEST_TOKENS = 300_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";
/** Strings such as `<|endoftext|>` are plain text to the API; the tokenizer's default throws on them. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

interface ModelSpec {
  nativeDimensions: number;
  /** Only the text-embedding-3 models accept `dimensions`. */
  shortenable: boolean;
}

interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

function apiError(status: number, message: string, fields: Partial<ApiErrorBody['error']> = {}, headers?: Record<string, string>): HttpError {
  return new HttpError(status, { error: { message, type: 'invalid_request_error', param: null, code: null, ...fields } }, headers);
}

export async function startOpenAISimulator(options: OpenAISimulatorOptions = {}): Promise<OpenAISimulator> {
  const rpm = options.rpm ?? 10_000;
  const tpm = options.tpm ?? 10_000_000;
  const bucketSeconds = options.bucketSeconds ?? 60;
  const now = options.now ?? Date.now;
  const organization = options.organization ?? 'org-simulator';
  if (!(rpm > 0 && tpm > 0 && bucketSeconds > 0)) throw new RangeError('rpm, tpm and bucketSeconds must be positive');
  const models = new Map<string, ModelSpec>([
    ['text-embedding-3-small', { nativeDimensions: options.dimensions ?? 1536, shortenable: true }],
    ['text-embedding-3-large', { nativeDimensions: 3072, shortenable: true }],
    ['text-embedding-ada-002', { nativeDimensions: 1536, shortenable: false }],
  ]);

  let requestBucket = new TokenBucket(rpm, bucketSeconds, now);
  let tokenBucket = new TokenBucket(tpm, bucketSeconds, now);
  let failures: Array<{ status: number; retryAfterMs?: number }> = [];
  let inFlight = 0;
  // Cuts latency waits short on close(), so a slow simulated answer cannot outlive its test.
  const closing = new AbortController();
  const stats = emptyStats();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/embeddings') {
      throw apiError(404, `Invalid URL (${req.method} ${path})`);
    }
    const raw = await readBody(req, MAX_BODY_BYTES, () => apiError(413, 'Request body too large.'));
    authenticate(req.headers.authorization);
    const failure = failures.shift();
    if (failure) throw injectedFailure(failure.status, failure.retryAfterMs);

    const body = parseJson(raw);
    const model = typeof body.model === 'string' ? body.model : undefined;
    if (!model) throw apiError(400, 'you must provide a model parameter');
    const spec = models.get(model);
    if (!spec) {
      throw apiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, { code: 'model_not_found' });
    }
    const encodingFormat = body.encoding_format ?? 'float';
    if (encodingFormat !== 'float' && encodingFormat !== 'base64') {
      throw apiError(400, `Invalid value for 'encoding_format' = ${String(encodingFormat)}. Supported values are: 'float' and 'base64'.`, {
        param: 'encoding_format',
      });
    }
    const dimensions = resolveDimensions(body.dimensions, spec);
    const texts = inputTexts(body.input);
    const counts = texts.map((text) => (typeof text === 'string' ? countTokens(text, PLAIN_TEXT) : text.length));
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
    admit(model, tokens);

    const latency = typeof options.latencyMs === 'function' ? options.latencyMs({ inputs: texts.length, tokens }) : options.latencyMs;
    if (latency) await delay(latency, undefined, { signal: closing.signal });

    stats.inputs += texts.length;
    stats.tokens += tokens;
    stats.inputsPerRequest.push(texts.length);
    stats.tokensPerRequest.push(tokens);
    const data = texts.map((text, index) => {
      const vector = embed(typeof text === 'string' ? text : decode(text), dimensions);
      const embedding = encodingFormat === 'base64' ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector);
      return { object: 'embedding', index, embedding };
    });
    send(res, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, { 'openai-model': model });
  };

  const authenticate = (header: string | undefined): void => {
    if (options.apiKey === undefined) return;
    const key = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!key) {
      throw apiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        { code: 'invalid_api_key' },
      );
    }
    if (key !== options.apiKey) {
      throw apiError(401, `Incorrect API key provided: ${redact(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, {
        code: 'invalid_api_key',
      });
    }
  };

  /** Takes the request from both buckets, or answers 429 the way OpenAI words it. */
  const admit = (model: string, tokens: number): void => {
    if (tokens > tokenBucket.capacity) {
      throw apiError(
        429,
        `Request too large for ${model} in organization ${organization} on tokens per min (TPM): Limit ${tpm}, Requested ${tokens}. ` +
          'The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
        { type: 'tokens', code: 'rate_limit_exceeded' },
      );
    }
    const requestWait = requestBucket.waitMs(1);
    const tokenWait = tokenBucket.waitMs(tokens);
    if (requestWait === 0 && tokenWait === 0) {
      requestBucket.take(1);
      tokenBucket.take(tokens);
      return;
    }
    const [kind, bucket, wait, limit, requested] =
      requestWait > 0 ? (['requests', requestBucket, requestWait, rpm, 1] as const) : (['tokens', tokenBucket, tokenWait, tpm, tokens] as const);
    stats.rateLimited[kind]++;
    const unit = kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
    const used = Math.ceil(bucket.capacity - bucket.level());
    throw apiError(
      429,
      `Rate limit reached for ${model} in organization ${organization} on ${unit}: Limit ${limit}, Used ${used}, Requested ${requested}. ` +
        `Please try again in ${formatGoDuration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      { type: kind, code: 'rate_limit_exceeded' },
      retryAfterHeaders(wait),
    );
  };

  const rateLimitHeaders = (): Record<string, string> => ({
    'x-ratelimit-limit-requests': String(rpm),
    'x-ratelimit-limit-tokens': String(tpm),
    'x-ratelimit-remaining-requests': String(Math.floor(requestBucket.level())),
    'x-ratelimit-remaining-tokens': String(Math.floor(tokenBucket.level())),
    'x-ratelimit-reset-requests': formatGoDuration(requestBucket.msUntilFull()),
    'x-ratelimit-reset-tokens': formatGoDuration(tokenBucket.msUntilFull()),
  });

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-request-id': `req_${randomUUID().replaceAll('-', '')}`,
      'openai-version': '2020-10-01',
      'openai-organization': organization,
      ...rateLimitHeaders(),
      ...headers,
    });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    stats.requests++;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    handle(req, res)
      .catch((error: unknown) => {
        const failure = error instanceof HttpError ? error : apiError(500, `Simulator error: ${String(error)}`, { type: 'server_error' });
        send(res, failure.status, failure.body, failure.headers);
      })
      .finally(() => inFlight--);
  });
  const { port } = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/v1`,
    stats,
    failNext(count, status, failureOptions = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, retryAfterMs: failureOptions.retryAfterMs });
    },
    reset() {
      Object.assign(stats, emptyStats());
      failures = [];
      requestBucket = new TokenBucket(rpm, bucketSeconds, now);
      tokenBucket = new TokenBucket(tpm, bucketSeconds, now);
    },
    close() {
      closing.abort();
      return closeServer(server);
    },
  };
}

/** Normalises every accepted shape of `input` to strings or token arrays, rejecting what the API rejects. */
function inputTexts(input: unknown): Array<string | number[]> {
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

function resolveDimensions(requested: unknown, spec: ModelSpec): number {
  if (requested === undefined || requested === null) return spec.nativeDimensions;
  if (!spec.shortenable) throw apiError(400, 'This model does not support specifying dimensions.', { param: 'dimensions' });
  if (!Number.isInteger(requested)) {
    throw apiError(400, `Invalid type for 'dimensions': expected an integer, but got ${typeof requested} instead.`, {
      param: 'dimensions',
      code: 'invalid_type',
    });
  }
  const value = requested as number;
  if (value < 1) {
    throw apiError(400, `Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${value} instead.`, {
      param: 'dimensions',
      code: 'integer_below_min_value',
    });
  }
  if (value > spec.nativeDimensions) {
    throw apiError(400, `Invalid 'dimensions': integer above maximum value. Expected a value <= ${spec.nativeDimensions}, but got ${value} instead.`, {
      param: 'dimensions',
      code: 'integer_above_max_value',
    });
  }
  return value;
}

/**
 * A unit vector seeded by the text. The components are a stream from the seeded generator, so the
 * first `dimensions` of them are the native vector's prefix: renormalising them is exactly how the
 * text-embedding-3 models shorten.
 */
function embed(text: string, dimensions: number): Float32Array {
  const next = seededRandom(createHash('sha256').update(text).digest());
  const components = new Float64Array(dimensions);
  let sumOfSquares = 0;
  for (let i = 0; i < dimensions; i++) {
    // Uniform components: not isotropic, but cheap (2048 × 1536 per request) and near-orthogonal between texts.
    const value = 2 * next() - 1;
    components[i] = value;
    sumOfSquares += value * value;
  }
  const scale = 1 / Math.sqrt(sumOfSquares);
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = components[i] * scale;
  return vector;
}

/** sfc32 seeded with the first 16 bytes of the digest: fast, and good enough for test vectors. */
function seededRandom(seed: Buffer): () => number {
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function injectedFailure(status: number, retryAfterMs: number | undefined): HttpError {
  const headers = retryAfterMs === undefined ? {} : retryAfterHeaders(retryAfterMs);
  if (status === 429) {
    return apiError(429, 'Rate limit reached for requests. Please try again later.', { type: 'requests', code: 'rate_limit_exceeded' }, headers);
  }
  if (status >= 500) return serverError(status, headers);
  return apiError(status, `Injected failure with status ${status}.`, {}, headers);
}

function serverError(status: number, headers: Record<string, string> = {}): HttpError {
  const message =
    status === 503
      ? 'The server is overloaded or not ready yet.'
      : 'The server had an error while processing your request. Sorry about that!';
  return apiError(status, message, { type: 'server_error' }, headers);
}

function retryAfterHeaders(waitMs: number): Record<string, string> {
  return { 'retry-after-ms': String(Math.ceil(waitMs)), 'retry-after': String(Math.ceil(waitMs / 1000)) };
}

/** Shows a key the way OpenAI's 401 does: its start and end only. */
function redact(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

/** Formats milliseconds as Go's time.Duration prints them, as OpenAI's reset headers do: `6m0s`, `1.5s`, `120ms`. */
export function formatGoDuration(ms: number): string {
  const total = Math.ceil(ms);
  if (total <= 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${String((total % 60_000) / 1000)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** A bucket of `perMinute × seconds / 60` units refilled continuously at `perMinute` per minute. */
class TokenBucket {
  readonly capacity: number;
  private readonly perMs: number;
  private current: number;
  private updatedAt: number;

  constructor(
    perMinute: number,
    seconds: number,
    private readonly now: () => number,
  ) {
    this.capacity = (perMinute * seconds) / 60;
    this.perMs = perMinute / 60_000;
    this.current = this.capacity;
    this.updatedAt = now();
  }

  level(): number {
    const time = this.now();
    this.current = Math.min(this.capacity, this.current + (time - this.updatedAt) * this.perMs);
    this.updatedAt = time;
    return this.current;
  }

  take(units: number): void {
    this.current = this.level() - units;
  }

  /** Milliseconds until `units` are available; 0 when they are now. */
  waitMs(units: number): number {
    const missing = units - this.level();
    return missing <= 0 ? 0 : missing / this.perMs;
  }

  msUntilFull(): number {
    return (this.capacity - this.level()) / this.perMs;
  }
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

function parseJson(raw: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below, as for any body that is not a JSON object
  }
  throw apiError(
    400,
    'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. ' +
      'The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
  );
}
