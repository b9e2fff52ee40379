/**
 * The durable message store: SQS visibility semantics, and what a store opened again on the same
 * file (a restart after a crash) finds: its messages, their receive counts, its dead letters.
 * Virtual clocks for every delay; each "restart" closes the database and opens it again, which
 * leaves the file exactly as a killed process would (every change is committed as it is made).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { openDurableState, type DurableState } from '../../../../local/durableState';
import { LocalQueue, type MessageStore } from '../../../../local/sqs';
import { newMessage } from '../../../../local/sqs/message';
import { MemoryMessageStore } from '../../../../local/sqs/messageStore';
import { deferred, until } from '../helpers';

let dataDir: string;
const opened: DurableState[] = [];

function open(): DurableState {
  const state = openDurableState(dataDir);
  opened.push(state);
  return state;
}

/** The process ends: the file stays as it is, the next open() is the restart. */
function crash(state: DurableState): void {
  opened.splice(opened.indexOf(state), 1);
  state.close();
}

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-queues-'));
});
afterEach(() => {
  jest.useRealTimers();
  opened.splice(0).forEach((state) => state.close());
  rmSync(dataDir, { recursive: true, force: true });
});

const message = (body: string) => newMessage('work', body, { kind: 'test' });
const bodies = (messages: { body: string }[]) => messages.map((m) => m.body);

/** A queue and its dead-letter queue in one file, message `a` received from the queue. */
function receivedWithDeadLetterQueue() {
  const state = open();
  const work = state.messageStore('work', () => undefined);
  const dlq = state.messageStore('work-dlq', () => undefined);
  work.add(message('a'));
  const [a] = work.receive(1, Date.now());
  return { state, work, dlq, a };
}

describe('SqliteMessageStore', () => {
  it('hides a received message until it is deleted or hidden, and shows a hidden one again when its delay is up', () => {
    jest.useFakeTimers();
    const onVisible = jest.fn();
    const store = open().messageStore('work', onVisible);
    ['a', 'b', 'c'].forEach((body) => store.add(message(body)));

    const first = store.receive(2, Date.now());
    expect(bodies(first)).toEqual(['a', 'b']);
    expect(first.map((m) => m.receiveCount)).toEqual([1, 1]);
    expect({ waiting: store.waiting, inFlight: store.inFlight, hidden: store.hidden }).toEqual({ waiting: 1, inFlight: 2, hidden: 0 });
    expect(bodies(store.receive(10, Date.now()))).toEqual(['c']);
    expect(store.receive(10, Date.now())).toEqual([]);

    store.delete([first[0]]);
    store.hide([first[1]], 1000);
    expect({ waiting: store.waiting, inFlight: store.inFlight, hidden: store.hidden }).toEqual({ waiting: 0, inFlight: 1, hidden: 1 });
    jest.advanceTimersByTime(999);
    expect(store.receive(10, Date.now())).toEqual([]);
    expect(onVisible).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(onVisible).toHaveBeenCalledTimes(1);
    const again = store.receive(10, Date.now());
    expect(bodies(again)).toEqual(['b']);
    expect(again[0].receiveCount).toBe(2);
    expect(bodies(store.list())).toEqual(['c', 'b']);
  });

  it('after a restart keeps what waited, shows what was in flight at once with its receive counted, and what was hidden when its time is up', () => {
    jest.useFakeTimers();
    const before = open();
    const store = before.messageStore('work', () => undefined);
    ['a', 'b', 'c', 'd'].forEach((body) => store.add(message(body)));
    const [a, b] = store.receive(2, Date.now());
    store.hide([b], 5000);
    crash(before);

    jest.advanceTimersByTime(1000);
    const after = open();
    const reopened = after.messageStore('work', () => undefined);
    expect(after.recoveredInFlight()).toEqual([{ queue: 'work', messages: 1 }]);
    expect({ waiting: reopened.waiting, inFlight: reopened.inFlight, hidden: reopened.hidden }).toEqual({
      waiting: 3,
      inFlight: 0,
      hidden: 1,
    });
    const delivered = reopened.receive(10, Date.now());
    expect(delivered.map((m) => [m.body, m.receiveCount])).toEqual([
      ['a', 2],
      ['c', 1],
      ['d', 1],
    ]);
    expect(delivered[0]).toMatchObject({ messageId: a.messageId, messageAttributes: { kind: 'test' }, sentTimestamp: a.sentTimestamp });
    expect(delivered[0].firstReceiveTimestamp).toBe(a.firstReceiveTimestamp);

    jest.advanceTimersByTime(3999);
    expect(reopened.receive(10, Date.now())).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(reopened.receive(10, Date.now()).map((m) => [m.body, m.receiveCount])).toEqual([['b', 2]]);
  });

  it('keeps each queue apart in the one table, a message keeping its id in a dead-letter queue', () => {
    const { state, work, dlq, a } = receivedWithDeadLetterQueue();
    state.atomically(() => {
      work.delete([a]);
      dlq.add({ ...a, deadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:work' });
    });
    crash(state);

    const again = open();
    expect(again.messageStore('work', () => undefined).list()).toEqual([]);
    expect(again.messageStore('work-dlq', () => undefined).list()).toEqual([
      expect.objectContaining({
        messageId: a.messageId,
        body: 'a',
        receiveCount: 1,
        deadLetterQueueSourceArn: expect.stringMatching(/:work$/),
      }),
    ]);
  });

  it('undoes the whole of a transaction that fails, counts included, across the queues of the file', () => {
    const { state, work, dlq, a } = receivedWithDeadLetterQueue();
    expect(() =>
      state.atomically(() => {
        work.delete([a]);
        dlq.add(a);
        throw new Error('the process dies here');
      }),
    ).toThrow('the process dies here');
    expect({ inFlight: work.inFlight, dlq: dlq.waiting }).toEqual({ inFlight: 1, dlq: 0 });
    crash(state);
    const again = open();
    expect(bodies(again.messageStore('work', () => undefined).receive(1, Date.now()))).toEqual(['a']);
    expect(again.messageStore('work-dlq', () => undefined).list()).toEqual([]);
  });
});

const consumer = { functionName: 'worker', batchSize: 1, maximumConcurrency: 5, timeout: 30 };
const quiet = { warn: jest.fn() };

/** A queue with its dead-letter queue on this start's durable state. */
function durableQueue(state: DurableState, maxReceiveCount: number) {
  const deadLetters = new LocalQueue({ name: 'work-dlq', messageStore: (onVisible) => state.messageStore('work-dlq', onVisible) });
  const queue = new LocalQueue({
    name: 'work',
    deadLetter: { queue: deadLetters, maxReceiveCount },
    retryDelayMs: () => 0,
    logger: quiet,
    messageStore: (onVisible) => state.messageStore('work', onVisible),
  });
  return { queue, deadLetters };
}

describe('LocalQueue on the durable store, across restarts', () => {
  it('counts receives across restarts: a message whose consumer died on its last receive goes to the dead-letter queue undelivered', async () => {
    const hung = deferred();
    for (let start = 1; start <= 2; start += 1) {
      const state = open();
      const { queue } = durableQueue(state, 2);
      if (start === 1) queue.send('poison');
      queue.consume(() => hung.promise, consumer);
      await until(() => queue.stats.received === 1);
      // The handler never answers; the process ends with the message in flight.
      await queue.stop({ graceMs: 0 });
      crash(state);
    }
    const state = open();
    const { queue, deadLetters } = durableQueue(state, 2);
    const delivered: SQSRecord[] = [];
    queue.consume(async (event) => void delivered.push(...event.Records), consumer);
    await until(() => deadLetters.messages().length === 1);
    expect(delivered).toEqual([]);
    expect(deadLetters.messages()).toEqual([
      expect.objectContaining({ body: 'poison', receiveCount: 3, deadLetterQueueSourceArn: queue.arn }),
    ]);
    expect(queue.messages()).toEqual([]);
    expect(queue.stats.deadLettered).toBe(1);
    expect(quiet.warn).toHaveBeenCalledWith(expect.stringMatching(/work: 1 message\(s\) already received 2 times .* dead-letter queue/));
    hung.resolve();
  });

  it('keeps a failed message in the dead-letter queue after a restart', async () => {
    const state = open();
    const { queue, deadLetters } = durableQueue(state, 2);
    queue.send('always fails');
    queue.consume(async () => {
      throw new Error('boom');
    }, consumer);
    await until(() => deadLetters.messages().length === 1);
    await queue.stop();
    crash(state);
    const { queue: again, deadLetters: dlqAgain } = durableQueue(open(), 2);
    expect(again.messages()).toEqual([]);
    expect(dlqAgain.messages()).toEqual([expect.objectContaining({ body: 'always fails', receiveCount: 2 })]);
  });
});

describe.each<[string, (state: DurableState) => (onVisible: () => void) => MessageStore]>([
  ['in memory', () => (onVisible) => new MemoryMessageStore(onVisible)],
  ['durable', (state) => (onVisible) => state.messageStore('work', onVisible)],
])('LocalQueue.stop with a grace period (%s)', (_, storeOf) => {
  it('lets running handlers finish within it, hands back the messages of those still running, and ignores their late answers', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'setImmediate', 'nextTick'] });
    const state = open();
    const queue = new LocalQueue({ name: 'work', logger: quiet, messageStore: storeOf(state) });
    const gates = { quick: deferred(), slow: deferred() };
    queue.consume((event) => gates[event.Records[0].body as 'quick' | 'slow'].promise, consumer);
    queue.send('quick');
    queue.send('slow');
    await until(() => queue.stats.received === 2);

    const stopping = queue.stop({ graceMs: 10_000 });
    gates.quick.resolve();
    await until(() => queue.stats.succeeded === 1);
    jest.advanceTimersByTime(10_000);
    expect(await stopping).toEqual({ inFlight: 2, finished: 1, handedBack: 1 });
    expect(queue.messages()).toEqual([expect.objectContaining({ body: 'slow', receiveCount: 1 })]);

    gates.slow.resolve();
    await until(() => queue.stats.inFlight === 0);
    expect(queue.stats.succeeded).toBe(1);
    expect(queue.messages()).toEqual([expect.objectContaining({ body: 'slow' })]);
  });
});

it('a durable queue, restarted after a stop, delivers what was handed back with its receive counted', async () => {
  const state = open();
  const queue = new LocalQueue({ name: 'work', logger: quiet, messageStore: (onVisible) => state.messageStore('work', onVisible) });
  const hung = deferred();
  queue.consume(() => hung.promise, consumer);
  queue.send('handed back');
  await until(() => queue.stats.received === 1);
  expect(await queue.stop({ graceMs: 0 })).toEqual({ inFlight: 1, finished: 0, handedBack: 1 });
  crash(state);

  const after = open();
  const again = new LocalQueue({ name: 'work', logger: quiet, messageStore: (onVisible) => after.messageStore('work', onVisible) });
  const seen: string[] = [];
  again.consume(
    async (event) => void seen.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`)),
    consumer,
  );
  await again.whenIdle();
  expect(seen).toEqual(['handed back#2']);
  expect(after.recoveredInFlight()).toEqual([]);
  hung.resolve();
});
