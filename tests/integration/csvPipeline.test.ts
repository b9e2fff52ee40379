/**
 * The CSV path end to end through the local runtime: REST → TaskRequested → planner →
 * ChunkPlanned → embedder (OpenAI simulator, Pinecone simulator, official clients) →
 * ChunkEmbedded → aggregator → TaskCompleted, with exact counts and idempotent redelivery.
 */
import { sanitizeText } from '../../shared/domain/sanitize';
import { peopleCsv, type PeopleCsv } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

describe('CSV pipeline (local runtime, simulators)', () => {
  let stack: LocalStack;
  let csv: PeopleCsv;
  let taskId: string;
  let finalStatus: any;

  beforeAll(async () => {
    // This file checks the one-vector-per-record contract, long texts cut as before; tests/integration/longTexts.test.ts splits them.
    stack = await startLocalStack({ env: { LONG_TEXT: 'truncate' } });
    csv = peopleCsv(5000);
    await stack.putObject('uploads/people.csv', csv.bytes);
    const started = await stack.api('/process?data_source=s3_csv&s3_key=uploads/people.csv');
    expect(started.status).toBe(202);
    taskId = started.body.task_id;
    finalStatus = await stack.waitForTask(taskId);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('ends COMPLETED with every record counted exactly once', () => {
    expect(finalStatus.status).toBe('COMPLETED');
    expect(finalStatus.data_source).toBe('s3_csv');
    expect(finalStatus.records).toMatchObject({
      total: 5000,
      processed: 5000 - csv.emptyTextIds.size,
      skipped: csv.emptyTextIds.size,
      failed: 0,
      truncated: 1,
    });
    expect(finalStatus.records.skipped_reasons).toEqual({ empty_text: csv.emptyTextIds.size });
    expect(finalStatus.chunks).toEqual({ total: 5, completed: 5, failed: 0 });
    expect(finalStatus.progress).toBe(1);
    expect(finalStatus.completed_at).toEqual(expect.any(String));
    expect(finalStatus.errors).toEqual([]);
  });

  it('upserts every non-empty record once, into the namespace, with sanitised text and metadata', () => {
    const stored = stack.pinecone.dump(NAMESPACE);
    const expectedIds = csv.rows
      .filter((row) => !csv.emptyTextIds.has(row.id))
      .map((row) => row.id)
      .sort();
    expect(stored.map((vector) => vector.id)).toEqual(expectedIds);
    const byId = new Map(stored.map((vector) => [vector.id, vector]));
    for (const row of csv.rows.filter((r) => !csv.emptyTextIds.has(r.id) && !csv.longTextIds.has(r.id))) {
      const vector = byId.get(row.id)!;
      expect(vector.values).toHaveLength(1536);
      expect(vector.metadata).toMatchObject({
        text: sanitizeText(row.formatted_text),
        date: row.date,
        category: row.category,
        _task_id: taskId,
        _source: 's3://vectordb-catchup-local/uploads/people.csv',
      });
      expect(vector.metadata).not.toHaveProperty('_truncated');
      if (row.price === '') expect(vector.metadata).not.toHaveProperty('price');
      else expect(vector.metadata?.price).toBe(row.price);
    }
    // Over the model's 8192 tokens: embedded from its first tokens, flagged, its text cut to fit 40 KB of metadata.
    const long = byId.get('person-002500')!;
    expect(long.metadata).toMatchObject({ _truncated: true, _text_truncated: true });
    expect(sanitizeText(csv.rows[2499].formatted_text).startsWith(long.metadata?.text as string)).toBe(true);
    expect(Math.max(...stack.openai.stats.tokensPerRequest)).toBeLessThanOrEqual(300_000);
    expect(byId.get('person-000007')?.metadata?.text).toBe('Profile of person 7 first line, with a comma second "quoted" line');
    expect(byId.get('person-000011')?.metadata?.text).toBe('東京の天気は晴れです & more for person 11');
  });

  it('never sends an empty input to OpenAI, and batches many inputs per request', () => {
    expect(stack.openai.stats.statusCounts[400] ?? 0).toBe(0);
    expect(stack.openai.stats.inputs).toBe(5000 - csv.emptyTextIds.size);
    expect(Math.max(...stack.openai.stats.inputsPerRequest)).toBeGreaterThan(100);
    expect(Math.max(...stack.pinecone.stats.upsertBatchSizes)).toBeLessThanOrEqual(100);
  });

  it('announces TaskCompleted exactly once', () => {
    const completed = stack.runtime.bus.published().filter((event) => event['detail-type'] === 'TaskCompleted');
    expect(completed).toHaveLength(1);
    expect(completed[0].detail).toMatchObject({ taskId, status: 'COMPLETED', records: { total: 5000 } });
  });

  it('changes nothing when every event is delivered a second time', async () => {
    const vectorsBefore = stack.pinecone.dump(NAMESPACE).length;
    const tokensBefore = stack.openai.stats.tokens;
    const events = stack.runtime.bus.published().filter((event) => (event.detail as { taskId?: string }).taskId === taskId);
    const routes: Record<string, string> = { TaskRequested: 'planner', ChunkPlanned: 'embedder', ChunkEmbedded: 'aggregator' };
    let redelivered = 0;
    for (const event of events) {
      const consumer = routes[event['detail-type']];
      if (!consumer) continue;
      stack.runtime.queues.get(consumer)!.queue.send(JSON.stringify(event));
      redelivered += 1;
    }
    expect(redelivered).toBe(1 + 5 + 5);
    await stack.runtime.waitForIdle(60_000);
    const { body } = await stack.api(`/status?task_id=${taskId}`);
    expect(body.records).toEqual(finalStatus.records);
    expect(body.chunks).toEqual(finalStatus.chunks);
    expect(body.status).toBe('COMPLETED');
    expect(stack.pinecone.dump(NAMESPACE)).toHaveLength(vectorsBefore);
    // Duplicate ChunkPlanned deliveries are recognised before any embedding is paid for.
    expect(stack.openai.stats.tokens).toBe(tokensBefore);
    expect(stack.runtime.bus.published().filter((event) => event['detail-type'] === 'TaskCompleted')).toHaveLength(1);
    for (const { deadLetters } of stack.runtime.queues.values()) expect(deadLetters.messages()).toEqual([]);
  });
});
