/** Waiting until queues have nothing left to do, woken by their changes rather than by a polling timer. */

/** What waiting needs of a queue; LocalQueue is one. */
export interface Idling {
  /** Nothing left to do: no invocation running, no retry pending, nothing waiting for a poller. */
  isIdle(): boolean;
  /** The queue's state in a few words, for a timeout's message. */
  describe(): string;
}

/** Process-wide change counter of all queues, so waiting needs no polling timer. */
class Activity {
  version = 0;
  private waiters: (() => void)[] = [];

  bump(): void {
    this.version += 1;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Bumped by every queue on each change of its messages or invocations. */
export const activity = new Activity();

/**
 * Resolves once every queue is idle and stays so across a macrotask, so that work a settling
 * handler has just started (bus -> queue -> handler -> bus) is seen. With timeoutMs, rejects
 * naming the busy queues instead of hanging.
 */
export async function waitForIdle(queues: Iterable<Idling>, options: { timeoutMs?: number } = {}): Promise<void> {
  const all = [...queues];
  if (options.timeoutMs === undefined) return settle(all);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const busy = all.filter((queue) => !queue.isIdle()).map((queue) => queue.describe());
      reject(new Error(`queues not idle after ${options.timeoutMs} ms: ${busy.join('; ') || 'still changing'}`));
    }, options.timeoutMs);
  });
  try {
    await Promise.race([settle(all), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true once `condition` holds, checked on every queue change, or false after timeoutMs (unbounded when absent). */
export async function waitFor(condition: () => boolean, timeoutMs = Infinity): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    while (!condition()) if ((await Promise.race([activity.next().then(() => true), expired])) === false) return false;
    return true;
  } finally {
    clearTimeout(timer);
  }
}

async function settle(queues: Idling[]): Promise<void> {
  for (;;) {
    if (!queues.every((queue) => queue.isIdle())) {
      await activity.next();
      continue;
    }
    const version = activity.version;
    await new Promise((resolve) => setImmediate(resolve));
    if (activity.version === version && queues.every((queue) => queue.isIdle())) return;
  }
}
