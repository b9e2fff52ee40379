import {
  assertSupportedPattern,
  EventBusValidationError,
  LocalEventBus,
  matchesPattern,
  MAX_ENTRY_BYTES,
  type EventEnvelope,
} from '../../../local/eventBus';
import { LocalQueue } from '../../../local/sqs';
import { eventPatternFor, loadWiring, type EventPattern } from '../../../infra/wiring';

const SOURCE = 'vectordb-catchup';

describe('matchesPattern', () => {
  const event = {
    'detail-type': 'ChunkPlanned',
    source: SOURCE,
    resources: ['arn:a', 'arn:b'],
    detail: {
      taskId: 't-1',
      dataSource: 's3_csv',
      chunk: { index: 3, last: false, note: null },
      key: 'incoming/a.csv',
    },
  };

  it.each<[string, EventPattern, boolean]>([
    ['one exact top-level value', { 'detail-type': ['ChunkPlanned'] }, true],
    ['any of several values', { 'detail-type': ['TaskRequested', 'ChunkPlanned'] }, true],
    ['a value not listed', { 'detail-type': ['TaskRequested'] }, false],
    ['every field (AND)', { 'detail-type': ['ChunkPlanned'], source: ['elsewhere'] }, false],
    ['a nested detail value', { detail: { chunk: { index: [3] } } }, true],
    ['numbers by type, not text', { detail: { chunk: { index: ['3'] } } }, false],
    ['booleans', { detail: { chunk: { last: [false] } } }, true],
    ['null against a null field', { detail: { chunk: { note: [null] } } }, true],
    ['null against a missing field', { detail: { chunk: { missing: [null] } } }, false],
    ['a missing field', { detail: { absent: ['x'] } }, false],
    ['a prefix', { detail: { key: [{ prefix: 'incoming/' }] } }, true],
    ['a prefix that does not match', { detail: { key: [{ prefix: 'outgoing/' }] } }, false],
    ['a prefix found only inside the value', { detail: { key: [{ prefix: 'a.csv' }] } }, false],
    ['a prefix against a number', { detail: { chunk: { index: [{ prefix: '3' }] } } }, false],
    ['any element of an array field', { resources: ['arn:b'] }, true],
    ['no element of an array field', { resources: ['arn:c'] }, false],
    ['an object where a value is expected', { detail: { chunk: ['x'] } }, false],
    ['a nested pattern against a scalar', { source: { inner: ['x'] } }, false],
  ])('matches %s: %j -> %s', (_, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe('assertSupportedPattern', () => {
  it.each<[string, unknown]>([
    ['an operator we do not implement', { 'detail-type': [{ 'anything-but': 'x' }] }],
    ['prefix with another key', { source: [{ prefix: 'a', suffix: 'b' }] }],
    ['an empty value list', { source: [] }],
    ['an empty pattern', {}],
    ['an empty nested pattern', { detail: {} }],
  ])('rejects %s', (_, pattern) => {
    expect(() => assertSupportedPattern(pattern as EventPattern)).toThrow(EventBusValidationError);
  });

  it('is applied when a rule is added', () => {
    const bus = new LocalEventBus();
    expect(() => bus.addRule('r', { source: [{ wildcard: '*' }] } as unknown as EventPattern, new LocalQueue({ name: 'q' }))).toThrow(
      /unsupported matcher/,
    );
  });
});

/** The bus with one consumer-less queue per event-triggered consumer of the real wiring.yml. */
function busFromWiring(): { bus: LocalEventBus; queues: Record<string, LocalQueue> } {
  const wiring = loadWiring();
  const bus = new LocalEventBus();
  const queues: Record<string, LocalQueue> = {};
  for (const consumer of Object.values(wiring.consumers)) {
    const pattern = eventPatternFor(consumer, wiring.eventSource);
    if (!pattern) continue;
    queues[consumer.name] = new LocalQueue({ name: consumer.name });
    bus.addRule(consumer.name, pattern, queues[consumer.name]);
  }
  return { bus, queues };
}

function depths(queues: Record<string, LocalQueue>): Record<string, number> {
  return Object.fromEntries(Object.entries(queues).map(([name, queue]) => [name, queue.messages().length]));
}

describe('LocalEventBus routing with infra/wiring.yml', () => {
  it.each([
    ['TaskRequested from us', 'TaskRequested', SOURCE, 'planner'],
    ['TaskRequested from another system', 'TaskRequested', 'billing-service', 'planner'],
    ['ChunkPlanned from us', 'ChunkPlanned', SOURCE, 'embedder'],
    ['ChunkEmbedded from us', 'ChunkEmbedded', SOURCE, 'aggregator'],
    ['ChunkPlanned from an outsider (internal)', 'ChunkPlanned', 'billing-service', undefined],
    ['ChunkEmbedded from an outsider (internal)', 'ChunkEmbedded', 'billing-service', undefined],
    ['SyncStepRequested from us', 'SyncStepRequested', SOURCE, 'syncer'],
    ['SyncStepRequested from an outsider (internal)', 'SyncStepRequested', 'billing-service', undefined],
    ['TaskCompleted (no consumer)', 'TaskCompleted', SOURCE, undefined],
    ['TaskRetryRequested from another system', 'TaskRetryRequested', 'billing-service', 'retrier'],
  ])('routes %s', async (_, detailType, source, target) => {
    const { bus, queues } = busFromWiring();
    await bus.publish([{ detailType, source, detail: { taskId: 't-1' } }]);
    const expected = {
      planner: 0,
      embedder: 0,
      aggregator: 0,
      executionEnded: 0,
      syncer: 0,
      retrier: 0,
      ...(target ? { [target]: 1 } : {}),
    };
    expect(depths(queues)).toEqual(expected);
    expect(bus.published().map((event) => event['detail-type'])).toEqual([detailType]);
  });
});

describe('LocalEventBus envelope', () => {
  it('writes the SQS body exactly as EventBridge delivers it', async () => {
    const bus = new LocalEventBus({ region: 'eu-west-1', now: () => new Date('2026-03-04T05:06:07.891Z') });
    const queue = new LocalQueue({ name: 'q' });
    bus.addRule('all', { source: [SOURCE] }, queue);
    await bus.publish([{ detailType: 'ChunkPlanned', source: SOURCE, detail: { taskId: 't-1', nested: { n: 1 } } }]);

    const body = queue.messages()[0].body;
    const envelope = JSON.parse(body) as EventEnvelope;
    expect(Object.keys(envelope)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    expect(envelope).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'detail-type': 'ChunkPlanned',
      source: SOURCE,
      account: '000000000000',
      time: '2026-03-04T05:06:07Z',
      region: 'eu-west-1',
      resources: [],
      detail: { taskId: 't-1', nested: { n: 1 } },
    });
    expect(bus.published()).toEqual([envelope]);
  });

  it('gives every target of one event the same event id, and each event its own', async () => {
    const bus = new LocalEventBus();
    const first = new LocalQueue({ name: 'first' });
    const second = new LocalQueue({ name: 'second' });
    bus.addRule('first', { 'detail-type': ['A'] }, first);
    bus.addRule('second', { source: [SOURCE] }, second);
    await bus.publish([
      { detailType: 'A', source: SOURCE, detail: {} },
      { detailType: 'B', source: SOURCE, detail: {} },
    ]);
    const ids = (queue: LocalQueue) => queue.messages().map((message) => (JSON.parse(message.body) as EventEnvelope).id);
    expect(ids(first)).toHaveLength(1);
    expect(ids(second)).toHaveLength(2);
    expect(ids(second)[0]).toBe(ids(first)[0]);
    expect(ids(second)[1]).not.toBe(ids(second)[0]);
  });
});

describe('LocalEventBus limits', () => {
  function busWithQueue(): { bus: LocalEventBus; queue: LocalQueue } {
    const bus = new LocalEventBus();
    const queue = new LocalQueue({ name: 'q' });
    bus.addRule('all', { source: [SOURCE] }, queue);
    return { bus, queue };
  }
  /** A detail whose entry is `size` bytes: source + detail-type + detail JSON. */
  function detailOfEntrySize(size: number, source = SOURCE): { text: string } {
    const overhead = source.length + 'T'.length + JSON.stringify({ text: '' }).length;
    return { text: 'x'.repeat(size - overhead) };
  }

  it('accepts an entry of exactly 1 MB and rejects one byte more, delivering nothing of that call', async () => {
    const { bus, queue } = busWithQueue();
    await bus.publish([{ detailType: 'T', source: 'unrouted', detail: detailOfEntrySize(MAX_ENTRY_BYTES, 'unrouted') }]);
    expect(bus.published()).toHaveLength(1);

    const call = bus.publish([
      { detailType: 'T', source: SOURCE, detail: { small: true } },
      { detailType: 'T', source: 'unrouted', detail: detailOfEntrySize(MAX_ENTRY_BYTES + 1, 'unrouted') },
    ]);
    await expect(call).rejects.toThrow(EventBusValidationError);
    await expect(call).rejects.toThrow(/at most 1048576 per entry/);
    expect(queue.messages()).toHaveLength(0);
    expect(bus.published()).toHaveLength(1);
  });

  it('rejects a routed event whose envelope would not fit in an SQS message, delivering nothing of that call', async () => {
    const { bus, queue } = busWithQueue();
    const call = bus.publish([
      { detailType: 'T', source: SOURCE, detail: { small: true } },
      { detailType: 'T', source: SOURCE, detail: detailOfEntrySize(MAX_ENTRY_BYTES) },
    ]);
    await expect(call).rejects.toThrow(/as an SQS message body; SQS accepts at most 1048576/);
    expect(queue.messages()).toHaveLength(0);
    expect(bus.published()).toHaveLength(0);
  });

  it('counts multi-byte characters as UTF-8 bytes', async () => {
    const { bus } = busWithQueue();
    const detail = detailOfEntrySize(MAX_ENTRY_BYTES, 'unrouted');
    detail.text = `é${detail.text.slice(1)}`; // same length in characters, one byte more
    await expect(bus.publish([{ detailType: 'T', source: 'unrouted', detail }])).rejects.toThrow(/per entry/);
  });

  it.each<[string, unknown]>([
    ['an array', [1]],
    ['a string', 'text'],
    ['null', null],
  ])('rejects a detail that is %s', async (_, detail) => {
    const { bus, queue } = busWithQueue();
    await expect(bus.publish([{ detailType: 'T', source: SOURCE, detail }])).rejects.toThrow(/must be a JSON object/);
    expect(queue.messages()).toHaveLength(0);
  });

  it('accepts any number of events through publish', async () => {
    const { bus, queue } = busWithQueue();
    await bus.publish(Array.from({ length: 25 }, (_, i) => ({ detailType: 'T', source: SOURCE, detail: { i } })));
    expect(queue.messages()).toHaveLength(25);
  });
});

describe('LocalEventBus.putEvents', () => {
  const entry = (i: number) => ({ Source: SOURCE, DetailType: 'T', Detail: JSON.stringify({ i }) });
  function busWithQueue(): { bus: LocalEventBus; queue: LocalQueue } {
    const bus = new LocalEventBus();
    const queue = new LocalQueue({ name: 'q' });
    bus.addRule('all', { source: [SOURCE] }, queue);
    return { bus, queue };
  }
  const delivered = (queue: LocalQueue) => queue.messages().map((message) => (JSON.parse(message.body) as EventEnvelope).detail);

  it('takes at most 10 entries, like PutEvents', async () => {
    const { bus, queue } = busWithQueue();
    await expect(bus.putEvents({ Entries: Array.from({ length: 11 }, (_, i) => entry(i)) })).rejects.toThrow(/1 to 10 entries/);
    expect(queue.messages()).toHaveLength(0);
  });

  it('rejects a request whose entries together exceed 1 MB', async () => {
    const { bus } = busWithQueue();
    const half = JSON.stringify({ text: 'x'.repeat(MAX_ENTRY_BYTES / 2) });
    const big = { Source: SOURCE, DetailType: 'T', Detail: half };
    await expect(bus.putEvents({ Entries: [big, big] })).rejects.toThrow(/over the limit/);
  });

  it('honours Time and Resources in the envelope', async () => {
    const { bus, queue } = busWithQueue();
    await bus.putEvents({
      Entries: [{ ...entry(1), Time: new Date('2026-01-02T03:04:05.678Z'), Resources: ['arn:x'] }],
    });
    expect(JSON.parse(queue.messages()[0].body)).toMatchObject({ time: '2026-01-02T03:04:05Z', resources: ['arn:x'] });
  });

  it('answers failNextEntries with per-entry errors and delivers only the other entries', async () => {
    const { bus, queue } = busWithQueue();
    bus.failNextEntries(2);
    const first = await bus.putEvents({ Entries: [entry(1), entry(2), entry(3)] });
    expect(first.FailedEntryCount).toBe(2);
    expect(first.Entries?.map((result) => result.ErrorCode ?? 'ok')).toEqual(['InternalFailure', 'InternalFailure', 'ok']);
    expect(first.Entries?.[2].EventId).toBe((JSON.parse(queue.messages()[0].body) as EventEnvelope).id);
    expect(delivered(queue)).toEqual([{ i: 3 }]);

    const resent = await bus.putEvents({ Entries: [entry(1), entry(2)] });
    expect(resent.FailedEntryCount).toBe(0);
    expect(delivered(queue)).toEqual([{ i: 3 }, { i: 1 }, { i: 2 }]);
  });

  it('never lets failNextEntries make publish lose an event', async () => {
    const { bus, queue } = busWithQueue();
    bus.failNextEntries(1);
    await bus.publish([{ detailType: 'T', source: SOURCE, detail: { i: 1 } }]);
    expect(delivered(queue)).toEqual([{ i: 1 }]);
    // The injected failure is still pending for putEvents: publish did not consume it.
    expect((await bus.putEvents({ Entries: [entry(2)] })).FailedEntryCount).toBe(1);
  });

  it('rejects a Detail that is not a JSON object', async () => {
    const { bus } = busWithQueue();
    await expect(bus.putEvents({ Entries: [{ Source: SOURCE, DetailType: 'T', Detail: '[1]' }] })).rejects.toThrow(/not a JSON object/);
  });
});
