/** The fingerprint items of incremental runs and full syncs, against dynalite: what a retry, a re-run and a sync read back. */
import type { BatchWriteCommandInput, BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { createDynamoContentHashStore } from '../../../../../shared/adapters/dynamodb/contentHashStore';
import { ProviderUnavailableError } from '../../../../../shared/errors';
import type { ContentHashStore, VectorStateEntry } from '../../../../../shared/ports';
import { useEmulators } from '../../../../helpers/emulators';
import { recordingLogger } from '../../../../helpers/fakes';

describe('DynamoDB content hash store (dynalite)', () => {
  const emulators = useEmulators('hashes-test');
  let hashes: ContentHashStore;

  beforeAll(() => {
    hashes = createDynamoContentHashStore(emulators().dynamo, 'hashes-test');
  });

  const entry = (id: string, overrides: Partial<VectorStateEntry> = {}): VectorStateEntry => ({
    id,
    inputHash: `i-${id}`,
    metadataHash: `m-${id}`,
    dataset: 'catalog',
    tokens: 1,
    write: 'embed',
    ...overrides,
  });

  it('reads back each id’s fingerprints with the task that wrote it, how, and its tokens, across batches of 25 and 100', async () => {
    const entries = Array.from({ length: 260 }, (_, i) => entry(`id-${i}`, { tokens: i + 1 }));
    await hashes.put('ns', entries, 'task-1');
    const found = await hashes.get('ns', [...entries.map(({ id }) => id), 'never-stored']);
    expect(found.size).toBe(260);
    expect(found.get('id-0')).toEqual({
      inputHash: 'i-id-0',
      metadataHash: 'm-id-0',
      dataset: 'catalog',
      taskId: 'task-1',
      write: 'embed',
      tokens: 1,
    });
    expect(found.get('id-259')).toMatchObject({ inputHash: 'i-id-259', taskId: 'task-1', tokens: 260 });
    expect(found.has('never-stored')).toBe(false);
  });

  it('keeps namespaces apart, even where one name and id could spell another', async () => {
    await hashes.put('a#b', [entry('c', { inputHash: 'first' })], 'task-1');
    await hashes.put('a', [entry('b#c', { inputHash: 'second' })], 'task-2');
    expect((await hashes.get('a#b', ['c'])).get('c')?.inputHash).toBe('first');
    expect((await hashes.get('a', ['b#c'])).get('b#c')?.inputHash).toBe('second');
  });

  it('keeps the last of an id written twice in one call, and a later task’s write replaces an earlier one', async () => {
    await hashes.put('dup', [entry('x', { inputHash: 'old' }), entry('x', { inputHash: 'new', tokens: 2 })], 'task-1');
    expect((await hashes.get('dup', ['x'])).get('x')).toMatchObject({ inputHash: 'new', taskId: 'task-1', tokens: 2 });
    await hashes.put('dup', [entry('x', { inputHash: 'newer', write: 'metadata', tokens: 3 })], 'task-2');
    expect((await hashes.get('dup', ['x', 'x'])).get('x')).toMatchObject({
      inputHash: 'newer',
      taskId: 'task-2',
      write: 'metadata',
      tokens: 3,
    });
  });

  it('pages through a dataset in id order, with what each full sync saw, and nothing of other datasets or namespaces', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `sku-${String(i).padStart(3, '0')}`);
    await hashes.put(
      'shop',
      ids.slice(0, 10).map((id) => entry(id)),
      'sync-1',
      { seen: true },
    );
    await hashes.put(
      'shop',
      ids.slice(10).map((id) => entry(id)),
      'task-0',
    );
    await hashes.put('shop', [entry('other', { dataset: 'archive' })], 'task-0');
    await hashes.put('elsewhere', [entry('sku-000')], 'task-0');
    const stored = await hashes.get('shop', ids.slice(10, 12));
    await hashes.markSeen(
      'shop',
      [...stored].map(([id, vector]) => ({ ...vector, id })),
      'sync-1',
    );

    const pages: { id: string; seenBy?: string }[][] = [];
    let cursor: string | undefined;
    do {
      const page = await hashes.scanDataset('shop', 'catalog', { cursor, limit: 10 });
      pages.push(page.entries);
      cursor = page.cursor;
    } while (cursor);
    const all = pages.flat();
    expect(pages[0]).toHaveLength(10);
    expect(all.map(({ id }) => id)).toEqual(ids);
    expect(all.filter(({ seenBy }) => seenBy === 'sync-1').map(({ id }) => id)).toEqual(ids.slice(0, 12));
    // Marking seen changes nothing else.
    expect((await hashes.get('shop', ['sku-010'])).get('sku-010')).toMatchObject({
      inputHash: 'i-sku-010',
      taskId: 'task-0',
      seenBy: 'sync-1',
    });
  });

  it('deletes fingerprints, and marks tombstone deletions out of every dataset but readable by the task that made them', async () => {
    await hashes.put('gone', [entry('a'), entry('b'), entry('c')], 'task-0');
    await hashes.delete('gone', ['a']);
    await hashes.markDeleted('gone', ['b'], 'task-1');
    const found = await hashes.get('gone', ['a', 'b', 'c']);
    expect(found.has('a')).toBe(false);
    expect(found.get('b')).toMatchObject({ write: 'delete', taskId: 'task-1', inputHash: '' });
    const page = await hashes.scanDataset('gone', 'catalog', { limit: 10 });
    expect(page.entries.map(({ id }) => id)).toEqual(['c']);
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
      const logger = recordingLogger();
      const store = createDynamoContentHashStore(emulators().dynamo, 'hashes-test', { sleep, logger });

      await store.put(
        'throttled',
        ['a', 'b', 'c'].map((id) => entry(id)),
        'task-1',
      );

      expect(sent).toEqual([3, 2, 1]);
      expect(waits).toHaveLength(2);
      expect(waits[0]).toBeGreaterThanOrEqual(100);
      expect(waits[0]).toBeLessThanOrEqual(200);
      expect(waits[1]).toBeGreaterThanOrEqual(200);
      expect(waits[1]).toBeLessThanOrEqual(400);
      expect(logger.entries.map(({ level, message }) => `${level} ${message}`)).toEqual(
        Array(2).fill('warn DynamoDB BatchWriteItem of content hashes failed; retrying'),
      );
      expect([...(await store.get('throttled', ['a', 'b', 'c'])).keys()].sort()).toEqual(['a', 'b', 'c']);
    });

    it('gives up after its attempts with a ProviderUnavailableError, rather than dropping items', async () => {
      const sent = throttle((items) => items);
      const store = createDynamoContentHashStore(emulators().dynamo, 'hashes-test', { sleep });

      const put = store.put('stuck', [entry('x')], 'task-1');

      await expect(put).rejects.toThrow('DynamoDB left items unprocessed after 8 attempts');
      await expect(put).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(sent).toHaveLength(8);
      expect(waits).toHaveLength(7);
    });
  });
});
