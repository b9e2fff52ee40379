/** Each announced chunk's ChunkPlanned, kept on the task table so that a chunk whose message was lost can be announced again. */
import type { ChunkPlanned } from '../events/types';

export interface ChunkPlanStore {
  /** Keeps the plans (again on a re-plan: the same chunks, the same items). */
  save(chunks: ChunkPlanned[], now: Date): Promise<void>;
  /** Every kept plan of the task, in index order. */
  ofTask(taskId: string): Promise<ChunkPlanned[]>;
  /**
   * The plans of the task's chunks with no result recorded by `attempt` or a later one, in index
   * order, each as that attempt announces it.
   */
  unrecorded(taskId: string, attempt?: number): Promise<ChunkPlanned[]>;
}
