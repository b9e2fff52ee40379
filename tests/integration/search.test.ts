/**
 * GET /search through the local runtime as `npm start` runs it without keys: the offline embedder
 * and LanceDB on disk. A query in a record's own words finds that record first; metadata filters,
 * top_k and namespaces apply; the pieces of one long record come back under it.
 */
import { createOfflineEmbedder } from '../../local/adapters/offlineEmbedder';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const CATALOG = [
  ['p1', 'Lightweight red running shoes with a cushioned sole for road races', 'shoes', '89'],
  ['p2', 'Waterproof hiking boots with ankle support for mountain trails', 'shoes', '149'],
  ['p3', 'Organic green tea leaves from the hills of Darjeeling, loose', 'tea', '12'],
  ['p4', 'Smoky black tea blend for strong breakfast mornings', 'tea', '9'],
  ['p5', 'Stainless steel kettle that whistles when the water boils', 'kitchen', '35'],
  ['p6', 'Cast iron frying pan, pre-seasoned, for searing steaks', 'kitchen', '45'],
] as const;

describe('search (local runtime, offline embedder, LanceDB)', () => {
  let stack: LocalStack;
  const embedder = createOfflineEmbedder();

  const search = async (params: Record<string, string>) => {
    const answer = await stack.api(`/search?${new URLSearchParams(params)}`);
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const idsOf = (body: { results: { id: string }[] }) => body.results.map((result) => result.id);

  beforeAll(async () => {
    stack = await startLocalStack({ vectorStore: 'lancedb', runtime: { embedder } });
    const csv = ['id,formatted_text,category,price', ...CATALOG.map((row) => row.map((cell) => `"${cell}"`).join(','))].join('\n');
    await stack.putObject('uploads/catalog.csv', csv);
    const { body } = await stack.api('/process?data_source=s3_csv&s3_key=uploads/catalog.csv&dataset=catalog');
    expect(await stack.waitForTask(body.task_id)).toMatchObject({ status: 'COMPLETED', records: { processed: CATALOG.length } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each(CATALOG.map(([id, text]) => [id, text]))('finds %s first from its own words', async (id, text) => {
    const words = text.split(' ').slice(1, 5).join(' ');
    const body = await search({ q: words, top_k: '3' });
    expect(body.results[0]).toMatchObject({ id, metadata: { text, _dataset: 'catalog' } });
    expect(body.results).toHaveLength(3);
    expect(body.results[0].score).toBeGreaterThan(body.results[1].score);
  });

  it('answers the query, namespace, top_k and tokens beside ids, scores and metadata', async () => {
    const body = await search({ q: 'a kettle for <b>boiling</b> water', top_k: '1' });
    expect(body).toEqual({
      query: 'a kettle for <b>boiling</b> water',
      namespace: NAMESPACE,
      top_k: 1,
      filter: null,
      embedding_tokens: expect.any(Number),
      results: [{ id: 'p5', score: expect.any(Number), metadata: expect.objectContaining({ category: 'kitchen', price: '35' }) }],
    });
  });

  it('applies a metadata filter: {field: value}, $eq and $in', async () => {
    const tea = await search({ q: 'running shoes', filter: JSON.stringify({ category: 'tea' }) });
    expect(idsOf(tea).sort()).toEqual(['p3', 'p4']);
    expect(tea.filter).toEqual({ category: 'tea' });
    const kitchen = await search({ q: 'steak', filter: JSON.stringify({ category: { $eq: 'kitchen' } }), top_k: '1' });
    expect(idsOf(kitchen)).toEqual(['p6']);
    const either = await search({
      q: 'boots',
      filter: JSON.stringify({ category: { $in: ['tea', 'kitchen'] }, price: { $in: ['9', '45'] } }),
    });
    expect(idsOf(either).sort()).toEqual(['p4', 'p6']);
  });

  it('searches the namespace asked for, empty when it holds nothing', async () => {
    expect((await search({ q: 'green tea', namespace: 'elsewhere' })).results).toEqual([]);
  });

  it('groups the pieces of a long record under it', async () => {
    const pieces = ['Chapter one: the lighthouse keeper climbs the spiral stairs', 'Chapter two: the lighthouse lamp fails in the storm'];
    const { vectors } = await embedder.embed(pieces);
    await stack.runtime.deps.vectors.upsert(
      NAMESPACE,
      pieces.map((text, i) => ({ id: `novel#${i}`, values: vectors[i], metadata: { text, _parent_id: 'novel', _dataset: 'books' } })),
    );
    const body = await search({ q: 'lighthouse keeper stairs storm', top_k: '3' });
    expect(body.results[0]).toMatchObject({ id: 'novel', metadata: { _parent_id: 'novel' } });
    expect(body.results[0].pieces.map((piece: { id: string }) => piece.id)).toEqual(['novel#0', 'novel#1']);
    expect(body.results[0].score).toBe(body.results[0].pieces[0].score);
    expect(idsOf(body)).toHaveLength(2);
  });

  it.each([
    ['top_k=5', 'q'],
    ['q=tea&top_k=0', 'top_k'],
    ['q=tea&top_k=101', 'top_k'],
    ['q=tea&top_k=ten', 'top_k'],
    [`q=tea&filter=${encodeURIComponent('{"category":')}`, 'filter'],
    [`q=tea&filter=${encodeURIComponent('{"category":{"$regex":"t.*"}}')}`, 'filter'],
  ])('answers 400 naming the parameter for %s', async (query, parameter) => {
    const { status, body } = await stack.api(`/search?${query}`);
    expect(status).toBe(400);
    expect(body.parameter).toBe(parameter);
    expect(body.error).toMatch(new RegExp(`^${parameter}`));
  });
});
