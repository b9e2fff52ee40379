/** SQS (TaskRequested) → plan the task into chunks. */
import { awsConsumerContext } from '../../shared/composition/aws';
import { settleTaskId } from '../../shared/domain/task';
import { createEventConsumer } from '../../shared/edges/eventConsumer';
import type { ConsumerContextProvider } from '../../shared/ports';
import { finishTask } from '../../shared/usecases/finishTask';
import { planTask } from '../../shared/usecases/planTask';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'TaskRequested',
      handle: (request, deps, meta) => planTask(settleTaskId(request, meta.eventId), deps),
      onFinalFailure: (request, error, deps, meta) =>
        finishTask(settleTaskId(request, meta.eventId).taskId, 'FAILED', deps, `planning failed: ${error.message}`),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
