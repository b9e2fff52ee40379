/**
 * Bad input and failing providers through the local runtime: every record ends in exactly one
 * count, every task reaches a terminal state, and every problem is named.
 */
import { loadWiring } from '../../infra/wiring';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

describe('failures and messy input (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ env: { PINECONE_MAX_RETRIES: '0', CHUNK_SIZE: '4' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function run(key: string, body: string | Buffer, query = ''): Promise<any> {
    await stack.putObject(key, body);
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=${encodeURIComponent(key)}${query}`);
    expect(started.status).toBe(202);
    return stack.waitForTask(started.body.task_id);
  }

  const completedEvents = (taskId: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'TaskCompleted' && (event.detail as { taskId: string }).taskId === taskId);

  it('fails a CSV without the text column, naming the columns it has, and announces it', async () => {
    const status = await run('bad/no-text.csv', 'id,body,date\n1,hello,2025-01-01\n');
    expect(status.status).toBe('FAILED');
    expect(status.errors).toEqual([
      's3://vectordb-catchup-local/bad/no-text.csv has no text column "formatted_text"; its columns are: id, body, date',
    ]);
    expect(completedEvents(status.task_id)).toHaveLength(1);
  });

  it('takes a CSV without a date column whole when start_date is given, with a warning', async () => {
    const status = await run('bad/no-date.csv', 'id,formatted_text\n1,hello\n', '&start_date=2025-01-01');
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 1, processed: 1, skipped: 0, failed: 0 }, errors: [] });
    expect(status.warnings).toEqual([expect.stringMatching(/^start_date 2025-01-01 was not applied: .* has no date column/)]);
  });

  it('completes a header-only file with zero records', async () => {
    const status = await run('edge/header-only.csv', '\ufeffid,formatted_text\r\n');
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 0, processed: 0, skipped: 0, failed: 0 }, chunks: { total: 0 } });
  });

  it('counts every record of a messy file exactly once, with a reason for each failure', async () => {
    const csv = [
      'id,formatted_text,date,extra',
      '1,good one,2025-02-01,x',
      '2,too early,2024-12-31,x',
      ',no id here,2025-02-01,x',
      '4,<br> ,2025-02-01,x',
      '5,ragged,2025-02-01',
      '6,bad date,someday,x',
      '7,"quoted, with\nnewline",2025-03-01,y',
      '8,"never closed,2025-02-01,x',
      '9,swallowed by the open quote,2025-02-01,x',
    ].join('\n');
    const status = await run('messy/file.csv', csv, '&start_date=2025-01-01');
    expect(status.status).toBe('PARTIAL');
    expect(status.records).toMatchObject({
      total: 8,
      processed: 2,
      skipped: 2,
      failed: 4,
      skipped_reasons: { before_start_date: 1, empty_text: 1 },
    });
    expect(status.records.processed + status.records.skipped + status.records.failed).toBe(status.records.total);
    expect(status.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^record 3: column "id" is empty/),
        'record 5: record has 3 fields; the header has 4',
        expect.stringMatching(/^record 6 \(id 6\): column "date" holds "someday", not a date/),
        expect.stringMatching(/^record 8: unreadable CSV record: Quote Not Closed/),
      ]),
    );
    expect(
      stack.pinecone
        .dump(NAMESPACE)
        .filter((vector) => vector.metadata?._task_id === status.task_id)
        .map((vector) => vector.id)
        .sort(),
    ).toEqual(['1', '7']);
  });

  it('hashes stable ids for a file without an id column, so a re-run overwrites', async () => {
    const body = 'formatted_text,category\nalpha,a\nbeta,b\n';
    const first = await run('noid/a.csv', body);
    const second = await run('noid/a.csv', body, '&force=true');
    const vectors = () =>
      stack.pinecone.dump(NAMESPACE).filter((vector) => vector.metadata?._source === 's3://vectordb-catchup-local/noid/a.csv');
    expect(first.records.processed).toBe(2);
    expect(second.records.processed).toBe(2);
    expect(vectors()).toHaveLength(2);
    expect(vectors().map((vector) => vector.metadata?._task_id)).toEqual([second.task_id, second.task_id]);
  });

  it('rejects an invalid event to the DLQ at once, with the reason, never retrying it', async () => {
    await stack.runtime.bus.publish([
      { detailType: 'ChunkPlanned', source: 'vectordb-catchup', detail: { schemaVersion: 1, taskId: 'x', chunkIndex: -1 } },
    ]);
    await stack.runtime.waitForIdle(30_000);
    const { queue, deadLetters } = stack.runtime.queues.get('embedder')!;
    const rejected = deadLetters.messages();
    expect(rejected).toHaveLength(1);
    expect(rejected[0].messageAttributes.reason).toMatch(/ChunkPlanned event is invalid: .*\/chunkIndex must be >= 0/);
    expect(rejected[0].receiveCount).toBe(0);
    expect(queue.stats.failed).toBe(0);
  });

  it('fails the task of an invalid internal event instead of leaving it RUNNING', async () => {
    const { tasks } = stack.runtime.deps;
    const request = { schemaVersion: 1 as const, taskId: 'victim', source: { type: 's3_csv' as const, key: 'x.csv' } };
    await tasks.create({ taskId: 'victim', dataSource: 's3_csv', namespace: NAMESPACE, request }, new Date());
    await tasks.start('victim', new Date());
    await stack.runtime.bus.publish([
      { detailType: 'ChunkEmbedded', source: 'vectordb-catchup', detail: { schemaVersion: 1, taskId: 'victim', chunkIndex: 0 } },
    ]);
    const status = await stack.waitForTask('victim');
    expect(status.status).toBe('FAILED');
    expect(status.errors[0]).toMatch(
      /^an invalid ChunkEmbedded event was rejected: ChunkEmbedded event is invalid: \(root\) must have required property 'outcome'/,
    );
  });

  it('runs a TaskRequested from another system and fails it clearly when its object is missing', async () => {
    await stack.runtime.bus.publish([
      {
        detailType: 'TaskRequested',
        source: 'crm-exporter',
        detail: { schemaVersion: 1, taskId: 'crm-2025-06-01', source: { type: 's3_csv', key: 'exports/missing.csv' } },
      },
    ]);
    const status = await stack.waitForTask('crm-2025-06-01');
    expect(status).toMatchObject({ status: 'FAILED', errors: ['s3://vectordb-catchup-local/exports/missing.csv does not exist'] });
  });

  it('retries OpenAI 429s (honouring retry-after) and still completes', async () => {
    stack.openai.failNext(3, 429, { retryAfterMs: 5 });
    const status = await run('retry/openai.csv', 'id,formatted_text\n1,one\n2,two\n');
    expect(status).toMatchObject({ status: 'COMPLETED', records: { processed: 2, failed: 0 } });
    expect(stack.openai.stats.statusCounts[429]).toBeGreaterThanOrEqual(3);
  });

  it('ends a task whose vector store keeps failing: the chunk fails on its last attempt, the message goes to the DLQ', async () => {
    stack.pinecone.failNext(1000, 503);
    try {
      const status = await run('retry/pinecone.csv', 'id,formatted_text\n1,one\n2,two\n3,three\n');
      expect(status.status).toBe('FAILED');
      expect(status.records).toMatchObject({ total: 3, processed: 0, failed: 3 });
      expect(status.chunks).toMatchObject({ total: 1, failed: 1 });
      expect(status.errors[0]).toMatch(/^chunk 0: records 1-3 failed: .*503/);
      const wired = stack.runtime.queues.get('embedder')!;
      expect(wired.deadLetters.messages().filter((message) => message.body.includes('retry/pinecone.csv'))).toHaveLength(1);
    } finally {
      stack.pinecone.reset();
    }
  });
});

describe('a provider that hangs past the Lambda timeout (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // The embedder's timeout shortened to 4 s: its work is abandoned after ~1 s, keeping 3 s to report.
    const wiring = loadWiring();
    wiring.consumers.embedder = { ...wiring.consumers.embedder, timeout: 4 };
    // No Pinecone retries: the abandoned attempts then end as soon as the simulator closes.
    stack = await startLocalStack({ pinecone: { latencyMs: 30_000 }, env: { PINECONE_MAX_RETRIES: '0' }, runtime: { wiring } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('fails the chunk on its last attempt instead of leaving the task RUNNING', async () => {
    await stack.putObject('hang/pinecone.csv', 'id,formatted_text\n1,one\n2,two\n');
    const started = await stack.api('/process?data_source=s3_csv&s3_key=hang/pinecone.csv');
    const status = await stack.waitForTask(started.body.task_id);
    const { maxReceiveCount } = stack.runtime.queues.get('embedder')!.wiring;
    expect(status).toMatchObject({ status: 'FAILED', records: { total: 2, processed: 0, failed: 2 }, chunks: { total: 1, failed: 1 } });
    expect(status.errors[0]).toMatch(/^chunk 0: records 1-2 failed: ChunkPlanned .* did not finish before its Lambda's timeout/);
    expect(stack.runtime.queues.get('embedder')!.queue.stats).toMatchObject({ received: maxReceiveCount, failed: maxReceiveCount });
  });
});
