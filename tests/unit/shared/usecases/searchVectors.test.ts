/** `GET /search`: the query embedded as records are, within the pacer's budget, the store queried with the filter, pieces grouped. */
import { parseSearchRequest } from '../../../../shared/domain/search';
import { InvalidInputError, ProviderUnavailableError } from '../../../../shared/errors';
import type { MetadataFilter, VectorMatch, VectorStore } from '../../../../shared/ports';
import { searchVectors } from '../../../../shared/usecases/searchVectors';
import { fakeEmbedder, freePacer, tokensOf } from '../../../helpers/fakes';

function storeAnswering(matches: VectorMatch[]) {
  const queries: { namespace: string; vector: number[]; topK: number; filter?: MetadataFilter }[] = [];
  const vectors: VectorStore = {
    description: 'answering store',
    upsert: async () => undefined,
    fetch: async () => new Map(),
    delete: async () => undefined,
    query: async (namespace, vector, topK, filter) => {
      queries.push({ namespace, vector: Array.from(vector), topK, ...(filter ? { filter } : {}) });
      return matches;
    },
  };
  return { vectors, queries };
}

const match = (id: string, score: number, metadata: VectorMatch['metadata'] = {}): VectorMatch => ({ id, score, metadata });

describe('searchVectors', () => {
  it('embeds the sanitised query once, paced by its tokens, and queries the namespace with top_k and the filter', async () => {
    const embedder = fakeEmbedder();
    const pacer = freePacer();
    const { vectors, queries } = storeAnswering([match('1', 0.9, { text: 'Red running shoes' })]);
    const request = parseSearchRequest({ q: ' <p>Red running&nbsp;shoes</p> ', top_k: '3', filter: '{"kind":"shoe"}' }, 'default-ns');
    const answer = await searchVectors(request, { embedder, pacer, vectors });

    expect(embedder.requests).toEqual([['Red running shoes']]);
    expect(pacer.acquired).toEqual([tokensOf('Red running shoes')]);
    expect(queries).toEqual([
      { namespace: 'default-ns', vector: [17, tokensOf('Red running shoes'), 1], topK: 3, filter: { kind: 'shoe' } },
    ]);
    expect(answer).toEqual({
      query: '<p>Red running&nbsp;shoes</p>',
      namespace: 'default-ns',
      top_k: 3,
      filter: { kind: 'shoe' },
      embedding_tokens: tokensOf('Red running shoes'),
      results: [{ id: '1', score: 0.9, metadata: { text: 'Red running shoes' } }],
    });
  });

  it('groups the pieces of one long record under it, in the order of each record’s best match', async () => {
    const pieces = [
      match('long#1', 0.95, { _parent_id: 'long', text: 'second part' }),
      match('short', 0.9, { text: 'short one' }),
      match('long#0', 0.8, { _parent_id: 'long', text: 'first part' }),
    ];
    const { vectors } = storeAnswering(pieces);
    const { results } = await searchVectors(parseSearchRequest({ q: 'part', namespace: 'docs' }, 'ns'), {
      embedder: fakeEmbedder(),
      pacer: freePacer(),
      vectors,
    });

    expect(results).toEqual([
      { id: 'long', score: 0.95, metadata: pieces[0].metadata, pieces: [pieces[0], pieces[2]] },
      { id: 'short', score: 0.9, metadata: { text: 'short one' } },
    ]);
  });

  it('lets the pacer learn from a failed embedding, and fails without querying', async () => {
    const observed: unknown[] = [];
    const failure = new ProviderUnavailableError('throttled', { provider: 'openai', status: 429 });
    const { vectors, queries } = storeAnswering([]);
    const pacer = { ...freePacer(), observe: (outcome: unknown) => void observed.push(outcome) };
    const answer = searchVectors(parseSearchRequest({ q: 'hats' }, 'ns'), {
      embedder: fakeEmbedder({ failWith: () => failure }),
      pacer,
      vectors,
    });

    await expect(answer).rejects.toBe(failure);
    expect(observed).toEqual([failure]);
    expect(queries).toEqual([]);
  });

  it('defaults to 10 matches in the configured namespace, unfiltered', () => {
    expect(parseSearchRequest({ q: 'hats' }, 'ns')).toEqual({
      query: 'hats',
      text: 'hats',
      tokens: tokensOf('hats'),
      topK: 10,
      namespace: 'ns',
    });
  });

  it.each([
    [{}, 'q', /q is required/],
    [{ q: '  ' }, 'q', /q is required/],
    [{ q: '<p></p>' }, 'q', /no text left/],
    [{ q: 'x'.repeat(10_001) }, 'q', /at most 10000 characters/],
    [{ q: 'hats', top_k: '0' }, 'top_k', /whole number from 1 to 100/],
    [{ q: 'hats', top_k: '101' }, 'top_k', /whole number from 1 to 100/],
    [{ q: 'hats', filter: '{"kind":' }, 'filter', /filter must be JSON/],
    [{ q: 'hats', filter: '{"kind":{"$like":"h%"}}' }, 'filter', /filter\.kind\.\$like is not an operator/],
    [{ q: 'hats', k: '3' }, 'k', /unknown parameter "k"/],
  ])('refuses %j naming %s', (params, parameter, message) => {
    const parse = () => parseSearchRequest(params, 'ns');
    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(expect.objectContaining({ field: parameter, message: expect.stringMatching(message) }));
  });
});
