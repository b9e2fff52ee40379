/** Zero spend on unchanged data: content hashes skip what did not change; dry runs estimate without providers. */
import { peopleCsv } from '../helpers/csvFixtures';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

describe('incremental runs and dry runs (local runtime)', () => {
  let stack: LocalStack;
  const csv = peopleCsv(600);
  const expectedProcessed = 600 - csv.emptyTextIds.size;

  beforeAll(async () => {
    stack = await startLocalStack({ env: { PINECONE_BATCH_SIZE: '2' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function run(
    body: Buffer | string,
    query = '',
  ): Promise<{ status: any; tokens: number; upserts: number; embeddingRequests: number }> {
    await stack.putObject('inc/people.csv', body);
    const before = {
      tokens: stack.openai.stats.tokens,
      upserts: stack.pinecone.stats.operations.upsert,
      requests: stack.openai.stats.requests,
    };
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=inc/people.csv${query}`);
    expect(started.status).toBe(202);
    const status = await stack.waitForTask(started.body.task_id);
    return {
      status,
      tokens: stack.openai.stats.tokens - before.tokens,
      upserts: stack.pinecone.stats.operations.upsert - before.upserts,
      embeddingRequests: stack.openai.stats.requests - before.requests,
    };
  }

  const edited = () => {
    const text = csv.bytes.toString('utf8').replace('Person 1 works in', 'Person 1 now works in');
    const row2 = 'person-000002,"Person 2 works in support, likes jazz records.",2025-01-03,cat-2,2.50';
    expect(text).toContain(row2);
    return text.replace(row2, row2.replace('cat-2', 'cat-9'));
  };

  it('re-running an unchanged file spends zero tokens and zero upserts, counting the records as unchanged', async () => {
    const first = await run(csv.bytes);
    expect(first.status.records).toMatchObject({ processed: expectedProcessed, failed: 0 });
    expect(first.tokens).toBeGreaterThan(0);
    const second = await run(csv.bytes);
    expect(second.status).toMatchObject({
      status: 'COMPLETED',
      records: {
        total: 600,
        processed: 0,
        skipped: 600,
        failed: 0,
        skipped_reasons: { empty_text: csv.emptyTextIds.size, unchanged: expectedProcessed },
      },
    });
    expect(second.tokens).toBe(0);
    expect(second.upserts).toBe(0);
    expect(second.embeddingRequests).toBe(0);
  });

  it('a dry run counts what would be embedded and its cost, calling neither OpenAI nor Pinecone', async () => {
    const dry = await run(edited(), '&dry_run=true');
    expect(dry.status).toMatchObject({
      status: 'COMPLETED',
      dry_run: true,
      records: { processed: 2, skipped_reasons: { unchanged: expectedProcessed - 2 } },
    });
    // Row 1's text changed (embedded); row 2 only its category (metadata rewritten, no tokens).
    expect(dry.status.estimate).toEqual({
      records_to_embed: 1,
      tokens: dry.status.embedding_tokens,
      cost_usd: expect.any(Number),
      final: true,
    });
    expect(dry.status.vectors).toEqual({ upserted: 1, metadata_updated: 1, deleted: 0 });
    expect(dry.status.estimate.tokens).toBeGreaterThan(10);
    expect(dry.status.estimate.cost_usd).toBeCloseTo((dry.status.estimate.tokens * 0.02) / 1e6, 10);
    expect(dry.embeddingRequests).toBe(0);
    expect(dry.upserts).toBe(0);
  });

  it('re-embeds exactly the row whose text changed, and rewrites the metadata of the row whose category changed without embedding it', async () => {
    const inputsBefore = stack.openai.stats.inputsPerRequest.length;
    const changed = await run(edited());
    expect(changed.status.records).toMatchObject({ processed: 2, skipped_reasons: { unchanged: expectedProcessed - 2 } });
    expect(changed.status.vectors).toEqual({ upserted: 1, metadata_updated: 1, deleted: 0 });
    expect(stack.openai.stats.inputsPerRequest.slice(inputsBefore)).toEqual([1]);
    expect(changed.tokens).toBe(changed.status.embedding_tokens);
    // One upsert of the re-embedded vector, one of the stored vector with its new metadata.
    expect(changed.upserts).toBe(2);
    const stored = stack.pinecone.dump('integration');
    expect(stored.find((vector) => vector.id === 'person-000002')?.metadata?.category).toBe('cat-9');
    expect(stored.find((vector) => vector.id === 'person-000001')?.metadata?.text).toMatch(/^Person 1 now works in/);
  });

  it('a chunk retried after a failure part-way spends nothing again on what it upserted, and counts it as processed', async () => {
    const body = [
      'id,formatted_text',
      ...Array.from({ length: 10 }, (_, i) => `retry-${i},Retried record number ${i} about espresso machines`),
    ].join('\n');
    // The first attempt's third upsert (of records 5-6) fails as a Pinecone outage would; the adapter does not retry it.
    const { vectors } = stack.runtime.deps;
    const upsert = vectors.upsert.bind(vectors);
    let calls = 0;
    vectors.upsert = async (namespace, records) => {
      calls += 1;
      if (calls === 3) throw Object.assign(new Error('Pinecone upsert failed with HTTP 503'), { status: 503 });
      return upsert(namespace, records);
    };
    const inputsBefore = stack.openai.stats.inputsPerRequest.length;
    try {
      await stack.putObject('inc/retry.csv', body);
      const started = await stack.api('/process?data_source=s3_csv&s3_key=inc/retry.csv&namespace=retry');
      const status = await stack.waitForTask(started.body.task_id);
      const clean = await stack.api('/process', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data_source: 's3_csv', s3_key: 'inc/retry.csv', namespace: 'retry-clean', dry_run: true }),
      });
      const estimate = await stack.waitForTask(clean.body.task_id);

      expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 10, processed: 10, skipped: 0, failed: 0 } });
      expect(status.embedding_tokens).toBe(estimate.embedding_tokens);
      // Attempt 1 embedded all 10, and its other upserts (four run at a time) wrote their records around the
      // failed one; attempt 2 embedded only what was not written: the failed batch, and none of the rest again.
      const [first, second, ...more] = stack.openai.stats.inputsPerRequest.slice(inputsBefore);
      expect({ first, more }).toEqual({ first: 10, more: [] });
      expect(second).toBeGreaterThanOrEqual(2);
      expect(second).toBeLessThan(10);
      expect(
        stack.pinecone
          .dump('retry')
          .map((vector) => vector.id)
          .sort(),
      ).toEqual(Array.from({ length: 10 }, (_, i) => `retry-${i}`));
    } finally {
      vectors.upsert = upsert;
    }
  });

  it('force=true re-embeds everything', async () => {
    const forced = await run(edited(), '&force=true');
    expect(forced.status.records).toMatchObject({ processed: expectedProcessed, skipped_reasons: { empty_text: csv.emptyTextIds.size } });
    expect(forced.tokens).toBeGreaterThan(0);
  });
});
