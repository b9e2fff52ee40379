/** What the Pinecone simulator takes, stores and offers. */
import type { Drop } from '../failures';
import type { InFlightStats, RequestStats } from '../stats';

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

export interface PineconeSimulatorStats extends RequestStats, InFlightStats {
  /** Successful requests by operation. */
  operations: Record<Operation, number>;
  /** Records written by successful upserts. */
  upsertedVectors: number;
  /** Records per successful upsert, in arrival order. */
  upsertBatchSizes: number[];
  /** Distinct `X-Pinecone-Api-Version` values seen. */
  apiVersions: string[];
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
  /** Drops the next `count` connections (after authentication) `before` handling them, or `after`: the write lands, its answer is lost. */
  dropNext(count: number, when: Drop): void;
  /** Injected failures and drops no request has met yet. */
  pendingFaults(): number;
  /** Clears vectors, stats, pending failures and the rate limit. */
  reset(): void;
  close(): Promise<void>;
}
