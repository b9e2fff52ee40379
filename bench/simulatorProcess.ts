/**
 * The benchmark's providers, in a child process of their own: the OpenAI embeddings simulator
 * (with the budget under test) and the Pinecone data-plane simulator. Their JSON parsing, base64
 * encoding and vector hashing then use their own event loop (and core), not the pipeline's.
 *
 * Started with fork(); its options come as JSON in argv[2]. Messages:
 *   → { type: 'ready', openaiUrl, pineconeUrl }          once listening
 *   ← { type: 'stats' }  → { type: 'stats', stats }       counters so far (see SimulatorStats)
 *   ← { type: 'close' }  → exits once both are closed
 * The Pinecone simulator keeps every vector in memory; to run a million rows the child forgets
 * them (keeping the counts) once more than `keepVectors` are stored: nothing reads them back.
 */
import { startOpenAISimulator } from '../simulators/openai';
import { startPineconeSimulator } from '../simulators/pinecone';

export interface SimulatorProcessOptions {
  openai: { rpm: number; tpm: number; bucketSeconds?: number; latencyMs: { base: number; max: number } };
  pinecone: { latencyMs: number };
  apiKeys: { openai: string; pinecone: string };
  keepVectors?: number;
}

export interface SimulatorStats {
  openai: {
    requests: number;
    tokens: number;
    inputs: number;
    statusCounts: Record<string, number>;
    rateLimited: { requests: number; tokens: number };
    maxInFlight: number;
    maxTokensPerRequest: number;
  };
  pinecone: { requests: number; upserts: number; upsertedVectors: number; statusCounts: Record<string, number> };
  /** This process's CPU time (user + system) in seconds, and its resident memory. */
  cpuSeconds: number;
  rssBytes: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorProcessOptions;
  const { base, max } = options.openai.latencyMs;
  const openai = await startOpenAISimulator({
    apiKey: options.apiKeys.openai,
    rpm: options.openai.rpm,
    tpm: options.openai.tpm,
    bucketSeconds: options.openai.bucketSeconds,
    // Bigger requests take longer: base for a tiny one, max from 100K tokens up.
    latencyMs: ({ tokens }) => base + (max - base) * Math.min(1, tokens / 100_000),
  });
  const pinecone = await startPineconeSimulator({ apiKey: options.apiKeys.pinecone, latencyMs: options.pinecone.latencyMs });

  const keep = options.keepVectors ?? 100_000;
  const forgotten = { requests: 0, upserts: 0, upsertedVectors: 0, statusCounts: {} as Record<string, number> };
  const pineconeTotals = () => {
    const { stats } = pinecone;
    const statusCounts = { ...forgotten.statusCounts };
    for (const [status, count] of Object.entries(stats.statusCounts)) statusCounts[status] = (statusCounts[status] ?? 0) + count;
    return {
      requests: forgotten.requests + stats.requests,
      upserts: forgotten.upserts + stats.operations.upsert,
      upsertedVectors: forgotten.upsertedVectors + stats.upsertedVectors,
      statusCounts,
    };
  };
  const forget = setInterval(() => {
    if (pinecone.stats.upsertedVectors < keep) return;
    Object.assign(forgotten, pineconeTotals());
    pinecone.reset();
  }, 500);

  const stats = (): SimulatorStats => {
    const cpu = process.cpuUsage();
    const { stats: o } = openai;
    return {
      openai: {
        requests: o.requests,
        tokens: o.tokens,
        inputs: o.inputs,
        statusCounts: { ...o.statusCounts },
        rateLimited: { ...o.rateLimited },
        maxInFlight: o.maxInFlight,
        maxTokensPerRequest: o.tokensPerRequest.reduce((most, tokens) => Math.max(most, tokens), 0),
      },
      pinecone: pineconeTotals(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage.rss(),
    };
  };

  process.on('message', async (message: { type: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: stats() });
    if (message.type === 'close') {
      clearInterval(forget);
      await Promise.all([openai.close(), pinecone.close()]);
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', openaiUrl: openai.url, pineconeUrl: pinecone.url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
