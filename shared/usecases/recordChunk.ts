/** The aggregator: adds a finished chunk to its task exactly once and ends the task after the last one. */
import type { Dependencies } from '../dependencies';
import type { ChunkEmbedded } from '../events/types';
import { finishIfSettled } from './announce';

export async function recordChunk(result: ChunkEmbedded, deps: Dependencies): Promise<void> {
  const { applied, task } = await deps.tasks.recordChunk(result, deps.now());
  if (!applied) deps.logger.info('chunk already counted; duplicate ignored', { taskId: result.taskId, chunkIndex: result.chunkIndex });
  await finishIfSettled(task, deps);
}
