/**
 * One measured run: a task on the uploaded file, followed to its end while the simulators' counters,
 * the processes' memory and CPU are sampled, and the figures the report prints.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LocalRuntime } from '../local/runtime';
import type { Series } from './chart';
import type { EmulatorHandle, SimulatorHandle } from './children';
import { fmt, pct } from './format';
import { API_KEY, S3_KEY } from './settings';

export interface RunFigures {
  status: string;
  records: Record<string, unknown>;
  /** `/status`'s `vectors` (upserted, metadata_updated, deleted), when it reports them. */
  vectors?: Record<string, unknown>;
  /** Tokens the provider billed (a request retried after a failed chunk counts again). */
  tokens: number;
  /** Tokens the task reports (each record's tokens once). */
  taskTokens: number;
  wallSeconds: number;
  recordsPerSecond: number;
  tokensPerSecond: number;
  utilisation: number;
  embeddingRequests: number;
  rateLimited: number;
  rateLimitedShare: number;
  upsertRequests: number;
  upsertedVectors: number;
  maxTokensPerRequest: number;
  /** Peak RSS of the pipeline process (sampled every 100 ms), MB. */
  peakRssMb: number;
  /** Peaks of V8's heap in use and of memory outside it (Buffers, ArrayBuffers), MB. */
  peakHeapUsedMb: number;
  peakExternalMb: number;
  /**
   * V8 heap of the pipeline process still in use after a full GC at the end, less the same before
   * the run: what the run left behind in it. The emulators' data lives in their own process, so
   * this is the pipeline's own; a figure growing with the rows would be a leak.
   */
  retainedHeapMb: number;
  /** Peak RSS of the emulators' (DynamoDB, S3) and the simulators' child processes (sampled every second), MB. */
  emulatorPeakRssMb: number;
  simulatorPeakRssMb: number;
  pipelineCpuSeconds: number;
  emulatorCpuSeconds: number;
  simulatorCpuSeconds: number;
  /** The run's first minute (the whole run when it is shorter), and what came after it. */
  firstMinute: Period;
  afterFirstMinute?: Period;
  samples: Series['samples'];
}

/** Budget utilisation and 429s over a part of a run. */
export interface Period {
  fromSeconds: number;
  toSeconds: number;
  utilisation: number;
  requests: number;
  rateLimited: number;
  rateLimitedShare: number;
}

const MINUTE_SECONDS = 60;

/** A period's figures from the run's samples (one a second, the last at the end): from the last sample at or before each bound. */
export function period(samples: Series['samples'], from: number, to: number, budgetTpm: number): Period {
  const at = (t: number) => samples.filter((sample) => sample.t <= t).at(-1) ?? { t: 0, tokens: 0, requests: 0, rateLimited: 0 };
  const start = from > 0 ? at(from) : { t: 0, tokens: 0, requests: 0, rateLimited: 0 };
  const end = at(to);
  const requests = end.requests - start.requests;
  const rateLimited = end.rateLimited - start.rateLimited;
  return {
    fromSeconds: start.t,
    toSeconds: end.t,
    utilisation: (end.tokens - start.tokens) / Math.max(1e-9, end.t - start.t) / (budgetTpm / 60),
    requests,
    rateLimited,
    rateLimitedShare: requests ? rateLimited / requests : 0,
  };
}

/** What a run reads of the local API's `/status` answer. */
type TaskStatus = {
  status: string;
  records?: { total?: number; processed?: number; skipped?: number; failed?: number } & Record<string, unknown>;
  embedding_tokens?: number;
  vectors?: Record<string, unknown>;
};

const PROGRESS_EVERY_MS = 15_000;

async function api<T>(runtime: LocalRuntime, pathAndQuery: string): Promise<T> {
  const response = await fetch(`${runtime.apiUrl}${pathAndQuery}`, { headers: { 'x-api-key': API_KEY } });
  const body = await response.json();
  if (response.status >= 400) throw new Error(`${pathAndQuery}: ${response.status} ${JSON.stringify(body)}`);
  return body as T;
}

/** V8 heap in use after a full garbage collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** A full run lasts up to an hour: one line every 15 s says how far it is. */
function progressLine(status: TaskStatus, seconds: number, sample: Series['samples'][number] | undefined): string {
  const { total, processed = 0, skipped = 0, failed = 0 } = status.records ?? {};
  const done = processed + skipped + failed;
  const of = total ? ` of ${fmt(total)} (${pct(done / total, 0)})` : ' (still planning)';
  const rate = sample && sample.t > 0 ? `, ${fmt(sample.tokens / sample.t)} tokens/s, ${fmt(sample.rateLimited)} × 429` : '';
  return `  … ${fmt(seconds)} s: ${fmt(done)} records${of}${rate}, RSS ${fmt(process.memoryUsage.rss() / 2 ** 20)} MB`;
}

/** Starts a task on the file uploaded at `s3Key` and follows it to the end, sampling the simulator and memory. */
export async function runTask(
  runtime: LocalRuntime,
  emulators: EmulatorHandle,
  sim: SimulatorHandle,
  budgetTpm: number,
  s3Key = S3_KEY,
): Promise<RunFigures> {
  const heapBefore = heapAfterGc();
  const before = await sim.stats();
  const emulatorsBefore = await emulators.stats();
  const childPeaks = { emulators: emulatorsBefore.rssBytes, simulators: before.rssBytes };
  const cpuBefore = process.cpuUsage();
  const samples: Series['samples'] = [];
  const peaks = { rss: 0, heapUsed: 0, external: 0 };
  const rssTimer = setInterval(() => {
    const usage = process.memoryUsage();
    for (const key of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[key] = Math.max(peaks[key], usage[key]);
  }, 100);
  const started = performance.now();
  const sample = async () => {
    const [stats, emulatorStats] = await Promise.all([sim.stats(), emulators.stats()]);
    childPeaks.emulators = Math.max(childPeaks.emulators, emulatorStats.rssBytes);
    childPeaks.simulators = Math.max(childPeaks.simulators, stats.rssBytes);
    samples.push({
      t: (performance.now() - started) / 1000,
      tokens: stats.openai.tokens - before.openai.tokens,
      requests: stats.openai.requests - before.openai.requests,
      rateLimited: (stats.openai.statusCounts[429] ?? 0) - (before.openai.statusCounts[429] ?? 0),
    });
    return { stats, emulatorStats };
  };
  const sampler = setInterval(() => void sample(), 1000);
  const task = await api<{ task_id: string }>(runtime, `/process?data_source=s3_csv&s3_key=${encodeURIComponent(s3Key)}&namespace=bench`);
  let status: TaskStatus;
  let reported = started;
  for (;;) {
    status = await api<TaskStatus>(runtime, `/status?task_id=${encodeURIComponent(task.task_id)}`);
    if (!['PENDING', 'RUNNING'].includes(status.status)) break;
    if (performance.now() - reported >= PROGRESS_EVERY_MS) {
      reported = performance.now();
      console.log(progressLine(status, (reported - started) / 1000, samples.at(-1)));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const wallSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  clearInterval(rssTimer);
  const { stats: after, emulatorStats: emulatorsAfter } = await sample();
  const cpu = process.cpuUsage(cpuBefore);
  const embeddingRequests = after.openai.requests - before.openai.requests;
  const rateLimited = (after.openai.statusCounts[429] ?? 0) - (before.openai.statusCounts[429] ?? 0);
  const tokens = after.openai.tokens - before.openai.tokens;
  const records = status.records ?? {};
  return {
    status: status.status,
    records,
    ...(status.vectors ? { vectors: status.vectors } : {}),
    tokens,
    taskTokens: status.embedding_tokens ?? 0,
    wallSeconds,
    recordsPerSecond: (records.total ?? 0) / wallSeconds,
    tokensPerSecond: tokens / wallSeconds,
    utilisation: tokens / wallSeconds / (budgetTpm / 60),
    embeddingRequests,
    rateLimited,
    rateLimitedShare: embeddingRequests ? rateLimited / embeddingRequests : 0,
    upsertRequests: after.pinecone.upserts - before.pinecone.upserts,
    upsertedVectors: after.pinecone.upsertedVectors - before.pinecone.upsertedVectors,
    maxTokensPerRequest: after.openai.maxTokensPerRequest,
    peakRssMb: peaks.rss / 2 ** 20,
    peakHeapUsedMb: peaks.heapUsed / 2 ** 20,
    peakExternalMb: peaks.external / 2 ** 20,
    retainedHeapMb: (heapAfterGc() - heapBefore) / 2 ** 20,
    emulatorPeakRssMb: childPeaks.emulators / 2 ** 20,
    simulatorPeakRssMb: childPeaks.simulators / 2 ** 20,
    pipelineCpuSeconds: (cpu.user + cpu.system) / 1e6,
    emulatorCpuSeconds: emulatorsAfter.cpuSeconds - emulatorsBefore.cpuSeconds,
    simulatorCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    firstMinute: period(samples, 0, MINUTE_SECONDS, budgetTpm),
    ...(wallSeconds > MINUTE_SECONDS ? { afterFirstMinute: period(samples, MINUTE_SECONDS, Infinity, budgetTpm) } : {}),
    samples,
  };
}
