/**
 * The pipeline's typed producer: `publish('ChunkPlanned', details)` checks each detail against its
 * contract before it leaves, so a producer bug fails the producer (which SQS retries and, at the
 * end, marks its task) instead of poisoning the next consumer.
 */
import type { EventPublisher, PipelineEvents } from '../ports';
import { validateEvent } from './validate';

export function pipelineEvents(bus: EventPublisher, source: string): PipelineEvents {
  return {
    async publish(name, details) {
      for (const detail of details) validateEvent(name, detail);
      await bus.publish(details.map((detail) => ({ detailType: name, source, detail })));
    },
  };
}
