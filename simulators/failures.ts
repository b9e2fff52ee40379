/**
 * A connection the server drops instead of answering: `before` handling the request (a reset), or
 * `after` it, so that its effect lands (an upsert stored, tokens billed) but its answer is lost.
 */
export type Drop = 'before' | 'after';

/** The failures `failNext()` queued, each answering one request in turn. */
export class InjectedFailures<T> {
  private queue: T[] = [];

  add(count: number, failure: T): void {
    for (let i = 0; i < count; i++) this.queue.push(failure);
  }

  next(): T | undefined {
    return this.queue.shift();
  }

  /** Queued and not yet met by a request. */
  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
  }
}
