/**
 * `npm run bench`: the real pipeline (the local runtime, the same handlers and wiring as on AWS)
 * on a generated CSV, against the OpenAI and Pinecone simulators running in a child process, with
 * a provider budget (RPM/TPM) and latency. DynamoDB and S3 (dynalite, s3rver) run in another
 * child process, so that the pipeline process's memory and CPU figures are its own, as on Lambda;
 * each child's peak RSS is reported beside it. `npm run bench` caps the pipeline process's V8 heap
 * (old space 256 MB, young 3 × 16 MB), as a Lambda's memory caps its heap: V8 otherwise sizes the
 * heap from the machine's memory and lets garbage (each upsert body is a ~3 MB string) pile up to
 * several times the live set before collecting it; a live set that grew with the row count would
 * fail the run instead of only raising a figure. Three measurements, one after another, each on a
 * fresh runtime, fresh emulators and fresh simulators:
 *
 *   paced      this pipeline: 5 consumers, each pacing itself to 1/5 of the budget (as separate
 *              Lambdas do) and adapting to the rate-limit headers and 429s; then the same file a
 *              second time (incremental: unchanged records should cost nothing)
 *   baseline   the older system's strategy in the same pipeline: 20 requests/s shared by the 5
 *              consumers, 100 inputs per embeddings request, no token budget, no adaptation
 *   unlimited  this pipeline with an unlimited budget: what the machine itself can do, and where
 *              the time goes
 *
 * Options: --rows N (default 6000: the quick run), --chunk-size N (records per chunk; default 250
 * up to 20,000 rows, so that each consumer paces several requests, else the pipeline's 1000), --tpm, --rpm
 * (default 1,000,000 and 3,000: text-embedding-3-small's usage tier 1), --latency-ms BASE,MAX
 * (OpenAI answer time, from BASE for a tiny request to MAX from 100K tokens; default 100,300),
 * --pinecone-latency-ms (default 50), --bucket-seconds (how much budget the simulator lets go at
 * once: 60 s, a minute's quota, as OpenAI's per-minute limits, for the full runs; 5 s up to
 * 20,000 rows, whose runs last less than a minute and would otherwise measure the simulator's
 * burst, not anyone's pacing; OpenAI notes that limits may be enforced over shorter periods),
 * --consumers (default 5), --modes paced,baseline,unlimited, --out DIR (default bench-results/).
 *
 * Prints a summary, and writes bench-results/<timestamp>-<rows>.json and .svg.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { connectEmulators, type Emulators, type S3Notification } from '../local/emulators';
import { localEnvironment, startLocalRuntime, type LocalRuntime } from '../local/runtime';
import { loadConfig } from '../shared/config';
import { createRequestPacer, type RatePacer } from '../shared/domain/pacer';
import type { Embedder, Vector } from '../shared/ports';
import { renderChart, type Series } from './chart';
import { currentSlot, emulateSeparateConsumers, type Timings } from './consumers';
import { writeCatalogueCsv } from './dataset';
import { startProfiling, type CpuProfileSummary } from './profile';
import type { EmulatorProcessOptions, EmulatorStats } from './emulatorProcess';
import type { SimulatorProcessOptions, SimulatorStats } from './simulatorProcess';

type Mode = 'paced' | 'baseline' | 'unlimited';

interface Args {
  rows: number;
  chunkSize: number;
  tpm: number;
  rpm: number;
  latencyMs: { base: number; max: number };
  pineconeLatencyMs: number;
  bucketSeconds: number;
  consumers: number;
  modes: Mode[];
  out: string;
}

const API_KEY = 'bench-api-key';
const OPENAI_KEY = 'sk-bench';
const PINECONE_KEY = 'pcsk-bench';
const UNLIMITED = 1e9;
/** The older system: 20 requests per second in all, 100 inputs per request. */
const BASELINE = { requestsPerSecond: 20, inputsPerRequest: 100 };
const S3_KEY = 'bench/catalogue.csv';

function parseArgs(argv: string[]): Args {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    if (index >= 0) return argv[index + 1];
    return argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const num = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return parsed;
  };
  const rows = Math.round(num('rows', 6000));
  const [base, max] = (value('latency-ms') ?? '100,300').split(',').map(Number);
  const modes = (value('modes') ?? 'paced,baseline,unlimited').split(',') as Mode[];
  for (const mode of modes) if (!['paced', 'baseline', 'unlimited'].includes(mode)) throw new Error(`unknown mode "${mode}"`);
  return {
    rows,
    chunkSize: Math.round(num('chunk-size', rows <= 20_000 ? 250 : 1000)),
    tpm: num('tpm', 1_000_000),
    rpm: num('rpm', 3000),
    latencyMs: { base, max: max ?? base },
    pineconeLatencyMs: num('pinecone-latency-ms', 50),
    bucketSeconds: num('bucket-seconds', rows <= 20_000 ? 5 : 60),
    consumers: Math.round(num('consumers', 5)),
    modes,
    out: value('out') ?? path.resolve(__dirname, '..', 'bench-results'),
  };
}

/**
 * A helper process of the benchmark, started with fork() (its options as JSON in argv[2]): each
 * request is a message `{ type }`, answered by the next message of that type.
 */
interface ChildProcessHandle {
  ready: any;
  request(type: string): Promise<any>;
  close(): Promise<void>;
}

async function forkChild(file: string, options: unknown, onMessage: (message: any) => void = () => undefined): Promise<ChildProcessHandle> {
  // The heap cap is the pipeline's (see npm run bench); the simulators keep up to 100K vectors.
  const execArgv = process.execArgv.filter((arg) => !/^--max-(old|semi)-space-size/.test(arg));
  const child: ChildProcess = fork(path.join(__dirname, file), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const waiting = new Map<string, { resolve: (message: any) => void; reject: (error: Error) => void }[]>();
  child.on('message', (message: any) => {
    onMessage(message);
    waiting.get(message.type)?.shift()?.resolve(message);
  });
  child.once('exit', (code) => {
    for (const waiter of [...waiting.values()].flat()) waiter.reject(new Error(`${file} exited (${code})`));
    waiting.clear();
  });
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      waiting.set(type, [...(waiting.get(type) ?? []), { resolve, reject }]);
    });
  const ready = await next('ready');
  return {
    ready,
    async request(type) {
      const reply = next(type);
      child.send({ type });
      return reply;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

interface SimulatorHandle {
  openaiUrl: string;
  pineconeUrl: string;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

async function startSimulatorProcess(options: SimulatorProcessOptions): Promise<SimulatorHandle> {
  const child = await forkChild('simulatorProcess.ts', options);
  return {
    openaiUrl: child.ready.openaiUrl,
    pineconeUrl: child.ready.pineconeUrl,
    stats: async () => (await child.request('stats')).stats,
    close: child.close,
  };
}

/** DynamoDB and S3 in their own process, used through the same clients as in process; stats() is that process's CPU and memory. */
type EmulatorHandle = Emulators & { stats(): Promise<EmulatorStats> };

async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorHandle> {
  const listeners: ((notification: S3Notification) => void)[] = [];
  const child = await forkChild('emulatorProcess.ts', options, (message) => {
    if (message.type === 'objectCreated') for (const listener of listeners) listener(message.notification);
  });
  const emulators = connectEmulators({
    dynamoEndpoint: child.ready.dynamoEndpoint,
    s3Endpoint: child.ready.s3Endpoint,
    region: options.region,
    onObjectCreated: (listener) => listeners.push(listener),
    close: child.close,
  });
  return { ...emulators, stats: async () => (await child.request('stats')).stats };
}

/** The older system's embedding calls: inputs in groups of 100, each request paced to 20/s in all. */
function baselineEmbedder(inner: Embedder, pacers: RatePacer[]): Embedder {
  return {
    description: `${inner.description} (older strategy)`,
    model: inner.model,
    dimensions: inner.dimensions,
    async embed(inputs) {
      const vectors: Vector[] = [];
      let tokens = 0;
      for (let start = 0; start < inputs.length; start += BASELINE.inputsPerRequest) {
        await pacers[Math.min(currentSlot(), pacers.length - 1)].acquire();
        const result = await inner.embed(inputs.slice(start, start + BASELINE.inputsPerRequest));
        vectors.push(...result.vectors);
        tokens += result.tokens;
      }
      return { vectors, tokens };
    },
  };
}

interface RunFigures {
  status: string;
  records: Record<string, unknown>;
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
  samples: Series['samples'];
}

interface ModeResult extends RunFigures {
  mode: Mode;
  budget: { rpm: number; tpm: number };
  pacers?: ReturnType<RatePacer['snapshot']>[];
  timings: Timings & { consumerSeconds: number };
  /** CPU of the pipeline process by component (unlimited mode). */
  cpuProfile?: CpuProfileSummary;
  incremental?: { available: boolean; tokens?: number; upsertRequests?: number; wallSeconds?: number; unchanged?: number; skippedReasons?: Record<string, number> };
}

async function api(runtime: LocalRuntime, pathAndQuery: string): Promise<any> {
  const response = await fetch(`${runtime.apiUrl}${pathAndQuery}`, { headers: { 'x-api-key': API_KEY } });
  const body = await response.json();
  if (response.status >= 400) throw new Error(`${pathAndQuery}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Starts a task on the uploaded file and follows it to the end, sampling the simulator and memory. */
/** V8 heap in use after a full garbage collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

const PROGRESS_EVERY_MS = 15_000;

/** A full run lasts up to an hour: one line every 15 s says how far it is. */
function progressLine(status: any, seconds: number, sample: Series['samples'][number] | undefined): string {
  const { total, processed = 0, skipped = 0, failed = 0 } = status.records ?? {};
  const done = processed + skipped + failed;
  const of = total ? ` of ${fmt(total)} (${pct(done / total, 0)})` : ' (still planning)';
  const rate = sample && sample.t > 0 ? `, ${fmt(sample.tokens / sample.t)} tokens/s, ${fmt(sample.rateLimited)} × 429` : '';
  return `  … ${fmt(seconds)} s: ${fmt(done)} records${of}${rate}, RSS ${fmt(process.memoryUsage.rss() / 2 ** 20)} MB`;
}

async function runTask(runtime: LocalRuntime, emulators: EmulatorHandle, sim: SimulatorHandle, budgetTpm: number): Promise<RunFigures> {
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
    samples.push({ t: (performance.now() - started) / 1000, tokens: stats.openai.tokens - before.openai.tokens, rateLimited: (stats.openai.statusCounts[429] ?? 0) - (before.openai.statusCounts[429] ?? 0) });
    return { stats, emulatorStats };
  };
  const sampler = setInterval(() => void sample(), 1000);
  const task = await api(runtime, `/process?data_source=s3_csv&s3_key=${encodeURIComponent(S3_KEY)}&namespace=bench`);
  let status: any;
  let reported = started;
  for (;;) {
    status = await api(runtime, `/status?task_id=${encodeURIComponent(task.task_id)}`);
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
    samples,
  };
}

async function runMode(mode: Mode, args: Args, csvPath: string): Promise<ModeResult> {
  const budget = mode === 'unlimited' ? { rpm: UNLIMITED, tpm: UNLIMITED } : { rpm: args.rpm, tpm: args.tpm };
  const sim = await startSimulatorProcess({
    openai: { rpm: budget.rpm, tpm: budget.tpm, bucketSeconds: args.bucketSeconds, latencyMs: args.latencyMs },
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
    EMBEDDER_CONCURRENCY: String(args.consumers),
    CHUNK_SIZE: String(args.chunkSize),
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
    const pacers = Array.from({ length: args.consumers }, () =>
      mode === 'baseline'
        ? createRequestPacer({ requestsPerSecond: BASELINE.requestsPerSecond, consumers: args.consumers })
        : createRequestPacer({ requestsPerMinute: config.openai.rpm, tokensPerMinute: config.openai.tpm, followProviderTokenLimit: config.openai.tpmFromProvider, consumers: config.embedderConcurrency }),
    );
    if (mode === 'baseline') runtime.deps.embedder = baselineEmbedder(runtime.deps.embedder, pacers);
    const timings = emulateSeparateConsumers(runtime, args.consumers, mode === 'baseline' ? [createRequestPacer({ consumers: 1 })] : pacers);

    const size = statSync(csvPath).size;
    await runtime.emulators.s3.send(new PutObjectCommand({ Bucket: config.bucketName, Key: S3_KEY, Body: createReadStream(csvPath), ContentLength: size }));

    const stopProfiling = mode === 'unlimited' ? await startProfiling() : undefined;
    const figures = await runTask(runtime, emulators, sim, budget.tpm);
    const cpuProfile = await stopProfiling?.();
    const result: ModeResult = {
      mode,
      budget,
      ...figures,
      ...(cpuProfile ? { cpuProfile } : {}),
      ...(mode === 'baseline' ? {} : { pacers: pacers.map((pacer) => pacer.snapshot()) }),
      timings: { ...structuredClone(timings), consumerSeconds: args.consumers * figures.wallSeconds },
    };
    if (mode === 'paced') {
      // The same file again: with content-hash skipping, unchanged records cost no tokens.
      const again = await runTask(runtime, emulators, sim, budget.tpm);
      const reasons = (again.records.skipped_reasons ?? {}) as Record<string, number>;
      result.incremental =
        'unchanged' in reasons
          ? { available: true, tokens: again.tokens, upsertRequests: again.upsertRequests, wallSeconds: again.wallSeconds, unchanged: reasons.unchanged, skippedReasons: reasons }
          : { available: false, skippedReasons: reasons };
    }
    return result;
  } finally {
    await runtime.stop();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;

function describe(result: ModeResult): string[] {
  const lines = [
    `${result.mode}: ${result.status}; records ${JSON.stringify(result.records)}`,
    `  tokens billed ${fmt(result.tokens)}${result.taskTokens !== result.tokens ? ` (the task counts ${fmt(result.taskTokens)})` : ''} in ${fmt(result.wallSeconds, 1)} s → ${fmt(result.recordsPerSecond)} records/s, ${fmt(result.tokensPerSecond)} tokens/s` +
      (result.budget.tpm < UNLIMITED ? `, budget utilisation ${pct(result.utilisation)}` : ''),
    `  embedding requests ${fmt(result.embeddingRequests)} (largest ${fmt(result.maxTokensPerRequest)} tokens), answered 429: ${fmt(result.rateLimited)} (${pct(result.rateLimitedShare, 2)}); upsert requests ${fmt(result.upsertRequests)} (${fmt(result.upsertedVectors)} vectors)`,
    `  peak RSS ${fmt(result.peakRssMb)} MB (V8 heap in use ${fmt(result.peakHeapUsedMb)} MB, outside it ${fmt(result.peakExternalMb)} MB; heap still held after the run: ${fmt(result.retainedHeapMb)} MB); ` +
      `emulators' process ${fmt(result.emulatorPeakRssMb)} MB, simulators' process ${fmt(result.simulatorPeakRssMb)} MB`,
    `  CPU: pipeline process ${fmt(result.pipelineCpuSeconds, 1)} s (${fmt(result.pipelineCpuSeconds / result.wallSeconds, 2)} cores), emulators ${fmt(result.emulatorCpuSeconds, 1)} s, simulators ${fmt(result.simulatorCpuSeconds, 1)} s`,
  ];
  if (result.pacers) {
    const waited = result.pacers.reduce((sum, pacer) => sum + pacer.waitedMs, 0) / 1000;
    const holds = result.pacers.reduce((sum, pacer) => sum + pacer.holds.headers + pacer.holds.rateLimited, 0);
    const seen = result.pacers.reduce((sum, pacer) => sum + pacer.rateLimited, 0);
    lines.push(`  pacers: ${fmt(waited, 1)} s waited in all, ${holds} holds, ${seen} 429s observed, lowest multiplier ${Math.min(...result.pacers.map((pacer) => pacer.multiplier)).toFixed(2)} at the end`);
  }
  return lines;
}

function whereTheTimeGoes(result: ModeResult): string[] {
  const { timings } = result;
  const total = timings.consumerSeconds * 1000;
  const entries = Object.entries(timings.awaitedMs).sort((a, b) => b[1] - a[1]);
  const awaited = entries.reduce((sum, [, ms]) => sum + ms, 0);
  const parts = [
    ...entries.filter(([, ms]) => ms / total >= 0.005).map(([name, ms]) => `${name} ${pct(ms / total, 0)}`),
    `the rest of the handler ${pct(Math.max(0, timings.handlerMs - awaited) / total, 0)}`,
    `no chunk to work on ${pct(Math.max(0, total - timings.handlerMs) / total, 0)}`,
  ];
  const lines = [
    `  where the time goes: the ${fmt(timings.consumerSeconds)} consumer-seconds (${fmt(result.wallSeconds, 1)} s × ${Math.round(timings.consumerSeconds / result.wallSeconds)}) awaited ${parts.join(', ')}` +
      ' (awaits include queueing behind the other consumers\' CPU work: one event loop)',
  ];
  if (result.cpuProfile) {
    const busy = result.cpuProfile.components.filter((entry) => entry.component !== 'idle');
    const cpu = busy.reduce((sum, entry) => sum + entry.seconds, 0);
    const top = busy.slice(0, 9).map((entry) => `${entry.component} ${pct(entry.seconds / cpu, 0)}`);
    lines.push(
      `  pipeline process: ${fmt(cpu, 1)} CPU-seconds on its main thread in ${fmt(result.wallSeconds, 1)} s (${pct(cpu / result.wallSeconds, 0)} of one core; the simulators' process used ${fmt(result.simulatorCpuSeconds, 1)} s): ${top.join(', ')}`,
      `  busiest functions: ${result.cpuProfile.functions.filter((entry) => entry.component !== 'idle').slice(0, 6).map((entry) => `${entry.name} [${entry.component}] ${pct(entry.seconds / cpu, 0)}`).join(', ')}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const args = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-bench-csv-'));
  const csvPath = path.join(work, 'catalogue.csv');
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
  };
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}; pipeline process heap limit ${fmt(machine.heapLimitMb)} MB`);
  console.log(
    `budget: ${fmt(args.rpm)} RPM, ${fmt(args.tpm)} TPM (${fmt(args.tpm / 60)} tokens/s), simulator bucket ${args.bucketSeconds} s; OpenAI latency ${args.latencyMs.base}-${args.latencyMs.max} ms, Pinecone ${args.pineconeLatencyMs} ms; ` +
      `${args.consumers} consumers; ${fmt(args.rows)} rows in chunks of ${fmt(args.chunkSize)}`,
  );
  const bytes = await writeCatalogueCsv(csvPath, args.rows);
  console.log(`input: ${fmt(args.rows)} rows, ${fmt(bytes / 2 ** 20, 1)} MiB`);

  const results: ModeResult[] = [];
  try {
    for (const mode of args.modes) {
      const result = await runMode(mode, args, csvPath);
      results.push(result);
      for (const line of describe(result)) console.log(line);
      if (mode === 'unlimited' || mode === 'paced') for (const line of whereTheTimeGoes(result)) console.log(line);
      if (result.incremental) {
        const inc = result.incremental;
        console.log(
          inc.available
            ? `  incremental (same file again): ${fmt(inc.unchanged ?? 0)} unchanged, ${fmt(inc.tokens ?? 0)} tokens, ${fmt(inc.upsertRequests ?? 0)} upsert requests, ${fmt(inc.wallSeconds ?? 0, 1)} s`
            : '  incremental: not available',
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const paced = results.find((result) => result.mode === 'paced');
  const baseline = results.find((result) => result.mode === 'baseline');
  const unlimited = results.find((result) => result.mode === 'unlimited');
  const comparison =
    paced && baseline
      ? {
          recordsPerSecondRatio: paced.recordsPerSecond / baseline.recordsPerSecond,
          wallSecondsRatio: baseline.wallSeconds / paced.wallSeconds,
          rateLimited: { paced: paced.rateLimited, baseline: baseline.rateLimited },
        }
      : undefined;
  if (comparison && paced && baseline) {
    console.log(
      `paced vs older strategy: ${comparison.recordsPerSecondRatio.toFixed(2)}× the records/s (${fmt(paced.recordsPerSecond)} vs ${fmt(baseline.recordsPerSecond)}), ` +
        `429s ${fmt(paced.rateLimited)} vs ${fmt(baseline.rateLimited)} (${pct(paced.rateLimitedShare, 2)} vs ${pct(baseline.rateLimitedShare, 1)} of requests)`,
    );
  }
  if (paced) {
    const targets = [
      `budget utilisation ${pct(paced.utilisation)} (target ≥ 90%)`,
      `429 share ${pct(paced.rateLimitedShare, 2)} (target ≤ 1%)`,
      `peak RSS ${fmt(paced.peakRssMb)} MB (target ≤ 512 MB)`,
    ];
    console.log(`targets: ${targets.join('; ')}`);
  }

  mkdirSync(args.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = path.join(args.out, `${stamp}-${args.rows}`);
  const colours: Record<Mode, string> = { paced: '#1f77b4', baseline: '#ff7f0e', unlimited: '#2ca02c' };
  const charted = results.filter((result) => result.mode !== 'unlimited');
  const svg = renderChart({
    title: `Tokens billed per second, ${fmt(args.rows)} rows, budget ${fmt(args.tpm)} TPM / ${fmt(args.rpm)} RPM`,
    budgetTokensPerSecond: args.tpm / 60,
    series: charted.map((result) => ({
      label: `${result.mode === 'paced' ? `paced, ${args.consumers} consumers at 1/${args.consumers} each` : 'older strategy: 20 req/s, 100 inputs per request'}: ${fmt(result.wallSeconds, 1)} s, utilisation ${pct(result.utilisation, 0)}`,
      colour: colours[result.mode],
      samples: result.samples,
    })),
    notes: [
      `${machine.cores} cores, node ${machine.node}; OpenAI simulator latency ${args.latencyMs.base}-${args.latencyMs.max} ms, bucket ${args.bucketSeconds} s; chunks of ${args.chunkSize}.` +
        (unlimited ? ` Unlimited budget: ${fmt(unlimited.recordsPerSecond)} records/s.` : ''),
    ],
  });
  writeFileSync(`${base}.svg`, svg);
  const json = { args, machine, results: results.map(({ samples, ...rest }) => ({ ...rest, samples })), comparison, svg: `${base}.svg` };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`written: ${path.relative(process.cwd(), `${base}.json`)}, ${path.relative(process.cwd(), `${base}.svg`)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
