/**
 * Where a queue's messages are between SendMessage and their deletion, and which of them are
 * visible: the queue reaches them only through MessageStore, so how they are kept can change
 * without touching delivery.
 */
import type { Message } from './message';

export interface MessageStore {
  /** Messages visible to a receive. */
  readonly waiting: number;
  /** Messages received and not yet deleted or hidden. */
  readonly inFlight: number;
  /** Failed messages waiting for their visibility timeout. */
  readonly hidden: number;
  /** Adds a message, visible at once. */
  add(message: Message): void;
  /** Up to max visible messages, oldest first, now in flight with their receive counted at `now`. */
  receive(max: number, now: number): Message[];
  /** Removes messages in flight for good: handled, or moved to a dead-letter queue. */
  delete(messages: Message[]): void;
  /** Hides messages in flight for delayMs, after which they are visible together, as with one visibility timeout. */
  hide(messages: Message[], delayMs: number): void;
  /** Makes every hidden message visible now, without waiting for its timeout. */
  revealHidden(): void;
  /** Makes every message in flight visible again, its receive counted (a stop that cannot wait for its handler); returns how many. */
  handBack(): number;
  /** Every message not deleted: waiting, then in flight, then hidden. */
  list(): Message[];
  /**
   * Runs `change` so that what it does to this store, and to stores sharing its database, happens
   * whole or not at all (a move to a dead-letter queue): a crash never leaves half of it.
   */
  atomically<T>(change: () => T): T;
}

export class MemoryMessageStore implements MessageStore {
  private readonly visible: Message[] = [];
  private readonly inFlightMessages = new Set<Message>();
  /** Hidden messages, with the timer that makes them visible again. */
  private readonly hiddenMessages = new Map<Message, NodeJS.Timeout>();

  /** @param onVisible called when hidden messages become visible after their timeout */
  constructor(private readonly onVisible: () => void) {}

  get waiting(): number {
    return this.visible.length;
  }

  get inFlight(): number {
    return this.inFlightMessages.size;
  }

  get hidden(): number {
    return this.hiddenMessages.size;
  }

  add(message: Message): void {
    this.visible.push(message);
  }

  receive(max: number, now: number): Message[] {
    const batch = this.visible.splice(0, max);
    for (const message of batch) {
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      this.inFlightMessages.add(message);
    }
    return batch;
  }

  delete(messages: Message[]): void {
    for (const message of messages) this.inFlightMessages.delete(message);
  }

  hide(messages: Message[], delayMs: number): void {
    const timer = setTimeout(() => {
      for (const message of messages) {
        this.hiddenMessages.delete(message);
        this.visible.push(message);
      }
      this.onVisible();
    }, delayMs);
    for (const message of messages) {
      this.inFlightMessages.delete(message);
      this.hiddenMessages.set(message, timer);
    }
  }

  revealHidden(): void {
    for (const [message, timer] of this.hiddenMessages) {
      clearTimeout(timer);
      this.visible.push(message);
    }
    this.hiddenMessages.clear();
  }

  handBack(): number {
    const count = this.inFlightMessages.size;
    this.visible.unshift(...this.inFlightMessages);
    this.inFlightMessages.clear();
    return count;
  }

  list(): Message[] {
    return [...this.visible, ...this.inFlightMessages, ...this.hiddenMessages.keys()];
  }

  /** Nothing outlives the process, so nothing is ever left half done. */
  atomically<T>(change: () => T): T {
    return change();
  }
}
