/** SQS (SyncStepRequested) → one page of a full sync's deletion step: scan the dataset, or delete what the run did not see. */
import { awsConsumerContext } from '../../shared/composition/aws';
import { createEventConsumer } from '../../shared/edges/eventConsumer';
import type { ConsumerContextProvider } from '../../shared/ports';
import { failTaskOfInvalidEvent } from '../../shared/usecases/finishTask';
import { failSync, runSyncStep } from '../../shared/usecases/syncDataset';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'SyncStepRequested',
      handle: runSyncStep,
      onInvalid: (detail, error, deps) => failTaskOfInvalidEvent(detail, 'SyncStepRequested', error.message, deps),
      onFinalFailure: (step, error, deps) => failSync(step, error.message, deps),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
