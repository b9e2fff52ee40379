/** The data plane's operations on the stored vectors, each checking its request as Pinecone does. */
import { badRequest } from './errors';
import { passesFilter } from './filter';
import { MAX_IDS, MAX_TOP_K, MAX_TOP_K_WITH_DATA, MAX_UPSERT_BYTES, MAX_UPSERT_RECORDS } from './limits';
import { metadataBytes, validateRecord } from './records';
import { resolveNamespace, type Namespaces } from './store';
import type { PineconeSimulatorStats, StoredVector } from './types';

export interface IndexState {
  namespaces: Namespaces;
  dimension: number;
  stats: PineconeSimulatorStats;
}

export function upsert({ namespaces, dimension, stats }: IndexState, body: Record<string, unknown>): unknown {
  const vectors = body.vectors;
  if (!Array.isArray(vectors) || vectors.length === 0) throw badRequest('Invalid request: vectors must contain at least 1 record.');
  if (vectors.length > MAX_UPSERT_RECORDS) {
    throw badRequest(
      `Request contains ${vectors.length} vectors, which exceeds the limit of ${MAX_UPSERT_RECORDS} vectors per upsert request.`,
    );
  }
  const records = vectors.map((vector: unknown) => validateRecord(vector, dimension));
  const size = records.reduce((sum, record) => sum + record.values.length * 4 + metadataBytes(record.metadata), 0);
  if (size > MAX_UPSERT_BYTES) {
    throw badRequest(
      `Request size ${(size / 1_000_000).toFixed(3)}MB (${size} bytes) exceeds the maximum supported size of 2MB. Please reduce your batch size.`,
    );
  }
  const namespace = namespaces.open(resolveNamespace(body.namespace));
  for (const record of records) namespace.set(record.id, record);
  stats.upsertedVectors += records.length;
  stats.upsertBatchSizes.push(records.length);
  return { upsertedCount: records.length };
}

/** `ids` come repeated in the query string, as the client sends them. */
export function fetchVectors({ namespaces }: IndexState, query: URLSearchParams): unknown {
  const ids = query.getAll('ids');
  if (ids.length === 0) throw badRequest('Invalid request: at least one id is required.');
  if (ids.length > MAX_IDS) throw badRequest(`Cannot fetch more than ${MAX_IDS} ids in a single request, got ${ids.length}.`);
  const namespace = resolveNamespace(query.get('namespace'));
  const stored = namespaces.get(namespace);
  const vectors: Record<string, StoredVector> = {};
  for (const id of ids) {
    const record = stored?.get(id);
    if (record) vectors[id] = record;
  }
  return { vectors, namespace, usage: { readUnits: 1 } };
}

/** Matches by cosine similarity (ties by id), to a vector or to a stored record's. */
export function queryVectors({ namespaces, dimension }: IndexState, body: Record<string, unknown>): unknown {
  const topK = body.topK;
  if (!Number.isInteger(topK) || (topK as number) < 1) throw badRequest('Invalid request: topK must be a positive integer.');
  const includeValues = body.includeValues === true;
  const includeMetadata = body.includeMetadata === true;
  const maxTopK = includeValues || includeMetadata ? MAX_TOP_K_WITH_DATA : MAX_TOP_K;
  if ((topK as number) > maxTopK) {
    throw badRequest(
      `topK must be less than or equal to ${maxTopK}${maxTopK === MAX_TOP_K_WITH_DATA ? ' when including values or metadata' : ''}.`,
    );
  }
  const namespace = resolveNamespace(body.namespace);
  const stored = namespaces.get(namespace) ?? new Map<string, StoredVector>();
  let vector: number[];
  if (Array.isArray(body.vector) && body.id === undefined) {
    vector = body.vector as number[];
    if (!vector.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw badRequest('Invalid request: vector must be a list of numbers.');
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
  const { filter } = body;
  const matches = [...stored.values()]
    .filter((record) => filter === undefined || passesFilter(record.metadata, filter))
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
}

export function deleteVectors({ namespaces }: IndexState, body: Record<string, unknown>): unknown {
  if (body.filter !== undefined) throw badRequest('Metadata filters are not supported by this simulator.');
  const namespace = resolveNamespace(body.namespace);
  if (body.deleteAll === true) {
    namespaces.delete(namespace);
    return {};
  }
  const ids = body.ids;
  if (!Array.isArray(ids) || ids.length === 0) throw badRequest('Invalid request: provide ids or deleteAll.');
  if (ids.length > MAX_IDS) throw badRequest(`Cannot delete more than ${MAX_IDS} ids in a single request, got ${ids.length}.`);
  const stored = namespaces.get(namespace);
  for (const id of ids) stored?.delete(String(id));
  if (stored?.size === 0) namespaces.delete(namespace);
  return {};
}

export function describeIndexStats({ namespaces, dimension }: IndexState): unknown {
  const counts: Record<string, { vectorCount: number }> = {};
  let total = 0;
  for (const [name, vectors] of namespaces.entries()) {
    counts[name] = { vectorCount: vectors.size };
    total += vectors.size;
  }
  return { namespaces: counts, dimension, indexFullness: 0, totalVectorCount: total, metric: 'cosine', vectorType: 'dense' };
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
