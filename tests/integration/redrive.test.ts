/**
 * Redriving a consumer's dead-letter queue locally as on AWS: SQS StartMessageMoveTask on the
 * runtime's AWS endpoint (the official SQS client) moves the DLQ's messages back to their queue,
 * where the consumer handles them; a task whose chunk waited there completes, exactly.
 */
import { SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { plannedOneChunkTask, startLocalStack, type LocalStack } from '../helpers/localStack';

describe('DLQ redrive (local runtime)', () => {
  let stack: LocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    stack = await startLocalStack();
    sqs = new SQSClient({
      endpoint: stack.runtime.eventsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    sqs?.destroy();
    await stack?.stop();
  });

  it('moves a dead-lettered ChunkPlanned back to the embedder, which embeds it; the task completes with every row once', async () => {
    const plan = await plannedOneChunkTask(stack, 'redrive-1', [
      { id: 'rd-1', formatted_text: 'waited in the DLQ' },
      { id: 'rd-2', formatted_text: 'until its cause was fixed' },
    ]);
    // As the redrive policy leaves it: the EventBridge envelope, in the embedder's DLQ.
    const { deadLetters, queue } = stack.runtime.queues.get('embedder')!;
    const envelope = {
      version: '0',
      id: 'evt-redrive',
      'detail-type': 'ChunkPlanned',
      source: 'vectordb-catchup',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      account: '000000000000',
      detail: plan,
    };
    deadLetters.send(JSON.stringify(envelope));

    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetters.arn }));
    expect(deadLetters.messages()).toEqual([]);
    expect(await stack.waitForTask('redrive-1')).toMatchObject({ status: 'COMPLETED', records: { total: 2, processed: 2, failed: 0 } });
    expect(queue.stats.succeeded).toBeGreaterThanOrEqual(1);
  });

  it('names a source that is not one of its dead-letter queues', async () => {
    await expect(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:nowhere-dlq' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: expect.stringMatching(/is not a dead-letter queue of this runtime/),
    });
  });
});
