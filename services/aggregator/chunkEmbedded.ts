/** SQS (ChunkEmbedded) → add the chunk's counts to its task once; end the task after the last chunk. */
import { awsConsumerContext } from '../../shared/composition/aws';
import { createEventConsumer } from '../../shared/edges/eventConsumer';
import type { ConsumerContextProvider } from '../../shared/ports';
import { failTaskOfInvalidEvent } from '../../shared/usecases/finishTask';
import { recordChunk } from '../../shared/usecases/recordChunk';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'ChunkEmbedded',
      handle: recordChunk,
      onInvalid: (detail, error, deps) => failTaskOfInvalidEvent(detail, 'ChunkEmbedded', error.message, deps),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
