/**
 * Turns a use case into an SQS-fed Lambda handler for one event type. Each message is an
 * EventBridge envelope; its detail is validated against the event's JSON Schema. An invalid
 * event goes straight to the dead-letter queue with the reason logged (retrying cannot fix it);
 * a failing one is retried by SQS, and on its last attempt `onFinalFailure` marks the task so
 * that it still ends. Partial batch failures are reported with Powertools' batch processor.
 *
 * Work that would outlast the Lambda's timeout (a provider that hangs, retries that add up) is
 * abandoned shortly before it, as a failure of this attempt: a Lambda killed by its timeout would
 * run no `onFinalFailure`, and its task would wait forever for a chunk that went to the DLQ.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventName } from '../../events-schema';
import type { ConsumerContext, ConsumerContextProvider, Dependencies } from '../dependencies';
import { CatchupError, InvalidEventError } from '../errors';
import type { EventDetails } from '../events/types';
import { validateEvent } from '../events/validate';
import { finishTask } from '../usecases/announce';

/** Events only this pipeline produces, each about one of its tasks. */
const INTERNAL_EVENTS: EventName[] = ['ChunkPlanned', 'ChunkEmbedded'];

/** What the envelope says besides the detail. */
export interface EventMeta {
  /** EventBridge's id of the event: the same on every delivery of it. */
  eventId: string;
  source: string;
}

export interface EventConsumerOptions<N extends EventName> {
  eventName: N;
  handle: (detail: EventDetails[N], deps: Dependencies, meta: EventMeta) => Promise<void>;
  /** Called when the last allowed attempt fails, before the message moves to the DLQ. */
  onFinalFailure?: (detail: EventDetails[N], error: Error, deps: Dependencies, meta: EventMeta) => Promise<unknown>;
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createEventConsumer<N extends EventName>(options: EventConsumerOptions<N>, provide: ConsumerContextProvider): SqsHandler {
  return async (event, context) => {
    const consumer = await provide();
    const processor = new BatchProcessor(EventType.SQS);
    const deadline = workDeadline(context);
    return processPartialResponse(event, (record: SQSRecord) => consumeRecord(record, options, consumer, deadline), processor, { context, throwOnFullBatchFailure: false });
  };
}

/** Kept back from the timeout for reporting a last attempt's failure (one event, one write): a tenth, 3-20 s. */
const RESERVE = { share: 0.1, minMs: 3000, maxMs: 20_000 };

/** This attempt gave up before the Lambda's timeout would have ended it. */
export class DeadlineExceededError extends CatchupError {}

/** When work must stop: undefined without a Lambda context that tells the time left. */
function workDeadline(context: Context | undefined): number | undefined {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  const remaining = context.getRemainingTimeInMillis();
  const reserve = Math.min(RESERVE.maxMs, Math.max(RESERVE.minMs, remaining * RESERVE.share));
  return Date.now() + Math.max(0, remaining - reserve);
}

async function beforeDeadline<T>(work: Promise<T>, deadline: number | undefined, what: string): Promise<T> {
  if (deadline === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`${what} did not finish before its Lambda's timeout; abandoned`)), Math.max(0, deadline - Date.now()));
  });
  // An abandoned piece of work may still fail later; that must not crash a later invocation.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function consumeRecord<N extends EventName>(record: SQSRecord, options: EventConsumerOptions<N>, consumer: ConsumerContext, deadline: number | undefined): Promise<void> {
  const { deps } = consumer;
  let detail: EventDetails[N];
  let meta: EventMeta;
  try {
    ({ detail, meta } = parseMessage(record.body, options.eventName));
  } catch (error) {
    if (!(error instanceof InvalidEventError)) throw error;
    deps.logger.error('invalid event rejected to the dead-letter queue', { messageId: record.messageId, eventName: options.eventName, problems: error.problems });
    await consumer.deadLetters.send(record.body, error.message);
    await failTaskOfInvalidEvent(record.body, options.eventName, error, deps);
    return;
  }
  try {
    await beforeDeadline(options.handle(detail, deps, meta), deadline, `${options.eventName} ${meta.eventId}`);
  } catch (error) {
    const attempt = Number(record.attributes?.ApproximateReceiveCount ?? 1);
    const final = attempt >= consumer.maxReceiveCount;
    deps.logger.error(final ? 'event failed on its last attempt' : 'event failed; SQS will retry it', { messageId: record.messageId, eventName: options.eventName, attempt, error: error as Error });
    if (final && options.onFinalFailure) await options.onFinalFailure(detail, error as Error, deps, meta);
    throw error;
  }
}

/** Our own events name a task we created: it must not wait forever for the chunk it will never get. */
async function failTaskOfInvalidEvent(body: string, eventName: EventName, error: InvalidEventError, deps: Dependencies): Promise<void> {
  if (!INTERNAL_EVENTS.includes(eventName)) return;
  let taskId: unknown;
  try {
    taskId = JSON.parse(body)?.detail?.taskId;
  } catch {
    return;
  }
  if (typeof taskId !== 'string' || !(await deps.tasks.get(taskId))) return;
  await finishTask(taskId, 'FAILED', deps, `an invalid ${eventName} event was rejected: ${error.message}`);
}

function parseMessage<N extends EventName>(body: string, eventName: N): { detail: EventDetails[N]; meta: EventMeta } {
  let envelope: { 'detail-type'?: unknown; detail?: unknown; id?: unknown; source?: unknown };
  try {
    envelope = JSON.parse(body);
  } catch {
    throw new InvalidEventError(`${eventName} message is not JSON`, eventName, ['(body) is not JSON']);
  }
  if (envelope?.['detail-type'] !== eventName) {
    throw new InvalidEventError(`expected a ${eventName} event, got detail-type ${JSON.stringify(envelope?.['detail-type'])}`, eventName, ['/detail-type is wrong']);
  }
  return { detail: validateEvent(eventName, envelope.detail), meta: { eventId: String(envelope.id ?? ''), source: String(envelope.source ?? '') } };
}
