/** The content-hash items of incremental runs, against dynalite: what a retry and a re-run read back. */
import type { BatchWriteCommandInput, BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { createDynamoContentHashStore } from '../../../shared/adapters/dynamodb/contentHashStore';
import { ProviderUnavailableError } from '../../../shared/errors';
import type { ContentHashStore } from '../../../shared/ports';
import { useEmulators } from '../../helpers/emulators';

describe('DynamoDB content hash store (dynalite)', () => {
  const emulators = useEmulators('hashes-test');
  let hashes: ContentHashStore;

  beforeAll(() => {
    hashes = createDynamoContentHashStore(emulators().dynamo, 'hashes-test');
  });

  it('reads back each id’s hash with the task that upserted it and its tokens, across batches of 25 and 100', async () => {
    const entries = Array.from({ length: 260 }, (_, i) => ({ id: `id-${i}`, hash: `h${i}`, tokens: i + 1 }));
    await hashes.put('ns', entries, 'task-1');
    const found = await hashes.get('ns', [...entries.map((entry) => entry.id), 'never-stored']);
    expect(found.size).toBe(260);
    expect(found.get('id-0')).toEqual({ hash: 'h0', taskId: 'task-1', tokens: 1 });
    expect(found.get('id-259')).toEqual({ hash: 'h259', taskId: 'task-1', tokens: 260 });
    expect(found.has('never-stored')).toBe(false);
  });

  it('keeps namespaces apart, even where one name and id could spell another', async () => {
    await hashes.put('a#b', [{ id: 'c', hash: 'first', tokens: 1 }], 'task-1');
    await hashes.put('a', [{ id: 'b#c', hash: 'second', tokens: 1 }], 'task-2');
    expect((await hashes.get('a#b', ['c'])).get('c')?.hash).toBe('first');
    expect((await hashes.get('a', ['b#c'])).get('b#c')?.hash).toBe('second');
  });

  it('keeps the last of an id written twice in one call, and a later task’s write replaces an earlier one', async () => {
    await hashes.put('dup', [{ id: 'x', hash: 'old', tokens: 1 }, { id: 'x', hash: 'new', tokens: 2 }], 'task-1');
    expect((await hashes.get('dup', ['x'])).get('x')).toEqual({ hash: 'new', taskId: 'task-1', tokens: 2 });
    await hashes.put('dup', [{ id: 'x', hash: 'newer', tokens: 3 }], 'task-2');
    expect((await hashes.get('dup', ['x', 'x'])).get('x')).toEqual({ hash: 'newer', taskId: 'task-2', tokens: 3 });
  });

  describe('items DynamoDB leaves unprocessed (throttling)', () => {
    type Requests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];
    const MIDDLEWARE = 'leaveUnprocessed';
    let waits: number[];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };

    /** Before each BatchWrite, `leave(items)` picks what DynamoDB "leaves unprocessed"; the rest is written. */
    const throttle = (leave: (items: Requests) => Requests) => {
      const sent: number[] = [];
      emulators().dynamo.middlewareStack.add(
        (next) => async (args) => {
          const items = (args.input as BatchWriteCommandInput).RequestItems?.['hashes-test'];
          if (!Array.isArray(items)) return next(args);
          sent.push(items.length);
          const left = leave(items);
          const written = items.filter((item) => !left.includes(item));
          const nothingWritten = { response: {}, output: { $metadata: {} } };
          const result = written.length > 0 ? await next({ ...args, input: { RequestItems: { 'hashes-test': written } } }) : nothingWritten;
          const output = result.output as BatchWriteCommandOutput;
          return { ...result, output: { ...output, UnprocessedItems: left.length > 0 ? { 'hashes-test': left } : {} } };
        },
        { step: 'initialize', name: MIDDLEWARE },
      );
      return sent;
    };

    beforeEach(() => {
      waits = [];
    });
    afterEach(() => {
      emulators().dynamo.middlewareStack.remove(MIDDLEWARE);
    });

    it('resends exactly the unprocessed items, with growing backoff, until all are written', async () => {
      let throttled = 2;
      const sent = throttle((items) => (throttled-- > 0 ? items.slice(1) : []));
      const store = createDynamoContentHashStore(emulators().dynamo, 'hashes-test', sleep);

      await store.put('throttled', ['a', 'b', 'c'].map((id) => ({ id, hash: `h${id}`, tokens: 1 })), 'task-1');

      expect(sent).toEqual([3, 2, 1]);
      expect(waits).toHaveLength(2);
      expect(waits[0]).toBeGreaterThanOrEqual(100);
      expect(waits[0]).toBeLessThanOrEqual(200);
      expect(waits[1]).toBeGreaterThanOrEqual(200);
      expect(waits[1]).toBeLessThanOrEqual(400);
      expect([...(await store.get('throttled', ['a', 'b', 'c'])).keys()].sort()).toEqual(['a', 'b', 'c']);
    });

    it('gives up after its attempts with a ProviderUnavailableError, rather than dropping items', async () => {
      const sent = throttle((items) => items);
      const store = createDynamoContentHashStore(emulators().dynamo, 'hashes-test', sleep);

      const put = store.put('stuck', [{ id: 'x', hash: 'hx', tokens: 1 }], 'task-1');

      await expect(put).rejects.toThrow('DynamoDB left items unprocessed after 8 attempts');
      await expect(put).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(sent).toHaveLength(8);
      expect(waits).toHaveLength(7);
    });
  });
});
