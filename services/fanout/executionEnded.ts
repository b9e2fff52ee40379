/**
 * SQS ("Step Functions Execution Status Change": FAILED, TIMED_OUT, ABORTED of the large-CSV
 * machine) → fail the task. Covers executions that die without reaching their Catch (a timeout,
 * an abort, a failing fail step), so that no task stays RUNNING because its execution ended.
 * A task already terminal (the Catch got there first) is left as it is.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import type { ConsumerContext, ConsumerContextProvider } from '../../shared/dependencies';
import type { SqsHandler } from '../../shared/handlers/eventConsumer';
import { EXECUTION_STATUS_CHANGE } from '../../infra/eventPatterns';
import { awsConsumerContext } from '../../shared/runtime/aws';
import { failPlan } from '../../shared/usecases/planSegment';

interface StatusChange {
  name?: string;
  status?: string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export function createHandler(provide: ConsumerContextProvider): SqsHandler {
  return async (event, context) => {
    const consumer = await provide();
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, (record: SQSRecord) => consume(record, consumer), processor, { context, throwOnFullBatchFailure: false });
  };
}

async function consume(record: SQSRecord, { deps, deadLetters }: ConsumerContext): Promise<void> {
  let detail: StatusChange | undefined;
  try {
    const envelope = JSON.parse(record.body) as { 'detail-type'?: string; detail?: StatusChange };
    if (envelope['detail-type'] === EXECUTION_STATUS_CHANGE) detail = envelope.detail;
  } catch {
    detail = undefined;
  }
  const taskId = detail && taskIdOf(detail);
  if (!detail || !taskId) {
    deps.logger.error('not a status change of a large-CSV execution; sent to the dead-letter queue', { messageId: record.messageId });
    await deadLetters.send(record.body, 'not a Step Functions execution status change naming a task');
    return;
  }
  const reason = [`execution ${detail.status ?? 'ended'}`, detail.error, detail.cause].filter(Boolean).join(': ');
  await failPlan(taskId, reason, deps);
}

/** The execution's input names the task; its name is the task id or a digest of it. */
function taskIdOf(detail: StatusChange): string | undefined {
  try {
    const input = JSON.parse(detail.input ?? '') as { taskId?: unknown };
    if (typeof input?.taskId === 'string') return input.taskId;
  } catch {
    // fall back to the name
  }
  return detail.name ?? undefined;
}

export const handler = createHandler(awsConsumerContext);
