/**
 * The metrics of a chunk's embedding, as the EMF line CloudWatch reads: the instrumented ports
 * record latency, tokens, 429s and pacer waits, the chunk its counts and duration, and one flush
 * writes them all, in the namespace and dimensions the dashboard reads.
 */
import type { ChunkEmbedded } from '../../../shared/events/types';
import {
  instrumentedEmbedder,
  instrumentedPacer,
  instrumentedVectors,
  METRICS_NAMESPACE,
  publishMetrics,
  recordChunk,
} from '../../../shared/metrics';
import type { Embedder, VectorStore } from '../../../shared/ports';

const chunkResult: ChunkEmbedded = {
  schemaVersion: 1,
  taskId: 'task-1',
  chunkIndex: 3,
  outcome: 'completed',
  records: { total: 10, processed: 7, skipped: 2, failed: 1, truncated: 0 },
  tokens: 42,
  vectors: { upserted: 7, metadataUpdated: 0, deleted: 0 },
  errors: [{ recordNumber: 4, message: 'embedding rejected' }],
  finishedAt: '2026-01-01T00:00:00.000Z',
};

function emittedLines(work: () => void): string[] {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array): boolean => {
    written.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return written.flatMap((text) => text.split('\n').filter(Boolean));
}

describe('metrics of a chunk', () => {
  beforeAll(() => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'vectordb-catchup-test-embedder';
  });
  afterAll(() => delete process.env.AWS_LAMBDA_FUNCTION_NAME);

  it('are one EMF line with every value the chunk produced', async () => {
    const fakeEmbedder: Embedder = {
      description: 'fake',
      model: 'm',
      dimensions: 2,
      embed: async (inputs) => ({ vectors: inputs.map(() => Float32Array.of(1, 0)), tokens: 42, rateLimit: { rateLimited: { count: 2 } } }),
    };
    const upserted: number[] = [];
    const fakeVectors = {
      description: 'fake',
      upsert: async (_ns: string, records: unknown[]) => void upserted.push(records.length),
    } as unknown as VectorStore;
    const embedder = instrumentedEmbedder(fakeEmbedder);
    const vectors = instrumentedVectors(fakeVectors);
    const pacer = instrumentedPacer({ acquire: async () => undefined });

    await pacer.acquire(42);
    const { vectors: embedded } = await embedder.embed(['a', 'b']);
    await vectors.upsert(
      'crm',
      embedded.map((values, i) => ({ id: `r-${i}`, values, metadata: {} })),
    );
    recordChunk(chunkResult, 1234);
    const [line, ...more] = emittedLines(publishMetrics);

    expect(more).toEqual([]);
    const emf = JSON.parse(line);
    expect(emf._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: METRICS_NAMESPACE, Dimensions: [expect.arrayContaining(['service', 'function'])] }),
    ]);
    expect(METRICS_NAMESPACE).toBe('VectordbCatchup');
    expect(emf).toMatchObject({
      service: 'vectordb-catchup',
      function: 'vectordb-catchup-test-embedder',
      RecordsProcessed: 7,
      RecordsSkipped: 2,
      RecordsFailed: 1,
      ChunkDuration: 1234,
      EmbeddingTokens: 42,
      ProviderThrottles: 2,
    });
    for (const latency of ['EmbeddingLatency', 'UpsertLatency', 'PacerWait']) {
      expect(typeof emf[latency]).toBe('number');
      expect(emf[latency]).toBeGreaterThanOrEqual(0);
    }
    expect(upserted).toEqual([2]);
  });

  it('write nothing when nothing was recorded since the last flush', () => {
    expect(emittedLines(publishMetrics)).toEqual([]);
  });
});
