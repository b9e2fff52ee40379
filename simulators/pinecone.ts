/**
 * An in-repo simulator of the Pinecone data plane of one dense, cosine index: the host that
 * `pc.index({ host })` of the official v9 client talks to. It serves the routes that client sends
 * (checked in its generated `VectorOperationsApi`): `POST /vectors/upsert`, `GET /vectors/fetch`
 * (`ids` repeated in the query string), `POST /query`, `POST /vectors/delete` and
 * `POST|GET /describe_index_stats`, with Pinecone's camelCase JSON and its `{code, message, details}`
 * error bodies.
 *
 * Limits as Pinecone enforces them: 1000 records and 2 MB per upsert, counted as 4 bytes per
 * dimension plus the metadata JSON of each record (not the JSON body: Pinecone's own table gives
 * 245 records of 1536 dims with 2 KB metadata, which only 2,000,000 bytes reproduces); 40 KB of
 * metadata per record; metadata values string, number, boolean or list of strings; ids of 1-512
 * characters; 1000 ids per fetch or delete; the index dimension. The namespace `__default__` stands
 * for an absent or empty one.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listen, readBody } from '../local/httpServer';

export type SimulatedMetadataValue = string | number | boolean | string[];

export interface StoredVector {
  id: string;
  values: number[];
  metadata?: Record<string, SimulatedMetadataValue>;
}

export interface PineconeSimulatorOptions {
  /** When set, `Api-Key` must equal it; a request without the header is refused either way. */
  apiKey?: string;
  /** Index dimension (default 1536). */
  dimension?: number;
  /** Requests per second the index accepts before answering 429; unlimited when absent. */
  rps?: number;
  /** Adds `retry-after` (whole seconds) to rate-limit 429s; Pinecone documents none, so off by default. */
  retryAfter?: boolean;
  /** Delay before each answer, fixed or per request. */
  latencyMs?: number | ((request: { operation: Operation }) => number);
  port?: number;
  host?: string;
}

export type Operation = 'upsert' | 'fetch' | 'query' | 'delete' | 'describeIndexStats';

export interface PineconeSimulatorStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Responses by HTTP status. */
  statusCounts: Record<number, number>;
  /** Successful requests by operation. */
  operations: Record<Operation, number>;
  /** Records written by successful upserts. */
  upsertedVectors: number;
  /** Records per successful upsert, in arrival order. */
  upsertBatchSizes: number[];
  /** Distinct `X-Pinecone-Api-Version` values seen. */
  apiVersions: string[];
  /** Most requests in progress at once. */
  maxInFlight: number;
}

export interface InjectedFailureOptions {
  /** Sent as `retry-after`, in seconds (fractions allowed, for fast tests). */
  retryAfterSeconds?: number;
}

export interface PineconeSimulator {
  /** Index host URL, for `pc.index({ host: url })`. */
  url: string;
  stats: PineconeSimulatorStats;
  /** Names of the namespaces that hold vectors. */
  namespaces(): string[];
  /** The vectors of a namespace, sorted by id. */
  dump(namespace?: string): StoredVector[];
  /** Answers the next `count` authenticated requests with `status` and Pinecone's body for it. */
  failNext(count: number, status: number, options?: InjectedFailureOptions): void;
  /** Clears vectors, stats, pending failures and the rate limit. */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_NAMESPACE = '__default__';
const MAX_UPSERT_RECORDS = 1000;
const MAX_UPSERT_BYTES = 2_000_000;
const MAX_METADATA_BYTES = 40 * 1024;
const MAX_ID_LENGTH = 512;
const MAX_IDS = 1000;
const MAX_TOP_K = 10_000;
const MAX_TOP_K_WITH_DATA = 1000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Envoy's default limit on request headers, which bounds the ids a fetch URL can carry. */
const MAX_HEADER_BYTES = 60 * 1024;

/** gRPC status codes, which Pinecone's error bodies carry in `code`. */
const GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 3, 429: 8, 500: 13, 501: 12, 503: 14 };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const badRequest = (message: string): HttpError => new HttpError(400, message);

export async function startPineconeSimulator(options: PineconeSimulatorOptions = {}): Promise<PineconeSimulator> {
  const dimension = options.dimension ?? 1536;
  const store = new Map<string, Map<string, StoredVector>>();
  let failures: Array<{ status: number; retryAfterSeconds?: number }> = [];
  let limiter = options.rps === undefined ? undefined : new RateLimiter(options.rps);
  let inFlight = 0;
  // Cuts latency waits short on close(), so a slow simulated answer cannot outlive its test.
  const closing = new AbortController();
  const stats = emptyStats();

  const routes: Record<string, { operation: Operation; run: (body: Record<string, unknown>, query: URLSearchParams) => unknown }> = {
    'POST /vectors/upsert': { operation: 'upsert', run: (body) => upsert(body) },
    'GET /vectors/fetch': { operation: 'fetch', run: (_body, query) => fetchVectors(query) },
    'POST /query': { operation: 'query', run: (body) => queryVectors(body) },
    'POST /vectors/delete': { operation: 'delete', run: (body) => deleteVectors(body) },
    // The generated client POSTs (with an optional filter); older clients and curl examples GET.
    'POST /describe_index_stats': { operation: 'describeIndexStats', run: () => describeIndexStats() },
    'GET /describe_index_stats': { operation: 'describeIndexStats', run: () => describeIndexStats() },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const route = `${req.method} ${url.pathname}`;
    const raw = await readBody(req, MAX_BODY_BYTES, () => new HttpError(413, 'Request body too large.'));
    const handler = routes[route];
    if (!handler) throw new HttpError(404, `Not Found: ${route}`);

    const key = req.headers['api-key'];
    if (typeof key !== 'string' || key === '' || (options.apiKey !== undefined && key !== options.apiKey)) {
      throw new HttpError(401, 'Invalid API Key');
    }
    const version = req.headers['x-pinecone-api-version'];
    if (typeof version === 'string' && !stats.apiVersions.includes(version)) stats.apiVersions.push(version);

    const failure = failures.shift();
    if (failure) {
      throw new HttpError(failure.status, injectedMessage(failure.status), retryAfterHeader(failure.retryAfterSeconds));
    }
    const wait = limiter?.tryTake();
    if (wait !== undefined && wait > 0) {
      throw new HttpError(
        429,
        `Too many requests: the index accepts ${options.rps} requests per second. Please retry shortly.`,
        options.retryAfter ? retryAfterHeader(Math.ceil(wait / 1000)) : {},
      );
    }

    const body = req.method === 'POST' ? parseJson(raw) : {};
    const result = handler.run(body, url.searchParams);
    const { operation } = handler;
    const latency = typeof options.latencyMs === 'function' ? options.latencyMs({ operation }) : options.latencyMs;
    if (latency) await delay(latency, undefined, { signal: closing.signal });
    stats.operations[operation]++;
    send(res, 200, result);
  };

  const upsert = (body: Record<string, unknown>): unknown => {
    const vectors = body.vectors;
    if (!Array.isArray(vectors) || vectors.length === 0) throw badRequest('Invalid request: vectors must contain at least 1 record.');
    if (vectors.length > MAX_UPSERT_RECORDS) {
      throw badRequest(`Request contains ${vectors.length} vectors, which exceeds the limit of ${MAX_UPSERT_RECORDS} vectors per upsert request.`);
    }
    const records = vectors.map(validateRecord);
    const size = records.reduce((sum, record) => sum + record.values.length * 4 + metadataBytes(record.metadata), 0);
    if (size > MAX_UPSERT_BYTES) {
      throw badRequest(
        `Request size ${(size / 1_000_000).toFixed(3)}MB (${size} bytes) exceeds the maximum supported size of 2MB. Please reduce your batch size.`,
      );
    }
    const namespace = namespaceMap(body.namespace);
    for (const record of records) namespace.set(record.id, record);
    stats.upsertedVectors += records.length;
    stats.upsertBatchSizes.push(records.length);
    return { upsertedCount: records.length };
  };

  const validateRecord = (value: unknown): StoredVector => {
    if (value === null || typeof value !== 'object') throw badRequest('Invalid request: each vector must be an object.');
    const { id, values, sparseValues, metadata } = value as Record<string, unknown>;
    if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_LENGTH) {
      const length = typeof id === 'string' ? id.length : 0;
      throw badRequest(`Vector ID must be between 1 and ${MAX_ID_LENGTH} characters long, got ${length}.`);
    }
    if (sparseValues !== undefined) throw badRequest('Sparse vectors are not supported by this dense index (metric cosine).');
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw badRequest(`Vector ${id}: values must be a list of numbers.`);
    }
    if (values.length !== dimension) throw badRequest(`Vector dimension ${values.length} does not match the dimension of the index ${dimension}`);
    if (!values.some((v) => v !== 0)) throw badRequest('Dense vectors must contain at least one non-zero value.');
    const record: StoredVector = { id, values: values.map((v: number) => Math.fround(v)) };
    if (metadata !== undefined && metadata !== null) {
      record.metadata = validateMetadata(metadata);
    }
    return record;
  };

  const fetchVectors = (query: URLSearchParams): unknown => {
    const ids = query.getAll('ids');
    if (ids.length === 0) throw badRequest('Invalid request: at least one id is required.');
    if (ids.length > MAX_IDS) throw badRequest(`Cannot fetch more than ${MAX_IDS} ids in a single request, got ${ids.length}.`);
    const namespace = resolveNamespace(query.get('namespace'));
    const stored = store.get(namespace);
    const vectors: Record<string, StoredVector> = {};
    for (const id of ids) {
      const record = stored?.get(id);
      if (record) vectors[id] = record;
    }
    return { vectors, namespace, usage: { readUnits: 1 } };
  };

  const queryVectors = (body: Record<string, unknown>): unknown => {
    const topK = body.topK;
    if (!Number.isInteger(topK) || (topK as number) < 1) throw badRequest('Invalid request: topK must be a positive integer.');
    const includeValues = body.includeValues === true;
    const includeMetadata = body.includeMetadata === true;
    const maxTopK = includeValues || includeMetadata ? MAX_TOP_K_WITH_DATA : MAX_TOP_K;
    if ((topK as number) > maxTopK) {
      throw badRequest(`topK must be less than or equal to ${maxTopK}${maxTopK === MAX_TOP_K_WITH_DATA ? ' when including values or metadata' : ''}.`);
    }
    if (body.filter !== undefined) throw badRequest('Metadata filters are not supported by this simulator.');
    const namespace = resolveNamespace(body.namespace);
    const stored = store.get(namespace) ?? new Map<string, StoredVector>();
    let vector: number[];
    if (Array.isArray(body.vector) && body.id === undefined) {
      vector = body.vector as number[];
      if (!vector.every((v) => typeof v === 'number' && Number.isFinite(v))) throw badRequest('Invalid request: vector must be a list of numbers.');
      if (vector.length !== dimension) {
        throw badRequest(`Query vector dimension ${vector.length} does not match the dimension of the index ${dimension}`);
      }
    } else if (typeof body.id === 'string' && body.vector === undefined) {
      const found = stored.get(body.id);
      if (!found) return { matches: [], namespace, usage: { readUnits: 1 } };
      vector = found.values;
    } else {
      throw badRequest('Invalid request: provide exactly one of vector or id.');
    }
    const matches = [...stored.values()]
      .map((record) => ({ record, score: cosine(vector, record.values) }))
      .sort((a, b) => b.score - a.score || a.record.id.localeCompare(b.record.id))
      .slice(0, topK as number)
      .map(({ record, score }) => ({
        id: record.id,
        score,
        values: includeValues ? record.values : [],
        ...(includeMetadata && record.metadata ? { metadata: record.metadata } : {}),
      }));
    return { matches, namespace, usage: { readUnits: Math.max(1, Math.ceil(stored.size / 1000)) } };
  };

  const deleteVectors = (body: Record<string, unknown>): unknown => {
    if (body.filter !== undefined) throw badRequest('Metadata filters are not supported by this simulator.');
    const namespace = resolveNamespace(body.namespace);
    if (body.deleteAll === true) {
      store.delete(namespace);
      return {};
    }
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0) throw badRequest('Invalid request: provide ids or deleteAll.');
    if (ids.length > MAX_IDS) throw badRequest(`Cannot delete more than ${MAX_IDS} ids in a single request, got ${ids.length}.`);
    const stored = store.get(namespace);
    for (const id of ids) stored?.delete(String(id));
    if (stored?.size === 0) store.delete(namespace);
    return {};
  };

  const describeIndexStats = (): unknown => {
    const namespaces: Record<string, { vectorCount: number }> = {};
    let total = 0;
    for (const [name, vectors] of store) {
      namespaces[name] = { vectorCount: vectors.size };
      total += vectors.size;
    }
    return { namespaces, dimension, indexFullness: 0, totalVectorCount: total, metric: 'cosine', vectorType: 'dense' };
  };

  const namespaceMap = (value: unknown): Map<string, StoredVector> => {
    const name = resolveNamespace(value);
    let vectors = store.get(name);
    if (!vectors) store.set(name, (vectors = new Map()));
    return vectors;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'x-pinecone-request-id': randomUUID(), ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    stats.requests++;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    handle(req, res)
      .catch((error: unknown) => {
        const failure = error instanceof HttpError ? error : new HttpError(500, `Simulator error: ${String(error)}`);
        send(res, failure.status, { code: GRPC_CODES[failure.status] ?? 2, message: failure.message, details: [] }, failure.headers);
      })
      .finally(() => inFlight--);
  });
  const host = options.host ?? '127.0.0.1';
  const { port } = await listen(server, options.port ?? 0, host);

  return {
    url: `http://${host}:${port}`,
    stats,
    namespaces: () => [...store.keys()].filter((name) => (store.get(name)?.size ?? 0) > 0).sort(),
    // Copies, so that a test cannot change what the index holds behind its back.
    dump: (namespace = DEFAULT_NAMESPACE) =>
      [...(store.get(namespace)?.values() ?? [])]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((record) => ({ ...record, values: [...record.values], ...(record.metadata ? { metadata: structuredClone(record.metadata) } : {}) })),
    failNext(count, status, failureOptions = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, retryAfterSeconds: failureOptions.retryAfterSeconds });
    },
    reset() {
      store.clear();
      Object.assign(stats, emptyStats());
      failures = [];
      limiter = options.rps === undefined ? undefined : new RateLimiter(options.rps);
    },
    close() {
      closing.abort();
      return closeServer(server);
    },
  };
}

function resolveNamespace(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : DEFAULT_NAMESPACE;
}

function validateMetadata(value: unknown): Record<string, SimulatedMetadataValue> {
  if (typeof value !== 'object' || Array.isArray(value) || value === null) throw badRequest('Metadata must be a JSON object.');
  const metadata = value as Record<string, unknown>;
  for (const [field, item] of Object.entries(metadata)) {
    const valid =
      typeof item === 'string' ||
      typeof item === 'boolean' ||
      (typeof item === 'number' && Number.isFinite(item)) ||
      (Array.isArray(item) && item.every((element) => typeof element === 'string'));
    if (!valid) {
      throw badRequest(`Metadata value must be a string, number, boolean or list of strings, got '${JSON.stringify(item)}' for field '${field}'`);
    }
  }
  const size = metadataBytes(metadata);
  if (size > MAX_METADATA_BYTES) throw badRequest(`Metadata size is ${size} bytes, which exceeds the limit of ${MAX_METADATA_BYTES} bytes per vector`);
  return metadata as Record<string, SimulatedMetadataValue>;
}

function metadataBytes(metadata: unknown): number {
  return metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(metadata));
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

function injectedMessage(status: number): string {
  if (status === 429) return 'Too many requests. Please retry shortly.';
  if (status === 503) return 'Service unavailable. Please retry shortly.';
  if (status >= 500) return 'Internal error.';
  return `Injected failure with status ${status}.`;
}

function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

/** A bucket refilled continuously at `rps`, holding one second's budget (at least one request). */
class RateLimiter {
  private readonly capacity: number;
  private level: number;
  private updatedAt = Date.now();

  constructor(private readonly rps: number) {
    this.capacity = Math.max(1, rps);
    this.level = this.capacity;
  }

  /** Takes one request and returns 0, or returns the milliseconds until one is available. */
  tryTake(): number {
    const time = Date.now();
    this.level = Math.min(this.capacity, this.level + ((time - this.updatedAt) * this.rps) / 1000);
    this.updatedAt = time;
    if (this.level >= 1) {
      this.level -= 1;
      return 0;
    }
    return ((1 - this.level) * 1000) / this.rps;
  }
}

function emptyStats(): PineconeSimulatorStats {
  return {
    requests: 0,
    statusCounts: {},
    operations: { upsert: 0, fetch: 0, query: 0, delete: 0, describeIndexStats: 0 },
    upsertedVectors: 0,
    upsertBatchSizes: [],
    apiVersions: [],
    maxInFlight: 0,
  };
}

function parseJson(raw: Buffer): Record<string, unknown> {
  try {
    const value: unknown = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below, as for any body that is not a JSON object
  }
  throw badRequest('Invalid request: the body is not a JSON object.');
}
