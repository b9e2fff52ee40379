/** The content-hash items of incremental runs, against dynalite: what a retry and a re-run read back. */
import { createDynamoContentHashStore } from '../../../shared/adapters/dynamodb/contentHashStore';
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
});
