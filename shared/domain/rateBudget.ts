/**
 * Paces embedding requests so that all parallel consumers together stay within the configured
 * requests per second: each of N consumers spaces its own requests N/rate seconds apart.
 */
export interface RequestPacer {
  /** Resolves when the next request may be sent. */
  acquire(): Promise<void>;
}

export interface PacerOptions {
  requestsPerSecond: number;
  /** How many consumers share the budget. */
  consumers: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function createRequestPacer({ requestsPerSecond, consumers, now = Date.now, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }: PacerOptions): RequestPacer {
  const intervalMs = (1000 * consumers) / requestsPerSecond;
  let nextSlot = 0;
  return {
    async acquire() {
      const current = now();
      const slot = Math.max(current, nextSlot);
      nextSlot = slot + intervalMs;
      if (slot > current) await sleep(slot - current);
    },
  };
}
