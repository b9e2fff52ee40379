/**
 * The modes (see run.ts), each on a fresh runtime, fresh emulators and fresh simulators: the
 * budget and provider window it runs under, its consumers and the pacers it gives them, and the
 * paced mode's incremental re-runs (incremental.ts): the same key again, and the same file under
 * another key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localEnvironment, startLocalRuntime } from '../local/runtime';
import { requestPacer } from '../shared/composition/providers';
import { DEFAULTS, loadConfig } from '../shared/config';
import { createRequestPacer, type RatePacer } from '../shared/domain/pacer';
import type { Args, Mode } from './args';
import { baselineEmbedder } from './baseline';
import { startEmulatorProcess, startSimulatorProcess } from './children';
import { emulateSeparateConsumers, type Timings } from './consumers';
import { runReRuns, upload, type Incremental } from './incremental';
import { runTask, type RunFigures } from './measure';
import { startProfiling, type CpuProfileSummary } from './profile';
import { API_KEY, BASELINE, OPENAI_KEY, OTHER_S3_KEY, PINECONE_KEY, S3_KEY, UNLIMITED } from './settings';

export interface ModeResult extends RunFigures {
  mode: Mode;
  budget: { rpm: number; tpm: number };
  /** Seconds of budget the provider's window held. */
  bucketSeconds: number;
  consumers: number;
  rows: number;
  /** The embedder's memory in the wiring, MB (what a deployed consumer gets). */
  embedderMemoryMb: number;
  pacers?: ReturnType<RatePacer['snapshot']>[];
  timings: Timings & { consumerSeconds: number };
  /** CPU of the pipeline process by component (unlimited mode). */
  cpuProfile?: CpuProfileSummary;
  /** The paced mode's re-runs: the same key again, with the re-run under another key as `otherKey`. */
  incremental?: Incremental;
}

/** One run of `mode` on the file at `csvPath` (of `rows` rows), the provider's window holding `bucketSeconds` of budget. */
export async function runMode(mode: Mode, args: Args, csv: { path: string; rows: number }, bucketSeconds: number): Promise<ModeResult> {
  const unlimited = mode === 'unlimited' || mode === 'single';
  const budget = unlimited ? { rpm: UNLIMITED, tpm: UNLIMITED } : { rpm: args.rpm, tpm: args.tpm };
  const consumers = mode === 'single' ? 1 : args.consumers;
  const sim = await startSimulatorProcess({
    openai: { rpm: budget.rpm, tpm: budget.tpm, bucketSeconds, latencyMs: args.latencyMs },
    pinecone: { latencyMs: args.pineconeLatencyMs },
    apiKeys: { openai: OPENAI_KEY, pinecone: PINECONE_KEY },
  });
  const env = {
    PATH: process.env.PATH,
    API_KEY,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: sim.openaiUrl,
    OPENAI_RPM: String(budget.rpm),
    OPENAI_TPM: String(budget.tpm),
    PINECONE_API_KEY: PINECONE_KEY,
    PINECONE_INDEX_HOST: sim.pineconeUrl,
    EMBEDDER_CONCURRENCY: String(consumers),
    // The single consumer is measured as deployed: chunks of the pipeline's default size.
    CHUNK_SIZE: String(mode === 'single' ? DEFAULTS.chunkRecords : args.chunkSize),
  };
  // The emulators' table and bucket: the ones the runtime will read from the same environment.
  const { region, tableName, bucketName } = loadConfig(localEnvironment(env));
  const emulators = await startEmulatorProcess({ region, tableName, bucketName });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-bench-'));
  // The runtime takes the emulators over: its stop() closes them.
  const runtime = await startLocalRuntime({ dataDir, env, emulators });
  try {
    const { config } = runtime;
    // One pacer per consumer, built exactly as the AWS composition root builds each Lambda's.
    const pacers = Array.from({ length: consumers }, () =>
      mode === 'baseline'
        ? createRequestPacer({ requestsPerSecond: BASELINE.requestsPerSecond, consumers })
        : requestPacer(config, config.embedderConcurrency),
    );
    if (mode === 'baseline') runtime.deps.embedder = baselineEmbedder(runtime.deps.embedder, pacers);
    const consumerPacers = mode === 'baseline' ? [createRequestPacer({ consumers: 1 })] : pacers;
    const timings = emulateSeparateConsumers(runtime, consumers, consumerPacers);

    await upload(runtime, csv.path, S3_KEY);

    // The single consumer's CPU is measured unprofiled: the profiler's own cost would count in it.
    const stopProfiling = mode === 'unlimited' ? await startProfiling() : undefined;
    const figures = await runTask(runtime, emulators, sim, budget.tpm);
    const cpuProfile = await stopProfiling?.();
    const result: ModeResult = {
      mode,
      budget,
      bucketSeconds,
      consumers,
      rows: csv.rows,
      embedderMemoryMb: runtime.wiring.consumers.embedder.memorySize,
      ...figures,
      ...(cpuProfile ? { cpuProfile } : {}),
      ...(mode === 'baseline' ? {} : { pacers: pacers.map((pacer) => pacer.snapshot()) }),
      timings: { ...structuredClone(timings), consumerSeconds: consumers * figures.wallSeconds },
    };
    if (mode === 'paced' && bucketSeconds === args.bucketSeconds[0]) {
      // The same file again, then under another key: unchanged records should cost no tokens and no upserts.
      const context = { runtime, emulators, sim, budgetTpm: budget.tpm, firstWallSeconds: figures.wallSeconds };
      result.incremental = await runReRuns(context, csv.path, S3_KEY, OTHER_S3_KEY);
    }
    return result;
  } finally {
    await runtime.stop();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
