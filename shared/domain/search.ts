/**
 * `GET /search` (README › Task list, search and OpenAPI): its parameters, the query text as
 * records' texts are embedded (sanitised, cut to the model's limit), and matches grouped by the
 * record they come from. Pure: no I/O.
 */
import { InvalidInputError } from '../errors';
import type { Metadata, MetadataFilter, VectorMatch } from '../ports';
import { fitToTokenLimit } from './batching';
import { parseMetadataFilter } from './metadataFilter';
import { integerParameter, rejectUnknown, textParameter, type QueryParameters } from './queryParameters';
import { sanitizeText } from './sanitize';

export const SEARCH_PARAMETERS = ['q', 'top_k', 'namespace', 'filter'] as const;
export const SEARCH_LIMITS = { defaultTopK: 10, maxTopK: 100, maxQueryCharacters: 10_000 } as const;
/** The metadata key that names the record a piece of a long text belongs to. */
export const PARENT_ID_KEY = '_parent_id';

export interface SearchRequest {
  /** As the caller wrote it. */
  query: string;
  /** What is embedded: sanitised as a record's text is, and within the model's token limit. */
  text: string;
  tokens: number;
  topK: number;
  namespace: string;
  filter?: MetadataFilter;
}

export function parseSearchRequest(params: QueryParameters, defaultNamespace: string): SearchRequest {
  rejectUnknown(params, SEARCH_PARAMETERS);
  const query = textParameter(params, 'q');
  if (query === undefined) throw new InvalidInputError('q is required: the text to search for', 'q');
  if (query.length > SEARCH_LIMITS.maxQueryCharacters)
    throw new InvalidInputError(`q must be at most ${SEARCH_LIMITS.maxQueryCharacters} characters; got ${query.length}`, 'q');
  const sanitised = sanitizeText(query);
  if (!sanitised) throw new InvalidInputError('q has no text left once markup and control characters are removed', 'q');
  const { text, tokens } = fitToTokenLimit(sanitised);
  const topK = integerParameter(params, 'top_k', { min: 1, max: SEARCH_LIMITS.maxTopK, fallback: SEARCH_LIMITS.defaultTopK });
  const filterText = textParameter(params, 'filter');
  return {
    query,
    text,
    tokens,
    topK,
    namespace: params.namespace?.trim() || defaultNamespace,
    ...(filterText === undefined ? {} : { filter: parseMetadataFilter(filterText) }),
  };
}

export interface SearchHit {
  /** The record's id: a piece's `_parent_id`, else the vector's own. */
  id: string;
  /** The best score among its vectors. */
  score: number;
  /** The best-scoring vector's metadata. */
  metadata: Metadata;
  /** Present when the record is a long text stored as pieces: the pieces that matched, best first. */
  pieces?: VectorMatch[];
}

/** Matches (best first) grouped by record, in the order of each record's best match. */
export function groupByRecord(matches: VectorMatch[]): SearchHit[] {
  const hits = new Map<string, SearchHit>();
  for (const match of matches) {
    const parent = match.metadata[PARENT_ID_KEY];
    const id = typeof parent === 'string' && parent ? parent : match.id;
    const hit = hits.get(id);
    if (!hit) {
      hits.set(id, { id, score: match.score, metadata: match.metadata, ...(id !== match.id ? { pieces: [match] } : {}) });
      continue;
    }
    // A record's whole vector and its pieces (written before and after it grew long) are one record.
    hit.pieces = [...(hit.pieces ?? [{ id: hit.id, score: hit.score, metadata: hit.metadata }]), match];
  }
  return [...hits.values()];
}
