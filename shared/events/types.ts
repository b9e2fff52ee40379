import type { EventName } from '../../events-schema';
import type { ChunkEmbedded, ChunkPlanned, SyncStepRequested, TaskCompleted, TaskRequested, TaskRetryRequested } from './types.generated';

export type { ChunkEmbedded, ChunkPlanned, SyncStepRequested, TaskCompleted, TaskRequested, TaskRetryRequested } from './types.generated';

export interface EventDetails extends Record<EventName, unknown> {
  TaskRequested: TaskRequested;
  ChunkPlanned: ChunkPlanned;
  ChunkEmbedded: ChunkEmbedded;
  SyncStepRequested: SyncStepRequested;
  TaskCompleted: TaskCompleted;
  TaskRetryRequested: TaskRetryRequested;
}
