/** The published event contracts: one JSON Schema per event, versioned in the file name. */
import ChunkEmbedded from './ChunkEmbedded.v1.json';
import ChunkPlanned from './ChunkPlanned.v1.json';
import TaskCompleted from './TaskCompleted.v1.json';
import SyncStepRequested from './SyncStepRequested.v1.json';
import TaskRequested from './TaskRequested.v1.json';
import TaskRetryRequested from './TaskRetryRequested.v1.json';

export const eventSchemas = { TaskRequested, ChunkPlanned, ChunkEmbedded, SyncStepRequested, TaskCompleted, TaskRetryRequested } as const;

export type EventName = keyof typeof eventSchemas;
export const eventNames = Object.keys(eventSchemas) as EventName[];
