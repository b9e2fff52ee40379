/**
 * SQS ("Step Functions Execution Status Change": FAILED, TIMED_OUT, ABORTED of the large-CSV
 * machine) → fail the task. Covers executions that die without reaching their Catch (a timeout,
 * an abort, a failing fail step), so that no task stays RUNNING because its execution ended.
 * A task already terminal (the Catch got there first) is left as it is.
 */
import { EXECUTION_STATUS_CHANGE } from '../../infra/eventPatterns';
import { awsConsumerContext } from '../../shared/composition/aws';
import { createSqsConsumer } from '../../shared/edges/sqsConsumer';
import { InvalidMessageError } from '../../shared/errors';
import type { ConsumerContextProvider } from '../../shared/ports';
import { failPlan } from '../../shared/usecases/largeCsvPlan';

interface StatusChange {
  name?: string;
  status?: string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export function createHandler(provide: ConsumerContextProvider) {
  return createSqsConsumer(
    {
      name: EXECUTION_STATUS_CHANGE,
      parse: endedExecution,
      handle: ({ taskId, reason }, deps) => failPlan(taskId, reason, deps),
    },
    provide,
  );
}

function endedExecution(body: string): { taskId: string; reason: string } {
  let detail: StatusChange | undefined;
  try {
    const envelope = JSON.parse(body) as { 'detail-type'?: string; detail?: StatusChange };
    if (envelope['detail-type'] === EXECUTION_STATUS_CHANGE) detail = envelope.detail;
  } catch {
    detail = undefined;
  }
  const taskId = detail && taskIdOf(detail);
  if (!detail || !taskId) {
    throw new InvalidMessageError('not a Step Functions execution status change naming a task', ['not an execution status change']);
  }
  return { taskId, reason: [`execution ${detail.status ?? 'ended'}`, detail.error, detail.cause].filter(Boolean).join(': ') };
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
