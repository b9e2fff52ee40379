/**
 * The SQS consumer edge: work that would outlast the Lambda's timeout is abandoned in time for a
 * last attempt to report its failure, so that the task still ends.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import type { ConsumerContext, Dependencies } from '../../../shared/dependencies';
import { createEventConsumer, DeadlineExceededError } from '../../../shared/handlers/eventConsumer';

const detail = { schemaVersion: 1, taskId: 'run-1', source: { type: 's3_csv', key: 'a.csv' } };
const MAX_RECEIVES = 5;

function sqsEvent(receiveCount: number): SQSEvent {
  const body = JSON.stringify({ id: 'event-1', source: 'test', 'detail-type': 'TaskRequested', detail });
  return { Records: [{ messageId: 'm1', body, attributes: { ApproximateReceiveCount: String(receiveCount) } }] } as unknown as SQSEvent;
}

function lambdaContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const provide = async (): Promise<ConsumerContext> => ({
  deps: { logger: silent } as unknown as Dependencies,
  maxReceiveCount: MAX_RECEIVES,
  deadLetters: { send: async () => undefined },
});

function consumerThatHangs() {
  const finalFailures: Error[] = [];
  const handler = createEventConsumer(
    {
      eventName: 'TaskRequested',
      handle: () => new Promise<void>(() => undefined),
      onFinalFailure: async (_detail, error) => void finalFailures.push(error),
    },
    provide,
  );
  return { handler, finalFailures };
}

describe('createEventConsumer: the Lambda timeout', () => {
  it('abandons hanging work before the timeout, keeping a reserve to report the last attempt', async () => {
    const { handler, finalFailures } = consumerThatHangs();
    // 3.3 s left: the reserve is 3 s (the floor), so the work gets about 0.3 s.
    const started = Date.now();
    const response = await handler(sqsEvent(MAX_RECEIVES), lambdaContext(3300));
    const waited = Date.now() - started;

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(finalFailures).toHaveLength(1);
    expect(finalFailures[0]).toBeInstanceOf(DeadlineExceededError);
    expect(finalFailures[0].message).toMatch(/TaskRequested event-1 did not finish before its Lambda's timeout/);
    expect(waited).toBeLessThan(3000);
  });

  it('leaves an earlier attempt to SQS to retry, without marking the task', async () => {
    const { handler, finalFailures } = consumerThatHangs();
    const response = await handler(sqsEvent(1), lambdaContext(3100));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(finalFailures).toEqual([]);
  });

  it('lets work that finishes in time succeed', async () => {
    const handled: unknown[] = [];
    const handler = createEventConsumer({ eventName: 'TaskRequested', handle: async (received) => void handled.push(received) }, provide);
    const response = await handler(sqsEvent(1), lambdaContext(60_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual([detail]);
  });
});
