/** Long texts searchable whole: a record over one vector's token limit becomes pieces, kept in step as the record changes. */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

const NS = 'long-texts';
const sentences = (count: number, topic: string) =>
  Array.from({ length: count }, (_, i) => `Clause ${i} of the ${topic} contract sets out renewal term number ${i * 7} in plain words.`);
const csvOf = (rows: [string, string][]) => ['id,formatted_text,kind', ...rows.map(([id, text]) => `${id},"${text}",contract`)].join('\n');
const tokensOf = (text: string) => encode(text, { disallowedSpecial: new Set() }).length;

describe('long texts become several vectors (local runtime, simulators)', () => {
  let stack: LocalStack;
  const long = sentences(1700, 'supply');

  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function run(key: string, body: string, query = '') {
    await stack.putObject(key, body);
    const before = { tokens: stack.openai.stats.tokens };
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=${key}&namespace=${NS}${query}`);
    expect(started.status).toBe(202);
    const status = await stack.waitForTask(started.body.task_id);
    return { status, tokens: stack.openai.stats.tokens - before.tokens };
  }
  const stored = () => new Map(stack.pinecone.dump(NS).map((vector) => [vector.id, vector]));

  it('splits a 30,000-token record into pieces within the limit, every sentence in some piece, no bare-id vector', async () => {
    expect(tokensOf(long.join(' '))).toBeGreaterThan(30_000);
    const { status } = await run(
      'long/contract.csv',
      csvOf([
        ['c-1', long.join(' ')],
        ['c-2', 'A short note about the supply contract.'],
      ]),
    );
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 2, processed: 2, failed: 0, split: 1, truncated: 0 } });
    const vectors = stored();
    const pieces = [...vectors.values()].filter((vector) => vector.metadata?._parent_id === 'c-1');
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    expect(status.vectors).toEqual({ upserted: pieces.length + 1, metadata_updated: 0, deleted: 0 });
    expect(vectors.has('c-1')).toBe(false);
    expect(vectors.has('c-2')).toBe(true);
    pieces.forEach((piece) => {
      expect(piece.id).toBe(`c-1#${piece.metadata?._piece}`);
      expect(piece.metadata).toMatchObject({ _pieces: pieces.length, kind: 'contract' });
      expect(tokensOf(String(piece.metadata?.text))).toBeLessThanOrEqual(8191);
      expect(Buffer.byteLength(JSON.stringify(piece.metadata))).toBeLessThanOrEqual(40_000);
    });
    const texts = pieces.map((piece) => String(piece.metadata?.text));
    expect(long.filter((sentence) => !texts.some((text) => text.includes(sentence)))).toEqual([]);
    // Consecutive pieces overlap: the next one begins with the end of the one before.
    const ordered = [...pieces].sort((a, b) => Number(a.metadata?._piece) - Number(b.metadata?._piece));
    const firstOfSecond = String(ordered[1].metadata?.text).split('. ')[0];
    expect(String(ordered[0].metadata?.text)).toContain(firstOfSecond);
  });

  it('spends nothing on the same long record again', async () => {
    const { status, tokens } = await run(
      'long/contract-again.csv',
      csvOf([
        ['c-1', long.join(' ')],
        ['c-2', 'A short note about the supply contract.'],
      ]),
    );
    expect(tokens).toBe(0);
    expect(status).toMatchObject({ records: { processed: 0, skipped: 2, skipped_reasons: { unchanged: 2 } } });
  });

  it('deletes the surplus pieces when the record shrinks, and re-embeds only the pieces that changed', async () => {
    const before = [...stored().keys()].filter((id) => id.startsWith('c-1#')).length;
    const shorter = long.slice(0, 700).join(' ');
    const { status } = await run(
      'long/contract-shorter.csv',
      csvOf([
        ['c-1', shorter],
        ['c-2', 'A short note about the supply contract.'],
      ]),
    );
    const after = [...stored().keys()].filter((id) => id.startsWith('c-1#'));
    expect(after.length).toBeLessThan(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(status).toMatchObject({ status: 'COMPLETED', records: { processed: 1, split: 1 } });
    expect(status.vectors.deleted).toBe(before - after.length);
    expect(after.sort()).toEqual(Array.from({ length: after.length }, (_, i) => `c-1#${i}`).sort());
  });

  it('goes back to one vector under its own id when the record fits again, its pieces deleted', async () => {
    const piecesBefore = [...stored().keys()].filter((id) => id.startsWith('c-1#')).length;
    const { status } = await run('long/contract-short.csv', csvOf([['c-1', long.slice(0, 20).join(' ')]]));
    const vectors = stored();
    expect(vectors.has('c-1')).toBe(true);
    expect([...vectors.keys()].filter((id) => id.startsWith('c-1#'))).toEqual([]);
    expect(status.vectors).toEqual({ upserted: 1, metadata_updated: 0, deleted: piecesBefore });
  });

  it('long_text=truncate keeps one vector, cut to the limit and flagged', async () => {
    const { status } = await run('long/truncated.csv', csvOf([['t-1', long.join(' ')]]), '&long_text=truncate');
    expect(status).toMatchObject({ status: 'COMPLETED', records: { processed: 1, truncated: 1, split: 0 } });
    const vector = stored().get('t-1');
    expect(vector?.metadata).toMatchObject({ _truncated: true });
    expect([...stored().keys()].filter((id) => id.startsWith('t-1#'))).toEqual([]);
  });

  it("a full sync deletes a removed record's pieces, and only its pieces, counting vectors not rows", async () => {
    const rows: [string, string][] = [
      ['d-1', sentences(900, 'lease').join(' ')],
      ['d-2', 'A short lease note.'],
    ];
    const first = await run('long/docs-1.csv', csvOf(rows), '&dataset=docs&sync=full');
    const pieces = [...stored().keys()].filter((id) => id.startsWith('d-1#'));
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(first.status.sync).toMatchObject({ deleted: 0 });
    const second = await run(
      'long/docs-2.csv',
      csvOf([rows[1], ['d-3', 'Another short lease note.']]),
      '&dataset=docs&sync=full&allow_mass_delete=true',
    );
    expect(second.status).toMatchObject({ status: 'COMPLETED', sync: { mode: 'full', dataset: 'docs', deleted: pieces.length } });
    expect(second.status.vectors.deleted).toBe(pieces.length);
    const after = stored();
    expect([...after.keys()].filter((id) => id.startsWith('d-1'))).toEqual([]);
    expect(after.has('d-2') && after.has('d-3')).toBe(true);
  });

  it('answers 400 for an unknown long_text, naming the parameter', async () => {
    const answer = await stack.api('/process?data_source=s3_csv&s3_key=long/truncated.csv&long_text=chop');
    expect(answer).toMatchObject({ status: 400, body: { parameter: 'long_text', error: expect.stringMatching(/split, truncate/) } });
  });
});
