/** The counters every simulator keeps, and the in-flight peak the OpenAI and Pinecone ones add. */
import type { Handler } from './http';

export interface RequestStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Responses by HTTP status. */
  statusCounts: Record<number, number>;
}

export interface InFlightStats {
  /** Most requests in progress at once. */
  maxInFlight: number;
}

export function countStatus(stats: RequestStats, status: number): void {
  stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
}

/** `handle`, keeping `stats.maxInFlight` up to date. */
export function trackInFlight(stats: InFlightStats, handle: Handler): Handler {
  let inFlight = 0;
  return async (req, res, closing) => {
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    try {
      await handle(req, res, closing);
    } finally {
      inFlight--;
    }
  };
}
