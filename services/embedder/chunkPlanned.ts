/** SQS (ChunkPlanned) → embed and upsert the chunk, then announce ChunkEmbedded. */
import type { ConsumerContextProvider, Dependencies } from '../../shared/dependencies';
import type { ChunkEmbedded } from '../../shared/events/types';
import { createEventConsumer } from '../../shared/handlers/eventConsumer';
import { awsConsumerContext } from '../../shared/runtime/aws';
import { embedChunk, failedChunk } from '../../shared/usecases/embedChunk';

function announce(result: ChunkEmbedded, deps: Dependencies): Promise<void> {
  return deps.events.publish([{ detailType: 'ChunkEmbedded', source: deps.config.eventSource, detail: result }]);
}

export function createHandler(provide: ConsumerContextProvider) {
  return createEventConsumer(
    {
      eventName: 'ChunkPlanned',
      handle: async (chunk, deps) => {
        const result = await embedChunk(chunk, deps);
        if (result) await announce(result, deps);
      },
      // The chunk's records count as failed, so that its task still reaches a terminal state.
      onFinalFailure: (chunk, error, deps) => announce(failedChunk(chunk, error.message, deps.now()), deps),
    },
    provide,
  );
}

export const handler = createHandler(awsConsumerContext);
