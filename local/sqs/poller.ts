/**
 * The event source mapping: while a consumer is attached, hands visible messages to its handler
 * in batches of up to batchSize, with at most maximumConcurrency invocations running.
 */
import type { Failures } from './batchItemFailures';
import { activity } from './idle';
import { invoke } from './invocation';
import { lambdaContext, type ConsumerOptions, type SqsHandler } from './lambda';
import type { Message } from './message';
import type { MessageStore } from './messageStore';
import { sqsEvent } from './records';

/** What the poller needs of its queue. */
export interface PolledQueue {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly store: MessageStore;
  readonly logger: Pick<Console, 'warn'>;
  /** Receives up to max visible messages for an invocation (none, when all went to a dead-letter queue instead). */
  receive(max: number, now: number): Message[];
  /** Applies a batch's outcome; called once per invocation, on its answer or its timeout. */
  complete(batch: Message[], failures: Failures): void;
}

export class Poller {
  private consumer?: { handler: SqsHandler; options: ConsumerOptions };
  private active = false;
  private pumpScheduled = false;
  /** Handler invocations running, timed-out ones included. */
  private invocations = 0;
  private mostInvocations = 0;
  private deliveries = 0;

  constructor(private readonly queue: PolledQueue) {}

  get polling(): boolean {
    return this.active;
  }

  get running(): number {
    return this.invocations;
  }

  get maxInFlight(): number {
    return this.mostInvocations;
  }

  /** Deliveries to the handler; a message received three times counts three. */
  get received(): number {
    return this.deliveries;
  }

  /** Attaches the handler and starts polling. */
  start(handler: SqsHandler, options: ConsumerOptions): void {
    const { name } = this.queue;
    if (this.consumer) throw new Error(`${name} already has a consumer`);
    const { batchSize, maximumConcurrency, timeout } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`${name}: batchSize must be a whole number >= 1`);
    }
    if (!Number.isInteger(maximumConcurrency) || maximumConcurrency < 1) {
      throw new Error(`${name}: maximumConcurrency must be a whole number >= 1`);
    }
    if (!(timeout > 0)) throw new Error(`${name}: timeout must be > 0 seconds`);
    this.consumer = { handler, options };
    this.active = true;
    this.schedule();
  }

  wrapHandler(wrap: (handler: SqsHandler) => SqsHandler): void {
    if (!this.consumer) throw new Error(`${this.queue.name} has no consumer to wrap`);
    this.consumer.handler = wrap(this.consumer.handler);
  }

  /** Starts no more invocations; those running carry on. */
  stop(): void {
    this.active = false;
  }

  /** Coalesces pumps so messages sent in one synchronous burst can share a batch. */
  schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.consumer || !this.active) return;
    const { batchSize, maximumConcurrency } = this.consumer.options;
    while (this.invocations < maximumConcurrency && this.queue.store.waiting > 0) {
      // Counted before the handler starts, so the handler sees itself in flight.
      this.invocations += 1;
      this.mostInvocations = Math.max(this.mostInvocations, this.invocations);
      void this.invoke(batchSize).finally(() => {
        this.invocations -= 1;
        activity.bump();
        this.pump();
      });
    }
  }

  private invoke(batchSize: number): Promise<void> {
    const { handler, options } = this.consumer!;
    const now = Date.now();
    const batch = this.queue.receive(batchSize, now);
    if (batch.length === 0) return Promise.resolve();
    this.deliveries += batch.length;
    const event = sqsEvent(batch, this.queue);
    const context = lambdaContext(this.queue.region, options, now + options.timeout * 1000);
    return invoke({ handler, event, context, timeout: options.timeout, logger: this.queue.logger }, (failures) =>
      this.queue.complete(batch, failures),
    );
  }
}
