/** Small fakes of the ports for use-case and edge unit tests: each fails loudly when a test reaches a method it did not expect. */
import type { EventName } from '../../events-schema';
import type { EventDetails } from '../../shared/events/types';
import type { Logger, PipelineEvents, TaskRepository } from '../../shared/ports';

function unexpected(name: string): () => never {
  return () => {
    throw new Error(`the test did not expect ${name} to be called`);
  };
}

export function fakeTasks(methods: Partial<TaskRepository>): TaskRepository {
  return {
    create: unexpected('tasks.create'),
    get: unexpected('tasks.get'),
    start: unexpected('tasks.start'),
    completePlan: unexpected('tasks.completePlan'),
    isChunkRecorded: unexpected('tasks.isChunkRecorded'),
    recordChunk: unexpected('tasks.recordChunk'),
    finish: unexpected('tasks.finish'),
    markCompletionAnnounced: unexpected('tasks.markCompletionAnnounced'),
    ...methods,
  };
}

export interface PublishedEvent<N extends EventName = EventName> {
  name: N;
  detail: EventDetails[N];
}

/** Records what a use case publishes, in order. */
export function recordingEvents(): PipelineEvents & { published: PublishedEvent[] } {
  const published: PublishedEvent[] = [];
  return {
    published,
    async publish(name, details) {
      for (const detail of details) published.push({ name, detail } as PublishedEvent);
    },
  };
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
