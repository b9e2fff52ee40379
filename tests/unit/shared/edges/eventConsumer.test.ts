/**
 * The SQS consumer edge: work that would outlast the Lambda's timeout is abandoned in time for a
 * last attempt to report its failure, so that the task still ends. Time is jest's fake clock.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { createEventConsumer } from '../../../../shared/edges/eventConsumer';
import { DeadlineExceededError } from '../../../../shared/edges/sqsConsumer';
import type { ConsumerContext, Dependencies } from '../../../../shared/ports';
import { silentLogger } from '../../../helpers/fakes';

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

// The engine itself only logs; a handler under test would get the ports it declares.
const provide = async (): Promise<ConsumerContext> => ({
  deps: { logger: silentLogger } as Dependencies,
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

/** Runs the handler while the fake clock moves on in small steps, and says how much time passed. */
async function runFor<T>(work: Promise<T>): Promise<{ result: T; waited: number }> {
  const started = Date.now();
  let settled = false;
  void work.finally(() => (settled = true));
  while (!settled) await jest.advanceTimersByTimeAsync(10);
  return { result: await work, waited: Date.now() - started };
}

describe('createEventConsumer: the Lambda timeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('abandons hanging work before the timeout, keeping a reserve to report the last attempt', async () => {
    const { handler, finalFailures } = consumerThatHangs();
    // 3.3 s left: the reserve is 3 s (the floor), so the work gets about 0.3 s.
    const { result: response, waited } = await runFor(handler(sqsEvent(MAX_RECEIVES), lambdaContext(3300)));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(finalFailures).toHaveLength(1);
    expect(finalFailures[0]).toBeInstanceOf(DeadlineExceededError);
    expect(finalFailures[0].message).toMatch(/TaskRequested event-1 did not finish before its Lambda's timeout/);
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(3000);
  });

  it('leaves an earlier attempt to SQS to retry, without marking the task', async () => {
    const { handler, finalFailures } = consumerThatHangs();
    const { result: response } = await runFor(handler(sqsEvent(1), lambdaContext(3100)));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(finalFailures).toEqual([]);
  });

  it('lets work that finishes in time succeed', async () => {
    const handled: unknown[] = [];
    const handler = createEventConsumer({ eventName: 'TaskRequested', handle: async (received) => void handled.push(received) }, provide);
    const { result: response } = await runFor(handler(sqsEvent(1), lambdaContext(60_000)));
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual([detail]);
  });
});
