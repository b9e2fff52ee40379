/** Dropping a CSV under the ingest prefix starts a task by itself, once per upload. */
import { peopleCsv } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

describe('S3 auto-trigger (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const requested = () => stack.runtime.bus.published().filter((event) => event['detail-type'] === 'TaskRequested');

  it('starts one task per CSV object created under incoming/, and ignores other keys', async () => {
    const csv = peopleCsv(120);
    await stack.putObject('incoming/batch one.csv', csv.bytes);
    await stack.putObject('incoming/readme.txt', 'not a csv');
    await stack.putObject('elsewhere/file.csv', csv.bytes);
    await stack.runtime.waitForIdle(30_000);
    const events = requested();
    expect(events).toHaveLength(1);
    const detail = events[0].detail as { taskId: string; source: { key: string }; requestedBy: string };
    expect(detail).toMatchObject({ source: { type: 's3_csv', key: 'incoming/batch one.csv' }, requestedBy: 's3' });
    const status = await stack.waitForTask(detail.taskId);
    expect(status).toMatchObject({
      status: 'COMPLETED',
      records: { total: 120, processed: 120 - csv.emptyTextIds.size, skipped: csv.emptyTextIds.size, failed: 0 },
    });
    expect(stack.pinecone.dump(NAMESPACE)).toHaveLength(120 - csv.emptyTextIds.size);
  });

  it('does not start a second task when the same notification arrives again', async () => {
    const ingest = stack.runtime.queues.get('ingest')!;
    const before = requested().length;
    const notification = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'vectordb-catchup-local' }, object: { key: 'incoming/batch+one.csv', eTag: 'abc', sequencer: '1' } },
        },
      ],
    };
    ingest.queue.send(JSON.stringify(notification));
    ingest.queue.send(JSON.stringify(notification));
    await stack.runtime.waitForIdle(30_000);
    expect(requested().length).toBe(before + 1);
  });

  it('ignores the test event S3 sends when the notification is configured, and dead-letters garbage', async () => {
    const ingest = stack.runtime.queues.get('ingest')!;
    const before = requested().length;
    ingest.queue.send(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'vectordb-catchup-local' }));
    ingest.queue.send('not json');
    await stack.runtime.waitForIdle(30_000);
    expect(requested().length).toBe(before);
    expect(ingest.deadLetters.messages().map((message) => message.body)).toEqual(['not json']);
  });
});
