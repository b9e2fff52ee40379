/** Bounded concurrency for round trips that may overlap (upserts, batch reads and writes). Pure: no I/O of its own. */

/**
 * Runs `run` on the items, at most `limit` at once, starting none after one has failed; once all
 * started have settled, the first failure is thrown.
 */
export async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { reason: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      try {
        await run(items[next++]);
      } catch (reason) {
        failure ??= { reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.reason;
}
