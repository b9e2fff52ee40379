/** Each announced chunk's ChunkPlanned, kept on the task table so that a chunk whose message was lost can be announced again. */
import type { ChunkPlanned } from '../events/types';

export interface ChunkPlanStore {
  /** Keeps the plans (again on a re-plan: the same chunks, the same items). */
  save(chunks: ChunkPlanned[], now: Date): Promise<void>;
  /** The plans of the task's chunks that have no recorded result, in index order. */
  unrecorded(taskId: string): Promise<ChunkPlanned[]>;
}
