/**
 * The one SQS consumer engine every queue-fed Lambda uses. Each message is parsed; one that can
 * never be valid goes straight to the dead-letter queue with the reason logged (retrying cannot
 * fix it), after `onInvalid` has had its say. A message whose handling fails is retried by SQS
 * (one WARN line: nobody need act yet), and on its last attempt `onFinalFailure` runs first, so
 * that its task still ends (an ERROR, with the stack). Every line logged while a message is
 * handled, by the use case or an adapter, carries its `message_id` and the `logKeys` it names. Partial batch
 * failures are reported with Powertools' batch processor.
 *
 * Work that would outlast the Lambda's timeout (a provider that hangs, retries that add up) is
 * abandoned shortly before it, as a failure of this attempt: a Lambda killed by its timeout would
 * run no `onFinalFailure`, and its task would wait forever for work that went to the DLQ.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CatchupError, InvalidMessageError } from '../errors';
import { withLogKeys } from '../logger';
import { publishMetrics } from '../metrics';
import type { ConsumerContextProvider, Dependencies } from '../ports';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface SqsConsumerOptions<M> {
  /** Names the consumer in logs and in the deadline error. */
  name: string;
  /** Reads a message body; throws InvalidMessageError when no retry could make it valid. */
  parse: (body: string) => M;
  /** Names a message in logs and errors (default: the consumer's name and the SQS message id). */
  label?: (message: M) => string;
  /** What every log line about the message carries besides its SQS message id (task_id, chunk_index…). */
  logKeys?: (message: M) => Record<string, unknown>;
  handle: (message: M, deps: Dependencies) => Promise<void>;
  /** Called before an invalid message moves to the DLQ. */
  onInvalid?: (body: string, error: InvalidMessageError, deps: Dependencies) => Promise<unknown>;
  /** Called when the last allowed attempt fails, before the message moves to the DLQ. */
  onFinalFailure?: (message: M, error: Error, deps: Dependencies) => Promise<unknown>;
}

/** Kept back from the timeout for reporting a last attempt's failure (one event, one write): a tenth, 3-20 s. */
const RESERVE = { share: 0.1, minMs: 3000, maxMs: 20_000 } as const;

/** This attempt gave up before the Lambda's timeout would have ended it. */
export class DeadlineExceededError extends CatchupError {}

export function createSqsConsumer<M>(options: SqsConsumerOptions<M>, provide: ConsumerContextProvider): SqsHandler {
  return async (event, context) => {
    const consumer = await provide();
    const deadline = workDeadline(context);
    const consume = (record: SQSRecord) =>
      withLogKeys({ message_id: record.messageId }, () => consumeRecord(record, options, consumer, deadline));
    try {
      return await processPartialResponse(event, consume, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    } finally {
      publishMetrics();
    }
  };
}

async function consumeRecord<M>(
  record: SQSRecord,
  options: SqsConsumerOptions<M>,
  { deps, deadLetters, maxReceiveCount }: Awaited<ReturnType<ConsumerContextProvider>>,
  deadline: number | undefined,
): Promise<void> {
  let message: M;
  try {
    message = options.parse(record.body);
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    deps.logger.error('invalid message rejected to the dead-letter queue', {
      consumer: options.name,
      problems: error.problems,
    });
    await deadLetters.send(record.body, error.message);
    await options.onInvalid?.(record.body, error, deps);
    return;
  }
  await withLogKeys(options.logKeys?.(message) ?? {}, async () => {
    try {
      const label = options.label?.(message) ?? `${options.name} message ${record.messageId}`;
      await beforeDeadline(options.handle(message, deps), deadline, label);
    } catch (error) {
      const attempt = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      if (attempt < maxReceiveCount) {
        deps.logger.warn('message failed; SQS will retry it', { consumer: options.name, attempt, error: (error as Error).message });
        throw error;
      }
      deps.logger.error('message failed on its last attempt', { consumer: options.name, attempt, error: error as Error });
      await options.onFinalFailure?.(message, error as Error, deps);
      throw error;
    }
  });
}

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
    const message = `${what} did not finish before its Lambda's timeout; abandoned`;
    timer = setTimeout(() => reject(new DeadlineExceededError(message)), Math.max(0, deadline - Date.now()));
  });
  // An abandoned piece of work may still fail later; that must not crash a later invocation.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
