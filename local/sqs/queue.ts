/** LocalQueue: one queue's name and ARN, SendMessage, inspection and shutdown, tying its store, poller and redrive policy together. */
import type { Failures } from './batchItemFailures';
import { DEFAULT_REGION, LOCAL_ACCOUNT } from './account';
import { activity, waitFor, waitForIdle } from './idle';
import type { ConsumerOptions, SqsHandler } from './lambda';
import { newMessage, snapshot, type Message, type StoredMessage } from './message';
import { MemoryMessageStore, type MessageStore } from './messageStore';
import { Poller } from './poller';
import { defaultRetryDelayMs, redrive } from './redrive';

export interface LocalQueueOptions {
  name: string;
  region?: string;
  /** The redrive policy. Without it a failing message is retried forever, as on SQS. */
  deadLetter?: { queue: LocalQueue; maxReceiveCount: number };
  /** How long a failed message stays hidden: the local stand-in for the visibility timeout. */
  retryDelayMs?: (receiveCount: number) => number;
  logger?: Pick<Console, 'warn'>;
  /** Where the messages are kept (a durable store, say); in memory when absent. */
  messageStore?: (onVisible: () => void) => MessageStore;
}

/** What a stop did with the messages that were in flight when it began. */
export interface QueueStopReport {
  inFlight: number;
  /** Settled by their handlers within the grace period. */
  finished: number;
  /** Still running when it ran out, made visible again for the next consumer. */
  handedBack: number;
}

export interface QueueStats {
  /** Messages that entered the queue (sent or dead-lettered into it). */
  sent: number;
  /** Deliveries to the handler; a message received three times counts three. */
  received: number;
  /** Messages deleted after their handler succeeded. */
  succeeded: number;
  /** Deliveries that failed (reported, thrown, timed out). */
  failed: number;
  /** Messages moved to the dead-letter queue. */
  deadLettered: number;
  /** Handler invocations running now, timed-out ones included. */
  inFlight: number;
  /** The most invocations ever running at once. */
  maxInFlight: number;
}

export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  private readonly store: MessageStore;
  private readonly poller: Poller;
  private readonly counters = { sent: 0, succeeded: 0, failed: 0, deadLettered: 0 };
  /** After a stop: what handlers still running answer no longer counts, their messages having been handed back. */
  private stopped = false;

  constructor(private readonly options: LocalQueueOptions) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(options.name)) throw new Error(`invalid SQS queue name "${options.name}"`);
    this.name = options.name;
    this.region = options.region ?? DEFAULT_REGION;
    this.arn = `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT}:${options.name}`;
    const onVisible = () => {
      activity.bump();
      this.poller.schedule();
    };
    this.store = options.messageStore?.(onVisible) ?? new MemoryMessageStore(onVisible);
    this.poller = new Poller({
      name: this.name,
      arn: this.arn,
      region: this.region,
      store: this.store,
      logger: options.logger ?? console,
      receive: (max, now) => this.receive(max, now),
      complete: (batch, failures) => this.complete(batch, failures),
    });
  }

  /** SendMessage: returns the message id; attributes become String message attributes. */
  send(body: string, attributes: Record<string, string> = {}): string {
    const message = newMessage(this.name, body, attributes);
    this.enqueue(message);
    return message.messageId;
  }

  /** Every message not yet deleted: waiting, in flight or hidden until a retry. */
  messages(): StoredMessage[] {
    return this.store.list().map(snapshot);
  }

  /** Attaches the handler (the event source mapping) and starts polling. */
  consume(handler: SqsHandler, options: ConsumerOptions): void {
    this.poller.start(handler, options);
  }

  /** Wraps the attached handler, e.g. to time or instrument each invocation (the benchmark does). */
  wrapHandler(wrap: (handler: SqsHandler) => SqsHandler): void {
    this.poller.wrapHandler(wrap);
  }

  get stats(): QueueStats {
    const { sent, succeeded, failed, deadLettered } = this.counters;
    const { received, maxInFlight, running } = this.poller;
    return { sent, received, succeeded, failed, deadLettered, maxInFlight, inFlight: running };
  }

  /** Nothing left to do: no invocation running, no retry pending, nothing waiting for a poller. */
  isIdle(): boolean {
    return this.poller.running === 0 && this.store.hidden === 0 && (this.store.waiting === 0 || !this.poller.polling);
  }

  whenIdle(): Promise<void> {
    return waitForIdle([this]);
  }

  /**
   * Stops polling and waits for running handlers, for at most graceMs (default: as long as they
   * take); the messages of those still running are handed back, and pending retries become
   * visible (neither is delivered again by this queue).
   */
  async stop(options: { graceMs?: number } = {}): Promise<QueueStopReport> {
    this.poller.stop();
    const inFlight = this.store.inFlight;
    await waitFor(() => this.poller.running === 0, options.graceMs);
    this.stopped = true;
    const handedBack = this.store.handBack();
    this.store.revealHidden();
    activity.bump();
    return { inFlight, finished: inFlight - handedBack, handedBack };
  }

  describe(): string {
    return (
      `${this.name}: ${this.store.waiting} waiting, ${this.store.inFlight} in flight ` +
      `(${this.poller.running} invocations), ${this.store.hidden} hidden until retry`
    );
  }

  private enqueue(message: Message): void {
    this.store.add(message);
    this.counters.sent += 1;
    activity.bump();
    this.poller.schedule();
  }

  /**
   * A receive as SQS does it: a message whose receives had already reached maxReceiveCount goes to
   * the dead-letter queue instead of its handler. Only a message whose consumer stopped before
   * answering (a crash, a stop's hand-back) gets here; a failing one is moved as it fails.
   */
  private receive(max: number, now: number): Message[] {
    const batch = this.store.receive(max, now);
    const maxReceiveCount = this.options.deadLetter?.maxReceiveCount;
    const spent = maxReceiveCount === undefined ? [] : batch.filter((message) => message.receiveCount > maxReceiveCount);
    if (spent.length === 0) return batch;
    (this.options.logger ?? console).warn(
      `${this.name}: ${spent.length} message(s) already received ${maxReceiveCount} times by consumers that stopped before answering; moved to the dead-letter queue`,
    );
    this.store.atomically(() => {
      this.store.delete(spent);
      this.deadLetter(spent);
    });
    activity.bump();
    return batch.filter((message) => !spent.includes(message));
  }

  private complete(batch: Message[], failures: Failures): void {
    if (this.stopped) return;
    const { succeeded, deadLettered, retries } = redrive(batch, failures, {
      maxReceiveCount: this.options.deadLetter?.maxReceiveCount,
      retryDelayMs: this.options.retryDelayMs ?? defaultRetryDelayMs,
    });
    // A crash between the delete and the move to the dead-letter queue would lose the message.
    this.store.atomically(() => {
      this.store.delete([...succeeded, ...deadLettered]);
      this.deadLetter(deadLettered);
    });
    this.counters.succeeded += succeeded.length;
    this.counters.failed += batch.length - succeeded.length;
    for (const [delay, messages] of retries) this.store.hide(messages, delay);
    activity.bump();
  }

  /**
   * StartMessageMoveTask, as SQS runs it on a dead-letter queue once its cause is fixed: every
   * visible message moves to `destination` as a new message (body and attributes kept, receive
   * count anew), in one transaction. Returns how many moved.
   */
  moveMessagesTo(destination: LocalQueue): number {
    const moved = this.store.atomically(() => {
      const batch = this.store.receive(Number.MAX_SAFE_INTEGER, Date.now());
      for (const message of batch) destination.send(message.body, message.messageAttributes);
      this.store.delete(batch);
      return batch.length;
    });
    activity.bump();
    return moved;
  }

  private deadLetter(messages: Message[]): void {
    for (const message of messages) this.options.deadLetter!.queue.enqueue({ ...message, deadLetterQueueSourceArn: this.arn });
    this.counters.deadLettered += messages.length;
  }
}
