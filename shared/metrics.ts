/**
 * Metrics as CloudWatch EMF (Powertools Metrics): JSON lines on stdout that CloudWatch Logs turns
 * into metrics of the namespace VectordbCatchup, dimensions `service` (POWERTOOLS_SERVICE_NAME)
 * and `function` (the Lambda's name). They are stored while an invocation runs and written by its
 * edge (`publishMetrics`) once it ends. POWERTOOLS_METRICS_DISABLED=true writes none (local mode).
 * The instrumented ports below record what only they see: latency, tokens, 429s, pacer waits.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ChunkEmbedded } from './events/types';
import type { Embedder, RateLimitInfo, RequestPacer, VectorStore } from './ports';

export const METRICS_NAMESPACE = 'VectordbCatchup';

/** Every metric this service publishes, with its unit. */
export const METRIC_UNITS = {
  RecordsProcessed: MetricUnit.Count,
  RecordsSkipped: MetricUnit.Count,
  RecordsFailed: MetricUnit.Count,
  EmbeddingTokens: MetricUnit.Count,
  EmbeddingLatency: MetricUnit.Milliseconds,
  UpsertLatency: MetricUnit.Milliseconds,
  ProviderThrottles: MetricUnit.Count,
  ChunkDuration: MetricUnit.Milliseconds,
  PacerWait: MetricUnit.Milliseconds,
} as const;

export type MetricName = keyof typeof METRIC_UNITS;

let metrics: Metrics | undefined;

/** Built on first use, so that the environment (POWERTOOLS_METRICS_DISABLED) is read once it is set. */
function store(): Metrics {
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  metrics ??= new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vectordb-catchup',
    defaultDimensions: functionName ? { function: functionName } : {},
  });
  return metrics;
}

export function recordMetric(name: MetricName, value: number): void {
  store().addMetric(name, METRIC_UNITS[name], value);
}

/** Writes what this invocation recorded, if anything (Powertools warns about an empty flush). */
export function publishMetrics(): void {
  if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** A chunk's counts, from the ChunkEmbedded it announced, and how long it took. */
export function recordChunk(result: ChunkEmbedded, durationMs: number): void {
  recordMetric('RecordsProcessed', result.records.processed);
  recordMetric('RecordsSkipped', result.records.skipped);
  recordMetric('RecordsFailed', result.records.failed);
  recordMetric('ChunkDuration', durationMs);
}

/**
 * Records each request's latency, billed tokens and the 429s met on the way (which the client
 * retried; the adapter wrote a WARN line for each).
 */
export function instrumentedEmbedder(embedder: Embedder): Embedder {
  const throttled = (outcome: unknown) => {
    const count = (outcome as { rateLimit?: RateLimitInfo } | undefined)?.rateLimit?.rateLimited?.count ?? 0;
    if (count > 0) recordMetric('ProviderThrottles', count);
  };
  return {
    description: embedder.description,
    model: embedder.model,
    dimensions: embedder.dimensions,
    async embed(inputs) {
      const started = performance.now();
      try {
        const result = await embedder.embed(inputs);
        recordMetric('EmbeddingLatency', performance.now() - started);
        recordMetric('EmbeddingTokens', result.tokens);
        throttled(result);
        return result;
      } catch (error) {
        throttled(error);
        throw error;
      }
    },
  };
}

/** Records each upsert's latency (its retries included). */
export function instrumentedVectors(vectors: VectorStore): VectorStore {
  return {
    description: vectors.description,
    fetch: (namespace, ids) => vectors.fetch(namespace, ids),
    delete: (namespace, ids) => vectors.delete(namespace, ids),
    query: (namespace, vector, topK, filter) => vectors.query(namespace, vector, topK, filter),
    async upsert(namespace, records) {
      const started = performance.now();
      await vectors.upsert(namespace, records);
      recordMetric('UpsertLatency', performance.now() - started);
    },
  };
}

/** Records how long each request waited for the pacer. */
export function instrumentedPacer(pacer: RequestPacer): RequestPacer {
  return {
    requestTokenLimit: pacer.requestTokenLimit?.bind(pacer),
    observe: pacer.observe?.bind(pacer),
    async acquire(tokens) {
      const started = performance.now();
      await pacer.acquire(tokens);
      recordMetric('PacerWait', performance.now() - started);
    },
  };
}
