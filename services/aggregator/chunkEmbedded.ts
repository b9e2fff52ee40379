/** SQS (ChunkEmbedded) → add the chunk's counts to its task once; end the task after the last chunk. */
import type { ConsumerContextProvider } from '../../shared/dependencies';
import { createEventConsumer } from '../../shared/handlers/eventConsumer';
import { awsConsumerContext } from '../../shared/runtime/aws';
import { recordChunk } from '../../shared/usecases/recordChunk';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer({ eventName: 'ChunkEmbedded', handle: recordChunk }, provide);
}

export const handler = createHandler(awsConsumerContext);
