/** The failures `failNext()` queued, each answering one request in turn. */
export class InjectedFailures<T> {
  private queue: T[] = [];

  add(count: number, failure: T): void {
    for (let i = 0; i < count; i++) this.queue.push(failure);
  }

  next(): T | undefined {
    return this.queue.shift();
  }

  clear(): void {
    this.queue = [];
  }
}
