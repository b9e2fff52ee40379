import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { LocalEventBus } from '../../../../local/eventBus';
import {
  defaultRetryDelayMs,
  LocalDeadLetterSink,
  LocalQueue,
  MAX_MESSAGE_BYTES,
  waitForIdle,
  type ConsumerOptions,
  type LocalQueueOptions,
  type SqsHandler,
} from '../../../../local/sqs';
import { deferred, silentLogger, turns, until, type Deferred } from '../helpers';

const created: LocalQueue[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((queue) => queue.stop()));
});

function newQueue(options: Partial<LocalQueueOptions> = {}): LocalQueue {
  const queue = new LocalQueue({ name: 'work', retryDelayMs: () => 0, logger: silentLogger, ...options });
  created.push(queue);
  return queue;
}

function consumer(overrides: Partial<ConsumerOptions> = {}): ConsumerOptions {
  return { functionName: 'worker', batchSize: 1, maximumConcurrency: 5, timeout: 30, ...overrides };
}

/** A handler that records every batch it gets (message bodies and receive counts). */
function recorder(answer: (records: SQSRecord[], call: number) => SQSBatchResponse | void = () => undefined) {
  const batches: SQSRecord[][] = [];
  const handler: SqsHandler = async (event: SQSEvent) => {
    batches.push(event.Records);
    return answer(event.Records, batches.length);
  };
  const seen = () => batches.map((records) => records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
  return { handler, batches, seen };
}

describe('LocalQueue delivery', () => {
  it('hands the handler Lambda SQS records and a Lambda context', async () => {
    const queue = newQueue({ name: 'chunks', region: 'eu-west-1' });
    let received: { event: SQSEvent; remaining: number; functionName: string } | undefined;
    queue.consume(
      async (event, context) => {
        received = { event, remaining: context.getRemainingTimeInMillis(), functionName: context.functionName };
      },
      consumer({ functionName: 'embedder', timeout: 300 }),
    );
    const before = Date.now();
    const id = queue.send('{"hello":"world"}', { reason: 'testing' });
    await queue.whenIdle();

    expect(received?.functionName).toBe('embedder');
    expect(received?.remaining).toBeGreaterThan(0);
    expect(received?.remaining).toBeLessThanOrEqual(300_000);
    const [record] = received!.event.Records;
    expect(record).toEqual({
      messageId: id,
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
      messageAttributes: {
        reason: { stringValue: 'testing', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      md5OfBody: 'fbc24bcc7a1794758fc1327fcfebdaf6',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:chunks',
      awsRegion: 'eu-west-1',
    });
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(record.attributes.SentTimestamp));
  });

  it('delivers batches of up to batchSize', async () => {
    const queue = newQueue();
    const { handler, batches } = recorder();
    for (let i = 0; i < 25; i += 1) queue.send(`m${i}`);
    queue.consume(handler, consumer({ batchSize: 10, maximumConcurrency: 2 }));
    await queue.whenIdle();
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(
      batches
        .flat()
        .map((record) => record.body)
        .sort(),
    ).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort());
    expect(queue.stats).toMatchObject({ sent: 25, received: 25, succeeded: 25, failed: 0 });
    expect(queue.messages()).toEqual([]);
  });

  it('runs every later invocation through a wrapper of the handler, and refuses one before a consumer is attached', async () => {
    const queue = newQueue();
    expect(() => queue.wrapHandler((handler) => handler)).toThrow(/no consumer to wrap/);
    const { handler, batches } = recorder();
    const wrapped: number[] = [];
    queue.consume(handler, consumer({ batchSize: 10 }));
    queue.wrapHandler((inner): SqsHandler => async (event, context) => {
      wrapped.push(event.Records.length);
      return inner(event, context);
    });
    ['a', 'b'].forEach((body) => queue.send(body));
    await queue.whenIdle();
    expect(wrapped).toEqual(batches.map((batch) => batch.length));
    expect(wrapped.reduce((sum, n) => sum + n, 0)).toBe(2);
  });

  it('rejects a message above 1 MB, attributes included', () => {
    const queue = newQueue();
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES))).not.toThrow();
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES + 1))).toThrow(/at most 1048576/);
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES - 10), { reason: 'long enough' })).toThrow(/at most 1048576/);
    expect(() => queue.send('')).toThrow(/non-empty/);
  });
});

describe('LocalQueue batch results (ReportBatchItemFailures)', () => {
  it('retries only the items the handler reports as failed', async () => {
    const queue = newQueue();
    const { handler, seen } = recorder((records, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: records[1].messageId }] } : undefined,
    );
    ['a', 'b', 'c'].forEach((body) => queue.send(body));
    queue.consume(handler, consumer({ batchSize: 10 }));
    await queue.whenIdle();
    expect(seen()).toEqual([['a#1', 'b#1', 'c#1'], ['b#2']]);
    expect(queue.stats).toMatchObject({ received: 4, succeeded: 3, failed: 1 });
  });

  it('retries the whole batch when the handler throws', async () => {
    const queue = newQueue();
    const { handler, seen } = recorder((_, call) => {
      if (call === 1) throw new Error('boom');
    });
    ['a', 'b', 'c'].forEach((body) => queue.send(body));
    queue.consume(handler, consumer({ batchSize: 10 }));
    await queue.whenIdle();
    expect(seen()).toEqual([
      ['a#1', 'b#1', 'c#1'],
      ['a#2', 'b#2', 'c#2'],
    ]);
    expect(queue.stats).toMatchObject({ received: 6, succeeded: 3, failed: 3 });
  });

  it.each<[string, (records: SQSRecord[]) => unknown]>([
    ['an unknown itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] })],
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a missing itemIdentifier', () => ({ batchItemFailures: [{ ItemIdentifier: 'x' }] })],
    [
      'one good and one unknown itemIdentifier',
      (records) => ({ batchItemFailures: [{ itemIdentifier: records[0].messageId }, { itemIdentifier: 'nope' }] }),
    ],
    ['batchItemFailures that is not a list', () => ({ batchItemFailures: 'all of them' })],
    ['an answer that is not an object', () => 'ok'],
  ])('fails the whole batch on %s', async (_, answer) => {
    const queue = newQueue();
    const { handler, seen } = recorder((records, call) => (call === 1 ? (answer(records) as SQSBatchResponse) : undefined));
    ['a', 'b'].forEach((body) => queue.send(body));
    queue.consume(handler, consumer({ batchSize: 10 }));
    await queue.whenIdle();
    expect(seen()).toEqual([
      ['a#1', 'b#1'],
      ['a#2', 'b#2'],
    ]);
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an empty batchItemFailures', { batchItemFailures: [] }],
    ['a null batchItemFailures', { batchItemFailures: null }],
  ])('deletes the whole batch when the handler answers %s', async (_, answer) => {
    const queue = newQueue();
    const { handler, seen } = recorder(() => answer as SQSBatchResponse);
    ['a', 'b'].forEach((body) => queue.send(body));
    queue.consume(handler, consumer({ batchSize: 10 }));
    await queue.whenIdle();
    expect(seen()).toEqual([['a#1', 'b#1']]);
    expect(queue.stats).toMatchObject({ succeeded: 2, failed: 0 });
  });
});

describe('LocalQueue retries and dead-lettering', () => {
  it('redelivers a failed message with an incremented ApproximateReceiveCount after retryDelayMs', async () => {
    const retryDelayMs = jest.fn(() => 1);
    const queue = newQueue({ retryDelayMs });
    const { handler, seen } = recorder((records, call) =>
      call < 3 ? { batchItemFailures: [{ itemIdentifier: records[0].messageId }] } : undefined,
    );
    const id = queue.send('a');
    queue.consume(handler, consumer());
    await queue.whenIdle();
    expect(seen()).toEqual([['a#1'], ['a#2'], ['a#3']]);
    expect(retryDelayMs.mock.calls).toEqual([[1], [2]]);
    expect(queue.stats).toMatchObject({ received: 3, failed: 2, succeeded: 1, deadLettered: 0 });
    expect(id).toEqual(expect.any(String));
  });

  it('keeps the message id but gives a new receipt handle on each receive', async () => {
    const queue = newQueue();
    const { handler, batches } = recorder((_, call) => {
      if (call === 1) throw new Error('again');
    });
    const id = queue.send('a');
    queue.consume(handler, consumer());
    await queue.whenIdle();
    const [first, second] = batches.map(([record]) => record);
    expect([first.messageId, second.messageId]).toEqual([id, id]);
    expect(first.receiptHandle).not.toBe(second.receiptHandle);
    expect(second.attributes.ApproximateFirstReceiveTimestamp).toBe(first.attributes.ApproximateFirstReceiveTimestamp);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlq = newQueue({ name: 'work-dlq' });
    const queue = newQueue({ deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    const { handler, seen } = recorder(() => {
      throw new Error('poison');
    });
    const id = queue.send('poison', { origin: 'test' });
    queue.send('also-poison');
    queue.consume(handler, consumer({ maximumConcurrency: 1 }));
    await waitForIdle([queue, dlq]);

    expect(
      seen()
        .flat()
        .filter((entry) => entry.startsWith('poison#')),
    ).toEqual(['poison#1', 'poison#2', 'poison#3']);
    expect(queue.messages()).toEqual([]);
    expect(queue.stats).toMatchObject({ received: 6, failed: 6, succeeded: 0, deadLettered: 2 });
    expect(dlq.messages()).toEqual([
      {
        messageId: id,
        body: 'poison',
        messageAttributes: { origin: 'test' },
        receiveCount: 3,
        sentTimestamp: expect.any(Number),
        deadLetterQueueSourceArn: queue.arn,
      },
      expect.objectContaining({ body: 'also-poison', receiveCount: 3 }),
    ]);
    expect(dlq.stats.sent).toBe(2);
  });

  it('retries forever without a redrive policy, as SQS does', async () => {
    const queue = newQueue();
    const { handler, seen } = recorder((_, call) => {
      if (call < 12) throw new Error('flaky');
    });
    queue.send('a');
    queue.consume(handler, consumer());
    await queue.whenIdle();
    expect(seen()).toHaveLength(12);
    expect(queue.stats.succeeded).toBe(1);
  });

  it('fails a batch whose handler outlives the timeout, without killing it or freeing its slot', async () => {
    const queue = newQueue();
    const retried = deferred();
    const calls: { receiveCount: string; inFlightAtStart: number }[] = [];
    queue.consume(
      async (event) => {
        calls.push({
          receiveCount: event.Records[0].attributes.ApproximateReceiveCount,
          inFlightAtStart: queue.stats.inFlight,
        });
        if (calls.length === 1)
          await retried.promise; // stuck until the retry has started
        else retried.resolve();
      },
      consumer({ timeout: 0.01, maximumConcurrency: 2 }),
    );
    queue.send('slow');
    await queue.whenIdle();

    expect(calls).toEqual([
      { receiveCount: '1', inFlightAtStart: 1 },
      { receiveCount: '2', inFlightAtStart: 2 }, // the timed-out invocation still holds its slot
    ]);
    // The late success of the first invocation is ignored: it had already failed.
    expect(queue.stats).toMatchObject({ received: 2, failed: 1, succeeded: 1, maxInFlight: 2 });
  });

  it('backs off exponentially by default, capped at 5 s', () => {
    expect([1, 2, 3, 4, 7, 8, 20].map(defaultRetryDelayMs)).toEqual([50, 100, 200, 400, 3200, 5000, 5000]);
  });
});

describe('LocalQueue concurrency', () => {
  it('never runs more than maximumConcurrency invocations at once, and uses all of them', async () => {
    const queue = newQueue();
    const gates: Deferred[] = [];
    let running = 0;
    let mostRunning = 0;
    queue.consume(
      async () => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        running -= 1;
      },
      consumer({ maximumConcurrency: 5 }),
    );
    for (let i = 0; i < 20; i += 1) queue.send(`m${i}`);

    await until(() => gates.length === 5);
    await turns(); // a sixth invocation would have started by now
    expect(gates).toHaveLength(5);
    expect(queue.stats.inFlight).toBe(5);

    gates[0].resolve();
    await until(() => gates.length === 6); // one finished, exactly one more starts
    await turns();
    expect(gates).toHaveLength(6);

    // Release every invocation, including those that start meanwhile.
    while (queue.stats.succeeded < 20) {
      gates.splice(0).forEach((gate) => gate.resolve());
      await turns(1);
    }
    await queue.whenIdle();
    expect(mostRunning).toBe(5);
    expect(queue.stats).toMatchObject({ succeeded: 20, maxInFlight: 5, inFlight: 0 });
  });
});

describe('waitForIdle and stop', () => {
  it('waits for the whole chain bus -> queue -> handler -> bus -> queue, retries included', async () => {
    const bus = new LocalEventBus();
    const first = newQueue({ name: 'first', retryDelayMs: () => 5 });
    const second = newQueue({ name: 'second', retryDelayMs: () => 5 });
    bus.addRule('to-first', { 'detail-type': ['Start'] }, first);
    bus.addRule('to-second', { 'detail-type': ['Next'] }, second);
    const finished: string[] = [];
    first.consume(async (event) => {
      await bus.publish(event.Records.map(() => ({ detailType: 'Next', source: 'test', detail: {} })));
    }, consumer());
    second.consume(async (event) => {
      if (event.Records[0].attributes.ApproximateReceiveCount === '1') throw new Error('first try fails');
      finished.push('second');
    }, consumer());

    await bus.publish([{ detailType: 'Start', source: 'test', detail: {} }]);
    await waitForIdle([first, second]);
    expect(finished).toEqual(['second']);
    expect(second.stats).toMatchObject({ received: 2, failed: 1, succeeded: 1 });
  });

  it('sees work a handler starts just as it returns', async () => {
    const first = newQueue({ name: 'first' });
    const second = newQueue({ name: 'second' });
    const { handler, batches } = recorder();
    first.consume(async () => {
      setImmediate(() => second.send('late'));
    }, consumer());
    second.consume(handler, consumer());
    first.send('go');
    await waitForIdle([first, second]);
    expect(batches).toHaveLength(1);
  });

  it('rejects with the busy queues when a timeout is given and work never ends', async () => {
    const queue = newQueue({ name: 'stuck' });
    const gate = deferred();
    queue.consume(() => gate.promise, consumer());
    queue.send('a');
    await expect(waitForIdle([queue], { timeoutMs: 20 })).rejects.toThrow(/stuck: 0 waiting, 1 in flight \(1 invocations\)/);
    gate.resolve();
    await queue.whenIdle();
  });

  it('stop() waits for running handlers and then delivers nothing more', async () => {
    const queue = newQueue();
    const gate = deferred();
    const { handler, batches } = recorder();
    queue.consume(
      async (event, context) => {
        await handler(event, context);
        await gate.promise;
      },
      consumer({ maximumConcurrency: 1 }),
    );
    queue.send('a');
    queue.send('b');
    await until(() => batches.length === 1);

    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await turns();
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;

    queue.send('c');
    await turns();
    expect(batches).toHaveLength(1);
    expect(queue.isIdle()).toBe(true);
    expect(queue.messages().map((message) => message.body)).toEqual(['b', 'c']);
  });
});

describe('LocalDeadLetterSink', () => {
  it('writes the body to the dead-letter queue with the reason as a message attribute', async () => {
    const dlq = newQueue({ name: 'work-dlq' });
    await new LocalDeadLetterSink(dlq).send('{"bad":true}', 'InvalidEventError: detail.taskId is required');
    expect(dlq.messages()).toEqual([
      expect.objectContaining({
        body: '{"bad":true}',
        messageAttributes: { reason: 'InvalidEventError: detail.taskId is required' },
        receiveCount: 0,
      }),
    ]);
  });
});
