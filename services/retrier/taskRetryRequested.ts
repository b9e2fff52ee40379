/** SQS (TaskRetryRequested) → run a PARTIAL or FAILED task's failed chunks again, as POST /tasks/{task_id}/retry does. */
import { awsConsumerContext } from '../../shared/composition/aws';
import { createEventConsumer } from '../../shared/edges/eventConsumer';
import type { ConsumerContextProvider } from '../../shared/ports';
import { retryRequested } from '../../shared/usecases/retryTask';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer({ eventName: 'TaskRetryRequested', handle: (request, deps) => retryRequested(request, deps) }, provide);
}

export const handler = createHandler(awsConsumerContext);
