/** One invocation of a batch, with Lambda's function timeout and its reading of a thrown handler. */
import type { Context, SQSEvent } from 'aws-lambda';
import { failuresOf, type Failures } from './batchItemFailures';
import type { SqsHandler } from './lambda';

export interface Invocation {
  handler: SqsHandler;
  event: SQSEvent;
  context: Context;
  /** The function timeout, in seconds. */
  timeout: number;
  logger: Pick<Console, 'warn'>;
}

/**
 * Calls `settle` once with the batch's failures, as soon as they are known, and resolves when the
 * handler has really ended.
 */
export async function invoke(
  { handler, event, context, timeout, logger }: Invocation,
  settle: (failures: Failures) => void,
): Promise<void> {
  const result = runHandler(handler, event, context, logger);

  // A timed-out invocation fails its batch, as on Lambda, but keeps its concurrency slot until
  // it really ends: it is not killed and may still have side effects.
  const timeoutMs = timeout * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const first = await Promise.race([result, timedOut]);
  if (first === 'timeout') {
    logger.warn(`${context.functionName}: timed out after ${timeout} s; its batch will be retried`);
    settle('all');
    await result;
  } else {
    clearTimeout(timer);
    settle(first);
  }
}

async function runHandler(handler: SqsHandler, event: SQSEvent, context: Context, logger: Pick<Console, 'warn'>): Promise<Failures> {
  try {
    return failuresOf(await handler(event, context), event);
  } catch (error) {
    logger.warn(`${context.functionName}: handler threw; the whole batch will be retried`, error);
    return 'all';
  }
}
