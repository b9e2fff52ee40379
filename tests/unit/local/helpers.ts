/** Small test helpers for the local runtime: gates and event-loop turns, never wall-clock waits. */

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets the event loop run `turns` times, so anything already scheduled gets its chance. */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Waits, turn by turn, until `check` holds; gives up after `maxTurns` so a broken test fails instead of spinning. */
export async function until(check: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; !check(); turn += 1) {
    if (turn === maxTurns) throw new Error(`condition not reached after ${maxTurns} event-loop turns`);
    await turns(1);
  }
}

/** Keeps expected handler failures out of the test output. */
export const silentLogger = { warn: (): void => undefined };
