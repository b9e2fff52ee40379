/** A Metabase saved question end to end through the simulator, and each Metabase failure with its message. */
import { startMetabaseSimulator, type MetabaseSimulator } from '../../simulators/metabase';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

const METABASE_KEY = 'mb_test_key';

function questionRows(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    formatted_text: i % 50 === 0 ? '' : `<p>Listing ${i + 1}: ${['red running shoes', 'green tea', 'jazz records'][i % 3]}</p>`,
    date: new Date(Date.UTC(2025, 0, 1) + (i % 31) * 86400000).toISOString().slice(0, 10),
    price: i % 7 === 0 ? null : (i + 1) * 2.5,
    active: i % 2 === 0,
  }));
}

describe('Metabase source (local runtime, Metabase simulator)', () => {
  let metabase: MetabaseSimulator;
  let metabaseClosed = false;
  let stack: LocalStack;
  const rows = questionRows(2500);

  beforeAll(async () => {
    metabase = await startMetabaseSimulator({
      apiKey: METABASE_KEY,
      questions: {
        232: { rows, dateColumn: 'date' },
        233: { rows: [{ id: 1, body: 'no text column', date: '2025-01-01' }] },
        234: { rows: [], dateColumn: 'date' },
        235: { rows, failWith: 'ERROR: column "formatted_txt" does not exist' },
        236: { rows, forbidden: true },
      },
    });
    stack = await startLocalStack({
      env: { METABASE_URL: metabase.url, METABASE_API_KEY: METABASE_KEY, METABASE_QUESTION_ID: '232', PINECONE_NAMESPACE: 'catalog' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    if (!metabaseClosed) await metabase?.close();
  });

  async function run(query: string): Promise<any> {
    const started = await stack.api(`/process?${query}`);
    expect(started.status).toBe(202);
    return stack.waitForTask(started.body.task_id);
  }

  it('runs the default question with start_date as its date parameter, counts and vectors exact', async () => {
    const status = await run('start_date=2025-01-15');
    const kept = rows.filter((row) => row.date >= '2025-01-15');
    const empty = kept.filter((row) => !row.formatted_text);
    expect(metabase.stats.lastParameters).toEqual([
      expect.objectContaining({ type: 'date/single', target: ['variable', ['template-tag', 'start_date']], value: '2025-01-15' }),
    ]);
    expect(status).toMatchObject({
      status: 'COMPLETED',
      data_source: 'metabase',
      records: { total: kept.length, processed: kept.length - empty.length, skipped: empty.length, failed: 0 },
    });
    expect(status.chunks.total).toBe(Math.ceil(kept.length / 1000));
    const stored = stack.pinecone.dump('catalog');
    expect(stored.map((vector) => vector.id).sort()).toEqual(
      kept
        .filter((row) => row.formatted_text)
        .map((row) => String(row.id))
        .sort(),
    );
    const sample = stored.find((vector) => vector.id === '16')!;
    expect(sample.metadata).toMatchObject({
      text: 'Listing 16: red running shoes',
      price: 40,
      active: false,
      date: '2025-01-16',
      _source: 'metabase://question/232',
      _data_source: 'metabase',
    });
    expect(stored.find((vector) => vector.id === '22')?.metadata).not.toHaveProperty('price');
  });

  it('completes a question that returns zero rows with zero records', async () => {
    expect(await run('question_id=234&start_date=2025-01-01')).toMatchObject({
      status: 'COMPLETED',
      records: { total: 0, processed: 0 },
      chunks: { total: 0 },
    });
  });

  it.each([
    ['question_id=233', 'Metabase question 233 has no column "formatted_text"; its columns are: id, body, date'],
    ['question_id=999', /Metabase has no question 999/],
    ['question_id=235', /Metabase question 235 failed: ERROR: column "formatted_txt" does not exist/],
    ['question_id=236', /HTTP 403/],
  ])('fails %s with a clear error', async (query, message) => {
    const status = await run(query);
    expect(status.status).toBe('FAILED');
    expect(status.errors[0]).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  });

  it('fails clearly when Metabase is unreachable', async () => {
    await metabase.close();
    metabaseClosed = true;
    const status = await run('question_id=232');
    expect(status.status).toBe('FAILED');
    expect(status.errors[0]).toMatch(/Metabase at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  });
});
