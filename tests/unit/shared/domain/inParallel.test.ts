/** Bounded concurrency: never more than the limit at once, every item run, none started after a failure. */
import { inParallel } from '../../../../shared/domain/inParallel';

/** Runs that end on a later turn (or fail at once), noting which started and how many ran at once. */
function tracked(fail?: (item: number) => boolean) {
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const run = async (item: number) => {
    started.push(item);
    most = Math.max(most, ++running);
    // A failing item fails at once; the others end on a later turn.
    if (fail?.(item)) {
      running -= 1;
      throw new Error(`item ${item} failed`);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    running -= 1;
  };
  return { started, run, most: () => most };
}

describe('inParallel', () => {
  it('runs every item, at most `limit` at once', async () => {
    const work = tracked();
    await inParallel([1, 2, 3, 4, 5, 6, 7], 3, work.run);
    expect(work.started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(work.most()).toBe(3);
  });

  it('starts nothing after a failure, lets the started ones settle, then throws the first failure', async () => {
    const work = tracked((item) => item === 2 || item === 3);
    await expect(inParallel([1, 2, 3, 4, 5, 6], 3, work.run)).rejects.toThrow('item 2 failed');
    expect(work.started).toEqual([1, 2, 3]);
  });

  it('does nothing for no items', async () => {
    const work = tracked();
    await inParallel([], 4, work.run);
    expect(work.started).toEqual([]);
  });
});
