/** SQS (TaskRequested) → plan the task into chunks. */
import type { ConsumerContextProvider } from '../../shared/dependencies';
import { createEventConsumer } from '../../shared/handlers/eventConsumer';
import { awsConsumerContext } from '../../shared/runtime/aws';
import { finishTask } from '../../shared/usecases/announce';
import { planTask, resolveTaskRequest } from '../../shared/usecases/planTask';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'TaskRequested',
      handle: planTask,
      onFinalFailure: (request, error, deps, meta) => finishTask(resolveTaskRequest(request, meta).taskId, 'FAILED', deps, `planning failed: ${error.message}`),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
