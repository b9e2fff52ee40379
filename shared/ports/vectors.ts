/** The vector index (Pinecone on AWS, LanceDB locally). */

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

/**
 * Pinecone's metadata filter language: `{field: value}` (equality), operators `$eq`, `$ne`, `$gt`,
 * `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$exists` on a field, and `$and` / `$or` of filters
 * (shared/domain/metadataFilter.ts checks and evaluates it).
 */
export type MetadataFilter = { [key: string]: unknown };

export interface VectorStore {
  /** Human-readable name for banners and logs, e.g. "pinecone (index my-index)". */
  readonly description: string;
  /** Upserts records; the caller keeps each call within the provider's per-request limits. */
  upsert(namespace: string, records: VectorRecord[]): Promise<void>;
  fetch(namespace: string, ids: string[]): Promise<Map<string, VectorRecord>>;
  /** Deletes the ids that exist (any number: the store batches them); unknown ids are no error. */
  delete(namespace: string, ids: string[]): Promise<void>;
  /** The `topK` nearest vectors, best first; with `filter`, only those whose metadata it matches. */
  query(namespace: string, vector: Vector, topK: number, filter?: MetadataFilter): Promise<VectorMatch[]>;
}
