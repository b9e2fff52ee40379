/**
 * `GET /search`: the query embedded by the same embedder as the records, within the same budget
 * (the pacer), and the nearest vectors of the namespace, pieces of one record grouped under it.
 */
import { groupByRecord, type SearchRequest } from '../domain/search';
import type { Dependencies, EmbeddingResult } from '../ports';

export type SearchVectorsDeps = Pick<Dependencies, 'embedder' | 'pacer' | 'vectors'>;

export async function searchVectors(request: SearchRequest, deps: SearchVectorsDeps) {
  await deps.pacer.acquire(request.tokens);
  let embedded: EmbeddingResult;
  try {
    embedded = await deps.embedder.embed([request.text]);
    deps.pacer.observe?.(embedded);
  } catch (error) {
    deps.pacer.observe?.(error);
    throw error;
  }
  const matches = await deps.vectors.query(request.namespace, embedded.vectors[0], request.topK, request.filter);
  return {
    query: request.query,
    namespace: request.namespace,
    top_k: request.topK,
    filter: request.filter ?? null,
    embedding_tokens: embedded.tokens,
    results: groupByRecord(matches),
  };
}
