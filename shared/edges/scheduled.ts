/**
 * The scheduled edge: an EventBridge schedule (or local mode's timer) invokes the function with
 * an event that carries nothing it needs; the run loads the dependencies and does its job. A
 * failure is thrown, so Lambda counts it in the function's Errors metric (and its alarm).
 */
import { publishMetrics } from '../metrics';
import type { Dependencies, DependencyProvider } from '../ports';

export type ScheduledHandler = () => Promise<void>;

export function createScheduledHandler(run: (deps: Dependencies) => Promise<unknown>, provide: DependencyProvider): ScheduledHandler {
  return async () => {
    const deps = await provide();
    try {
      await run(deps);
    } finally {
      publishMetrics();
    }
  };
}
