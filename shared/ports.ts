/**
 * The small interfaces between the domain and the outside world. Adapters in shared/adapters/
 * implement them for AWS and the providers; the local runtime (local/) supplies local ones.
 */
import type { Readable } from 'node:stream';

/** Metadata values Pinecone accepts: no null, no nested objects. */
export type MetadataValue = string | number | boolean | string[];
export type Metadata = Record<string, MetadataValue>;

/**
 * An embedding as the providers hold it: 32-bit floats (OpenAI sends them so in base64, Pinecone
 * stores them so). Half the memory of a number[], which matters with chunks of them in flight.
 */
export type Vector = Float32Array;

export interface VectorRecord {
  id: string;
  values: Vector;
  metadata: Metadata;
}

export interface VectorMatch {
  id: string;
  score: number;
  metadata: Metadata;
}

export interface VectorStore {
  /** Human-readable name for banners and logs, e.g. "pinecone (index my-index)". */
  readonly description: string;
  /** Upserts records; the caller keeps each call within the provider's per-request limits. */
  upsert(namespace: string, records: VectorRecord[]): Promise<void>;
  fetch(namespace: string, ids: string[]): Promise<Map<string, VectorRecord>>;
  query(namespace: string, vector: Vector, topK: number): Promise<VectorMatch[]>;
}

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: Vector[];
  /** Tokens billed for the request (the provider's usage figure). */
  tokens: number;
  /**
   * What the provider said about its budget with this answer (OpenAI's x-ratelimit-* headers;
   * resets in milliseconds) and the 429s it answered before it, which the client retried; the
   * pacer learns from it. Absent when the provider says nothing (the offline embedder).
   */
  rateLimit?: {
    limitRequests?: number;
    remainingRequests?: number;
    resetRequestsMs?: number;
    limitTokens?: number;
    remainingTokens?: number;
    resetTokensMs?: number;
    /** 429s answered to this request: retried by the client, or (`final`) the answer that failed it. */
    rateLimited?: { count: number; retryAfterMs?: number; final?: boolean };
  };
}

export interface Embedder {
  readonly description: string;
  readonly model: string;
  readonly dimensions: number;
  /** Embeds non-empty inputs that each fit the model's token limit, in one provider request. */
  embed(inputs: string[]): Promise<EmbeddingResult>;
}

export interface ObjectHead {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
}

export interface ObjectStore {
  readonly bucket: string;
  /** Returns undefined when the object does not exist. */
  head(key: string): Promise<ObjectHead | undefined>;
  /** Streams the object, or the bytes [start, end) of it; fails if its etag is no longer `etag`. */
  read(key: string, options?: { start?: number; end?: number; etag?: string }): Promise<Readable>;
  put(key: string, body: string | Buffer): Promise<ObjectHead>;
}

/** An event as the bus carries it: detail-type, source and the JSON detail. */
export interface BusEvent<T = unknown> {
  detailType: string;
  source: string;
  detail: T;
}

export interface EventPublisher {
  /** Publishes all events or throws; entries the bus rejects are resent, never dropped. */
  publish(events: BusEvent[]): Promise<void>;
}

/** Where a consumer puts a message that must not be retried (it can never be valid). */
export interface DeadLetterSink {
  send(body: string, reason: string): Promise<void>;
}

/** Rows of a saved question (Metabase), streamed one by one. */
export interface QuestionSource {
  readonly description: string;
  rows(questionId: number, options: { startDate?: string }): AsyncIterable<Record<string, unknown>>;
}

/** What is known of a vector as last upserted: its content hash, the task that upserted it and the tokens its input took. */
export interface StoredHash {
  hash: string;
  taskId?: string;
  tokens?: number;
}

/** The content hash of each vector as last upserted, per namespace and id (incremental runs). */
export interface ContentHashStore {
  get(namespace: string, ids: string[]): Promise<Map<string, StoredHash>>;
  put(namespace: string, entries: { id: string; hash: string; tokens: number }[], taskId: string): Promise<void>;
}
