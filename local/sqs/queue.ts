/** LocalQueue: one queue's name and ARN, SendMessage, inspection and shutdown, tying its store, poller and redrive policy together. */
import type { Failures } from './batchItemFailures';
import { DEFAULT_REGION, LOCAL_ACCOUNT } from './account';
import { activity, waitForIdle } from './idle';
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

  constructor(private readonly options: LocalQueueOptions) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(options.name)) throw new Error(`invalid SQS queue name "${options.name}"`);
    this.name = options.name;
    this.region = options.region ?? DEFAULT_REGION;
    this.arn = `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT}:${options.name}`;
    this.store = new MemoryMessageStore(() => {
      activity.bump();
      this.poller.schedule();
    });
    this.poller = new Poller({
      name: this.name,
      arn: this.arn,
      region: this.region,
      store: this.store,
      logger: options.logger ?? console,
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

  /** Stops polling and waits for running handlers; pending retries become visible (not delivered). */
  async stop(): Promise<void> {
    this.poller.stop();
    while (this.poller.running > 0) await activity.next();
    this.store.revealHidden();
    activity.bump();
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

  private complete(batch: Message[], failures: Failures): void {
    const deadLetter = this.options.deadLetter;
    const { succeeded, deadLettered, retries } = redrive(batch, failures, {
      maxReceiveCount: deadLetter?.maxReceiveCount,
      retryDelayMs: this.options.retryDelayMs ?? defaultRetryDelayMs,
    });
    this.store.delete([...succeeded, ...deadLettered]);
    this.counters.succeeded += succeeded.length;
    this.counters.failed += batch.length - succeeded.length;
    this.counters.deadLettered += deadLettered.length;
    for (const message of deadLettered) deadLetter!.queue.enqueue({ ...message, deadLetterQueueSourceArn: this.arn });
    for (const [delay, messages] of retries) this.store.hide(messages, delay);
    activity.bump();
  }
}
