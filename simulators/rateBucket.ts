/**
 * A rate limit as a bucket of `capacity` units refilled continuously at `perMs` units per
 * millisecond: the OpenAI simulator's request and token budgets, the Pinecone simulator's requests
 * per second.
 */
export class RateBucket {
  private current: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    private readonly perMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.current = capacity;
    this.updatedAt = now();
  }

  /** `perMinute` per minute, holding `seconds` worth of them. */
  static perMinute(perMinute: number, seconds: number, now?: () => number): RateBucket {
    return new RateBucket((perMinute * seconds) / 60, perMinute / 60_000, now);
  }

  level(): number {
    const time = this.now();
    this.current = Math.min(this.capacity, this.current + (time - this.updatedAt) * this.perMs);
    this.updatedAt = time;
    return this.current;
  }

  take(units: number): void {
    this.current = this.level() - units;
  }

  /** Milliseconds until `units` are available; 0 when they are now. */
  waitMs(units: number): number {
    const missing = units - this.level();
    return missing <= 0 ? 0 : missing / this.perMs;
  }

  /** Takes `units` and returns 0 when they are available, else returns `waitMs(units)` and takes nothing. */
  tryTake(units: number): number {
    const wait = this.waitMs(units);
    if (wait === 0) this.take(units);
    return wait;
  }

  msUntilFull(): number {
    return (this.capacity - this.level()) / this.perMs;
  }
}
