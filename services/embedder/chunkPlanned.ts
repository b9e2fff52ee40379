/** SQS (ChunkPlanned) → embed and upsert the chunk; it announces ChunkEmbedded, whose counts and duration become metrics. */
import { awsConsumerContext } from '../../shared/composition/aws';
import { createEventConsumer } from '../../shared/edges/eventConsumer';
import { recordChunk } from '../../shared/metrics';
import type { ConsumerContextProvider } from '../../shared/ports';
import { embedChunk, failChunk } from '../../shared/usecases/embedChunk';
import { failTaskOfInvalidEvent } from '../../shared/usecases/finishTask';

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'ChunkPlanned',
      handle: async (chunk, deps) => {
        const started = performance.now();
        const result = await embedChunk(chunk, deps);
        if (result) recordChunk(result, performance.now() - started);
      },
      onInvalid: (detail, error, deps) => failTaskOfInvalidEvent(detail, 'ChunkPlanned', error.message, deps),
      onFinalFailure: (chunk, error, deps) => failChunk(chunk, error.message, deps),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
