/**
 * An in-memory SQS queue feeding a Lambda-style handler with the deployed semantics: batches of
 * up to batchSize, at most maximumConcurrency invocations, ReportBatchItemFailures, redelivery
 * after a (shortened) visibility timeout, and a dead-letter queue after maxReceiveCount receives.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { DeadLetterSink } from '../shared/ports';

export const LOCAL_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
/** Largest SQS message (body plus attributes) since 2026-01-29. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** The event source mapping and function settings; a ConsumerWiring fits as it is. */
export interface ConsumerOptions {
  functionName: string;
  batchSize: number;
  maximumConcurrency: number;
  /** Function timeout in seconds (fractions allowed locally, for tests). */
  timeout: number;
  memorySize?: number;
}

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

/** A message as it sits in a queue, for inspection (a DLQ's contents, say). */
export interface StoredMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, string>;
  receiveCount: number;
  sentTimestamp: number;
  /** Set on messages moved here by a redrive policy. */
  deadLetterQueueSourceArn?: string;
}

/** 50 ms, doubling per receive, at most 5 s: retries stay quick locally yet back off. */
export function defaultRetryDelayMs(receiveCount: number): number {
  return Math.min(50 * 2 ** Math.max(0, receiveCount - 1), 5000);
}

interface Message extends StoredMessage {
  firstReceiveTimestamp?: number;
}

/** Which messages of a batch failed: a set of ids, or the whole batch. */
type Failures = Set<string> | 'all';

export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  private readonly visible: Message[] = [];
  private readonly inFlightMessages = new Set<Message>();
  /** Failed messages waiting for their visibility timeout, with the timer that releases them. */
  private readonly hidden = new Map<Message, NodeJS.Timeout>();
  /** Handler invocations running, timed-out ones included. */
  private running = 0;
  private consumer?: { handler: SqsHandler; options: ConsumerOptions };
  private polling = false;
  private pumpScheduled = false;
  private readonly counters = { sent: 0, received: 0, succeeded: 0, failed: 0, deadLettered: 0, maxInFlight: 0 };

  constructor(private readonly options: LocalQueueOptions) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(options.name)) throw new Error(`invalid SQS queue name "${options.name}"`);
    this.name = options.name;
    this.region = options.region ?? DEFAULT_REGION;
    this.arn = `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT}:${options.name}`;
  }

  /** SendMessage: returns the message id; attributes become String message attributes. */
  send(body: string, attributes: Record<string, string> = {}): string {
    if (typeof body !== 'string' || body.length === 0) {
      throw new Error(`${this.name}: message body must be a non-empty string`);
    }
    const size = [body, ...Object.entries(attributes).flatMap(([name, value]) => [name, 'String', value])].reduce(
      (sum, text) => sum + Buffer.byteLength(text, 'utf8'),
      0,
    );
    if (size > MAX_MESSAGE_BYTES) {
      throw new Error(`${this.name}: message is ${size} bytes; SQS accepts at most ${MAX_MESSAGE_BYTES}`);
    }
    const messageId = randomUUID();
    this.enqueue({ messageId, body, messageAttributes: { ...attributes }, receiveCount: 0, sentTimestamp: Date.now() });
    return messageId;
  }

  /** Every message not yet deleted: waiting, in flight or hidden until a retry. */
  messages(): StoredMessage[] {
    return [...this.visible, ...this.inFlightMessages, ...this.hidden.keys()].map((message) => ({
      messageId: message.messageId,
      body: message.body,
      messageAttributes: { ...message.messageAttributes },
      receiveCount: message.receiveCount,
      sentTimestamp: message.sentTimestamp,
      ...(message.deadLetterQueueSourceArn ? { deadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
    }));
  }

  /** Attaches the handler (the event source mapping) and starts polling. */
  consume(handler: SqsHandler, options: ConsumerOptions): void {
    if (this.consumer) throw new Error(`${this.name} already has a consumer`);
    const { batchSize, maximumConcurrency, timeout } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`${this.name}: batchSize must be a whole number >= 1`);
    }
    if (!Number.isInteger(maximumConcurrency) || maximumConcurrency < 1) {
      throw new Error(`${this.name}: maximumConcurrency must be a whole number >= 1`);
    }
    if (!(timeout > 0)) throw new Error(`${this.name}: timeout must be > 0 seconds`);
    this.consumer = { handler, options };
    this.polling = true;
    this.schedulePump();
  }

  /** Wraps the attached handler, e.g. to time or instrument each invocation (the benchmark does). */
  wrapHandler(wrap: (handler: SqsHandler) => SqsHandler): void {
    if (!this.consumer) throw new Error(`${this.name} has no consumer to wrap`);
    this.consumer.handler = wrap(this.consumer.handler);
  }

  get stats(): QueueStats {
    return { ...this.counters, inFlight: this.running };
  }

  /** Nothing left to do: no invocation running, no retry pending, nothing waiting for a poller. */
  isIdle(): boolean {
    return this.running === 0 && this.hidden.size === 0 && (this.visible.length === 0 || !this.polling);
  }

  whenIdle(): Promise<void> {
    return waitForIdle([this]);
  }

  /** Stops polling and waits for running handlers; pending retries become visible (not delivered). */
  async stop(): Promise<void> {
    this.polling = false;
    while (this.running > 0) await activity.next();
    for (const [message, timer] of this.hidden) {
      clearTimeout(timer);
      this.visible.push(message);
    }
    this.hidden.clear();
    activity.bump();
  }

  describe(): string {
    return (
      `${this.name}: ${this.visible.length} waiting, ${this.inFlightMessages.size} in flight ` +
      `(${this.running} invocations), ${this.hidden.size} hidden until retry`
    );
  }

  private enqueue(message: Message): void {
    this.visible.push(message);
    this.counters.sent += 1;
    activity.bump();
    this.schedulePump();
  }

  /** Coalesces pumps so messages sent in one synchronous burst can share a batch. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.consumer || !this.polling) return;
    const { batchSize, maximumConcurrency } = this.consumer.options;
    while (this.running < maximumConcurrency && this.visible.length > 0) {
      // Counted before the handler starts, so the handler sees itself in flight.
      this.running += 1;
      this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.running);
      void this.invoke(this.visible.splice(0, batchSize)).finally(() => {
        this.running -= 1;
        activity.bump();
        this.pump();
      });
    }
  }

  private async invoke(batch: Message[]): Promise<void> {
    const { handler, options } = this.consumer!;
    const now = Date.now();
    for (const message of batch) {
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      this.inFlightMessages.add(message);
    }
    this.counters.received += batch.length;
    const timeoutMs = options.timeout * 1000;
    const event: SQSEvent = { Records: batch.map((message) => this.record(message)) };
    const result = runHandler(handler, event, lambdaContext(this.region, options, now + timeoutMs), this.logger);

    // A timed-out invocation fails its batch, as on Lambda, but keeps its concurrency slot until
    // it really ends: it is not killed and may still have side effects.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const first = await Promise.race([result, timedOut]);
    if (first === 'timeout') {
      this.logger.warn(`${options.functionName}: timed out after ${options.timeout} s; its batch will be retried`);
      this.complete(batch, 'all');
      await result;
    } else {
      clearTimeout(timer);
      this.complete(batch, first);
    }
  }

  private complete(batch: Message[], failures: Failures): void {
    const retries = new Map<number, Message[]>();
    for (const message of batch) {
      this.inFlightMessages.delete(message);
      if (failures !== 'all' && !failures.has(message.messageId)) {
        this.counters.succeeded += 1;
        continue;
      }
      this.counters.failed += 1;
      const deadLetter = this.options.deadLetter;
      if (deadLetter && message.receiveCount >= deadLetter.maxReceiveCount) {
        // SQS moves it on the next receive attempt; moving it now only skips a pointless wait.
        this.counters.deadLettered += 1;
        deadLetter.queue.enqueue({ ...message, deadLetterQueueSourceArn: this.arn });
        continue;
      }
      const delay = (this.options.retryDelayMs ?? defaultRetryDelayMs)(message.receiveCount);
      retries.set(delay, [...(retries.get(delay) ?? []), message]);
    }
    // Messages of one batch hidden for the same time reappear together, as with one visibility timeout.
    for (const [delay, messages] of retries) this.hideUntilRetry(messages, delay);
    activity.bump();
  }

  private hideUntilRetry(messages: Message[], delay: number): void {
    const timer = setTimeout(() => {
      for (const message of messages) {
        this.hidden.delete(message);
        this.visible.push(message);
      }
      activity.bump();
      this.schedulePump();
    }, delay);
    for (const message of messages) this.hidden.set(message, timer);
  }

  private record(message: Message): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: Buffer.from(`${message.messageId}:${randomUUID()}`).toString('base64'),
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentTimestamp),
        SenderId: LOCAL_ACCOUNT,
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
        ...(message.deadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
      },
      messageAttributes: lambdaAttributes(message.messageAttributes),
      md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.region,
    };
  }

  private get logger(): Pick<Console, 'warn'> {
    return this.options.logger ?? console;
  }
}

/** Writes a message that can never succeed straight to a dead-letter queue, with the reason. */
export class LocalDeadLetterSink implements DeadLetterSink {
  constructor(private readonly deadLetterQueue: LocalQueue) {}

  async send(body: string, reason: string): Promise<void> {
    this.deadLetterQueue.send(body, { reason });
  }
}

/**
 * Resolves once every queue is idle and stays so across a macrotask, so that work a settling
 * handler has just started (bus -> queue -> handler -> bus) is seen. With timeoutMs, rejects
 * naming the busy queues instead of hanging.
 */
export async function waitForIdle(queues: Iterable<LocalQueue>, options: { timeoutMs?: number } = {}): Promise<void> {
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

async function settle(queues: LocalQueue[]): Promise<void> {
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

const activity = new Activity();

/** Runs the handler and reads its answer the way Lambda's ReportBatchItemFailures does. */
async function runHandler(handler: SqsHandler, event: SQSEvent, context: Context, logger: Pick<Console, 'warn'>): Promise<Failures> {
  try {
    return failuresOf(await handler(event, context), event);
  } catch (error) {
    logger.warn(`${context.functionName}: handler threw; the whole batch will be retried`, error);
    return 'all';
  }
}

/**
 * No answer, or no/empty batchItemFailures: all succeeded. A malformed answer, or an
 * itemIdentifier that is empty or not in the batch: the whole batch failed (AWS behaviour).
 */
function failuresOf(response: unknown, event: SQSEvent): Failures {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return 'all';
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return 'all';
  const batchIds = new Set(event.Records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const item of items) {
    const id: unknown = item?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

function lambdaAttributes(attributes: Record<string, string>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
    ]),
  );
}

/** The Lambda context of one local invocation (the local API uses it too). */
export function lambdaContext(region: string, options: Pick<ConsumerOptions, 'functionName' | 'memorySize'>, deadline: number): Context {
  const requestId = randomUUID();
  const unsupported = (): never => {
    throw new Error('callback-style context methods are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memorySize ?? 128),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
