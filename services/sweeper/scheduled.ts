/** Every few minutes (infra/wiring.yml › scheduled.sweeper) → announce stuck tasks' lost work again, or end them. */
import { awsDependencies } from '../../shared/composition/aws';
import { createScheduledHandler } from '../../shared/edges/scheduled';
import type { DependencyProvider } from '../../shared/ports';
import { sweepStuckTasks } from '../../shared/usecases/sweepTasks';

export function createHandler(provide: DependencyProvider) {
  return createScheduledHandler(sweepStuckTasks, provide);
}

export const handler = createHandler(awsDependencies);
