import type { EventName } from '../../events-schema';
import type { ChunkEmbedded, ChunkPlanned, TaskCompleted, TaskRequested } from './types.generated';

export type { ChunkEmbedded, ChunkPlanned, TaskCompleted, TaskRequested } from './types.generated';

export interface EventDetails extends Record<EventName, unknown> {
  TaskRequested: TaskRequested;
  ChunkPlanned: ChunkPlanned;
  ChunkEmbedded: ChunkEmbedded;
  TaskCompleted: TaskCompleted;
}
