/** The aggregator: adds a finished chunk to its task exactly once and ends the task after the last one. */
import type { ChunkEmbedded } from '../events/types';
import type { Dependencies } from '../ports';
import { finishIfSettled, type SettleTaskDeps } from './settleTask';

export type RecordChunkDeps = SettleTaskDeps & Pick<Dependencies, 'logger'>;

export async function recordChunk(result: ChunkEmbedded, deps: RecordChunkDeps): Promise<void> {
  const { applied, task } = await deps.tasks.recordChunk(result, deps.now());
  if (!applied) deps.logger.info('chunk already counted; duplicate ignored', { task_id: result.taskId, chunk_index: result.chunkIndex });
  await finishIfSettled(task, deps);
}
