/**
 * An in-repo simulator of the Pinecone data plane of one dense, cosine index: the host that
 * `pc.index({ host })` of the official v9 client talks to. It serves the routes that client sends
 * (checked in its generated `VectorOperationsApi`): `POST /vectors/upsert`, `GET /vectors/fetch`
 * (`ids` repeated in the query string), `POST /query`, `POST /vectors/delete` and
 * `POST|GET /describe_index_stats`, with Pinecone's camelCase JSON and its `{code, message, details}`
 * error bodies.
 *
 * Limits as Pinecone enforces them (limits.ts): 1000 records and 2 MB per upsert, counted as 4
 * bytes per dimension plus the metadata JSON of each record; 40 KB of metadata per record; metadata
 * values string, number, boolean or list of strings; ids of 1-512 characters; 1000 ids per fetch
 * or delete; the index dimension. The namespace `__default__` stands for an absent or empty one.
 *
 * A query may carry a metadata filter (filter.ts); a delete may not.
 *
 * A request is routed here; records.ts checks upserted records, operations.ts runs the operations
 * on store.ts, filter.ts evaluates query filters, and errors.ts words the failures.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { readBody } from '../../local/httpServer';
import { InjectedFailures, type Drop } from '../failures';
import { HttpError, parseJsonObject, send, serve, type Handler } from '../http';
import { RateBucket } from '../rateBucket';
import { countStatus, trackInFlight } from '../stats';
import { badRequest, injectedFailure, pineconeError, tooManyRequests } from './errors';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from './limits';
import { deleteVectors, describeIndexStats, fetchVectors, queryVectors, upsert, type IndexState } from './operations';
import { DEFAULT_NAMESPACE, Namespaces } from './store';
import type { Operation, PineconeSimulator, PineconeSimulatorOptions, PineconeSimulatorStats } from './types';

export { DEFAULT_NAMESPACE } from './store';
export type {
  InjectedFailureOptions,
  Operation,
  PineconeSimulator,
  PineconeSimulatorOptions,
  PineconeSimulatorStats,
  SimulatedMetadataValue,
  StoredVector,
} from './types';

type Route = { operation: Operation; run: (body: Record<string, unknown>, query: URLSearchParams) => unknown };

export async function startPineconeSimulator(options: PineconeSimulatorOptions = {}): Promise<PineconeSimulator> {
  const stats = emptyStats();
  const index: IndexState = { namespaces: new Namespaces(), dimension: options.dimension ?? 1536, stats };
  const failures = new InjectedFailures<{ status: number; retryAfterSeconds?: number }>();
  const drops = new InjectedFailures<Drop>();
  let limiter = requestsPerSecond(options.rps);

  const routes: Record<string, Route> = {
    'POST /vectors/upsert': { operation: 'upsert', run: (body) => upsert(index, body) },
    'GET /vectors/fetch': { operation: 'fetch', run: (_body, query) => fetchVectors(index, query) },
    'POST /query': { operation: 'query', run: (body) => queryVectors(index, body) },
    'POST /vectors/delete': { operation: 'delete', run: (body) => deleteVectors(index, body) },
    // The generated client POSTs (with an optional filter); older clients and curl examples GET.
    'POST /describe_index_stats': { operation: 'describeIndexStats', run: () => describeIndexStats(index) },
    'GET /describe_index_stats': { operation: 'describeIndexStats', run: () => describeIndexStats(index) },
  };

  const handle: Handler = async (req, res, closing) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const route = `${req.method} ${url.pathname}`;
    const raw = await readBody(req, MAX_BODY_BYTES, () => pineconeError(413, 'Request body too large.'));
    const handler = routes[route];
    if (!handler) throw pineconeError(404, `Not Found: ${route}`);

    const key = req.headers['api-key'];
    if (typeof key !== 'string' || key === '' || (options.apiKey !== undefined && key !== options.apiKey)) {
      throw pineconeError(401, 'Invalid API Key');
    }
    const version = req.headers['x-pinecone-api-version'];
    if (typeof version === 'string' && !stats.apiVersions.includes(version)) stats.apiVersions.push(version);

    const failure = failures.next();
    if (failure) throw injectedFailure(failure.status, failure.retryAfterSeconds);
    const drop = drops.next();
    if (drop === 'before') return void req.socket.destroy();
    const wait = limiter?.tryTake(1);
    if (wait !== undefined && wait > 0) throw tooManyRequests(options.rps as number, wait, options.retryAfter === true);

    const invalidBody = () => badRequest('Invalid request: the body is not a JSON object.');
    const body = req.method === 'POST' && raw.length > 0 ? parseJsonObject(raw.toString('utf8'), invalidBody) : {};
    const result = handler.run(body, url.searchParams);
    const { operation } = handler;
    const latency = typeof options.latencyMs === 'function' ? options.latencyMs({ operation }) : options.latencyMs;
    if (latency) await delay(latency, undefined, { signal: closing });
    stats.operations[operation]++;
    if (drop === 'after') return void req.socket.destroy();
    respond(res, 200, result);
  };

  const respond = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    countStatus(stats, status);
    send(res, status, body, { 'x-pinecone-request-id': randomUUID(), ...headers });
  };

  const host = options.host ?? '127.0.0.1';
  const serveOptions = { port: options.port, host, maxHeaderSize: MAX_HEADER_BYTES };
  const server = await serve(serveOptions, stats, trackInFlight(stats, handle), (error, res) => {
    const failure = error instanceof HttpError ? error : pineconeError(500, `Simulator error: ${String(error)}`);
    respond(res, failure.status, failure.body, failure.headers);
  });

  return {
    url: `http://${host}:${server.address.port}`,
    stats,
    namespaces: () => index.namespaces.names(),
    dump: (namespace = DEFAULT_NAMESPACE) => index.namespaces.dump(namespace),
    failNext(count, status, failureOptions = {}) {
      failures.add(count, { status, retryAfterSeconds: failureOptions.retryAfterSeconds });
    },
    dropNext(count, when) {
      drops.add(count, when);
    },
    pendingFaults: () => failures.pending + drops.pending,
    reset() {
      index.namespaces.clear();
      Object.assign(stats, emptyStats());
      failures.clear();
      drops.clear();
      limiter = requestsPerSecond(options.rps);
    },
    close: () => server.close(),
  };
}

/** `rps` a second, holding one second's budget (at least one request); none when unlimited. */
function requestsPerSecond(rps: number | undefined): RateBucket | undefined {
  return rps === undefined ? undefined : new RateBucket(Math.max(1, rps), rps / 1000);
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
