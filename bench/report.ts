/** The summary `npm run bench` prints: the set-up, each mode's figures, and the comparison with the targets. */
import type { Args } from './args';
import { fmt, pct } from './format';
import type { Incremental, ReRun } from './incremental';
import type { Period } from './measure';
import type { ModeResult } from './modes';
import { UNLIMITED } from './settings';

/** Lambda gives a function one vCPU at this much memory, and CPU in proportion below it. */
const MB_PER_VCPU = 1769;
/** OpenAI's usage tier 5 for text-embedding-3-small, the budget a deployed pipeline should keep up with. */
const TIER_5_TPM = 10_000_000;
/** The issue's targets: budget utilisation and 429 share, whole run and first minute. */
const TARGETS = { utilisation: 0.95, rateLimitedShare: 0.01 };

export interface Machine {
  cores: number;
  cpu: string | undefined;
  node: string;
  platform: string;
  heapLimitMb: number;
}

/** The paced mode against the older strategy under the same provider window, when both ran. */
export interface Comparison {
  recordsPerSecondRatio: number;
  rateLimitedShare: { paced: number; baseline: number };
}

export function setupLines(machine: Machine, args: Args): string[] {
  return [
    `machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}; pipeline process heap limit ${fmt(machine.heapLimitMb)} MB`,
    `budget: ${fmt(args.rpm)} RPM, ${fmt(args.tpm)} TPM (${fmt(args.tpm / 60)} tokens/s), provider window ` +
      `${args.bucketSeconds.map((seconds) => `${seconds} s`).join(' and ')} of it; ` +
      `OpenAI latency ${args.latencyMs.base}-${args.latencyMs.max} ms, Pinecone ${args.pineconeLatencyMs} ms; ` +
      `${args.consumers} consumers; ${fmt(args.rows)} rows (${fmt(args.cpuRows)} for the older strategy and the unlimited runs) ` +
      `in chunks of ${fmt(args.chunkSize)}`,
  ];
}

export function inputLine(rows: number, bytes: number): string {
  return `input: ${fmt(rows)} rows, ${fmt(bytes / 2 ** 20, 1)} MiB`;
}

/** What a mode did; for the paced and unlimited modes also where the time went, and the incremental run. */
export function modeLines(result: ModeResult): string[] {
  const lines = describe(result);
  if (result.mode !== 'baseline') lines.push(...whereTheTimeGoes(result));
  if (result.mode === 'single') lines.push(...singleConsumer(result));
  if (result.incremental) {
    const inc = result.incremental;
    lines.push(
      inc.available
        ? `  incremental (same file again): ${fmt(inc.unchanged ?? 0)} unchanged, ${fmt(inc.tokens ?? 0)} tokens, ` +
            `${fmt(inc.upsertRequests ?? 0)} upsert requests, ${fmt(inc.wallSeconds ?? 0, 1)} s`
        : '  incremental: not available',
    );
    lines.push(...reRunTable(inc));
  }
  return lines;
}

/** The two re-runs side by side: the same key again, and the same file uploaded under another key. */
function reRunTable(same: Incremental): string[] {
  const runs: ReRun[] = [same, ...(same.otherKey ? [same.otherKey] : [])];
  const rows: [string, (run: ReRun) => string][] = [
    ['tokens billed', (run) => fmt(run.tokens)],
    ['upsert requests', (run) => fmt(run.upsertRequests)],
    ['embedding requests', (run) => fmt(run.embeddingRequests)],
    ['records unchanged', (run) => fmt(run.unchanged)],
    ['seconds', (run) => fmt(run.wallSeconds, 1)],
    ["share of the first run's time", (run) => pct(run.shareOfFirstRun)],
  ];
  const headers = ['same key', 'other key'].slice(0, runs.length);
  const label = Math.max(...rows.map(([name]) => name.length));
  const width = Math.max(...headers.map((header) => header.length), ...rows.flatMap(([, cell]) => runs.map((run) => cell(run).length)));
  const line = (name: string, cells: string[]) => `    ${name.padEnd(label)}  ${cells.map((cell) => cell.padStart(width)).join('  ')}`;
  return [
    `  incremental re-runs of the same file (${runs.map((run) => run.key).join(', then ')}): each should cost nothing`,
    line('', headers),
    ...rows.map(([name, cell]) => line(name, runs.map(cell))),
  ];
}

function describe(result: ModeResult): string[] {
  const billed = result.taskTokens !== result.tokens ? ` (the task counts ${fmt(result.taskTokens)})` : '';
  const lines = [
    `${label(result)}: ${result.status}; records ${JSON.stringify(result.records)}`,
    `  tokens billed ${fmt(result.tokens)}${billed} in ${fmt(result.wallSeconds, 1)} s → ` +
      `${fmt(result.recordsPerSecond)} records/s, ${fmt(result.tokensPerSecond)} tokens/s` +
      (result.budget.tpm < UNLIMITED ? `, budget utilisation ${pct(result.utilisation)}` : ''),
    `  embedding requests ${fmt(result.embeddingRequests)} (largest ${fmt(result.maxTokensPerRequest)} tokens), ` +
      `answered 429: ${fmt(result.rateLimited)} (${pct(result.rateLimitedShare, 2)}); ` +
      `upsert requests ${fmt(result.upsertRequests)} (${fmt(result.upsertedVectors)} vectors)`,
    ...(result.budget.tpm < UNLIMITED ? [`  ${periods(result)}`] : []),
    `  peak RSS ${fmt(result.peakRssMb)} MB ` +
      `(V8 heap in use ${fmt(result.peakHeapUsedMb)} MB, outside it ${fmt(result.peakExternalMb)} MB; ` +
      `heap still held after the run: ${fmt(result.retainedHeapMb)} MB); ` +
      `emulators' process ${fmt(result.emulatorPeakRssMb)} MB, simulators' process ${fmt(result.simulatorPeakRssMb)} MB`,
    `  CPU: pipeline process ${fmt(result.pipelineCpuSeconds, 1)} s (${fmt(result.pipelineCpuSeconds / result.wallSeconds, 2)} cores), ` +
      `emulators ${fmt(result.emulatorCpuSeconds, 1)} s, simulators ${fmt(result.simulatorCpuSeconds, 1)} s`,
  ];
  if (result.pacers) {
    const waited = result.pacers.reduce((sum, pacer) => sum + pacer.waitedMs, 0) / 1000;
    const holds = result.pacers.reduce((sum, pacer) => sum + pacer.holds.headers + pacer.holds.rateLimited, 0);
    const seen = result.pacers.reduce((sum, pacer) => sum + pacer.rateLimited, 0);
    const lowest = Math.min(...result.pacers.map((pacer) => pacer.multiplier)).toFixed(2);
    const window = Math.min(...result.pacers.map((pacer) => pacer.windowTokens));
    const largest = Math.max(...result.pacers.map((pacer) => pacer.requestTokenLimit));
    const sizing = Number.isFinite(window) ? `, window learned ${fmt(window)} tokens, requests up to ${fmt(largest)}` : '';
    const pacing = `${fmt(waited, 1)} s waited in all, ${holds} holds, ${seen} 429s observed, lowest multiplier ${lowest} at the end${sizing}`;
    lines.push(`  pacers: ${pacing}`);
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
  const consumers = Math.round(timings.consumerSeconds / result.wallSeconds);
  const lines = [
    `  where the time goes: the ${fmt(timings.consumerSeconds)} consumer-seconds (${fmt(result.wallSeconds, 1)} s × ${consumers}) ` +
      `awaited ${parts.join(', ')}` +
      ' (awaits overlap, upserts going four at a time beside the next embedding, and include queueing behind other CPU work on the one event loop)',
  ];
  if (result.cpuProfile) {
    const busy = result.cpuProfile.components.filter((entry) => entry.component !== 'idle');
    const cpu = busy.reduce((sum, entry) => sum + entry.seconds, 0);
    const top = busy.slice(0, 9).map((entry) => `${entry.component} ${pct(entry.seconds / cpu, 0)}`);
    const functions = result.cpuProfile.functions
      .filter((entry) => entry.component !== 'idle')
      .slice(0, 6)
      .map((entry) => `${entry.name} [${entry.component}] ${pct(entry.seconds / cpu, 0)}`);
    lines.push(
      `  pipeline process: ${fmt(cpu, 1)} CPU-seconds on its main thread in ${fmt(result.wallSeconds, 1)} s ` +
        `(${pct(cpu / result.wallSeconds, 0)} of one core; the simulators' process used ${fmt(result.simulatorCpuSeconds, 1)} s): ` +
        top.join(', '),
      `  busiest functions: ${functions.join(', ')}`,
    );
  }
  return lines;
}

export function compare(paced: ModeResult | undefined, baseline: ModeResult | undefined): Comparison | undefined {
  if (!paced || !baseline) return undefined;
  return {
    recordsPerSecondRatio: paced.recordsPerSecond / baseline.recordsPerSecond,
    rateLimitedShare: { paced: paced.rateLimitedShare, baseline: baseline.rateLimitedShare },
  };
}

/** The figures of a period: utilisation and 429s. */
function periodFigures(figures: Period): string {
  return `${pct(figures.utilisation)} of the budget, ${fmt(figures.rateLimited)} of ${fmt(figures.requests)} requests answered 429 (${pct(figures.rateLimitedShare, 2)})`;
}

function periods(result: ModeResult): string {
  const first = result.afterFirstMinute ? 'first minute' : `first minute (the whole run: ${fmt(result.firstMinute.toSeconds, 1)} s)`;
  const after = result.afterFirstMinute
    ? `; after it (${fmt(result.afterFirstMinute.fromSeconds)}-${fmt(result.afterFirstMinute.toSeconds)} s): ${periodFigures(result.afterFirstMinute)}`
    : '';
  return `${first}: ${periodFigures(result.firstMinute)}${after}`;
}

/** What a mode is, with the provider window it ran under. */
function label(result: ModeResult): string {
  if (result.mode === 'paced') return `paced, provider window ${result.bucketSeconds} s`;
  if (result.mode === 'baseline') return `baseline (older strategy), provider window ${result.bucketSeconds} s`;
  if (result.mode === 'single') return 'single consumer, unlimited budget';
  return `unlimited budget, ${result.consumers} consumers`;
}

/**
 * What one consumer costs per record, on this machine's core, and what it sustains deployed at
 * the wiring's memory size: bound by its CPU alone (its round trips overlapping its work), and
 * with the waits measured here added in full (an upper bound on time: dynalite and the simulators
 * answer slower than DynamoDB and the providers, and share this machine's cores).
 */
export function singleConsumerFigures(result: ModeResult) {
  const records = Math.max(1, Number(result.records.total ?? 0));
  const processed = Math.max(1, Number(result.records.processed ?? 0));
  const cpuMs = result.timings.busyCpuMs / records;
  // Time in the embedder's invocations not on this process's CPU: waiting for S3, DynamoDB, OpenAI, Pinecone.
  const waitMs = Math.max(0, result.timings.handlerMs - result.timings.busyCpuMs) / records;
  const vcpu = Math.min(1, result.embedderMemoryMb / MB_PER_VCPU);
  const gbSecondsPerMillion = (msPerRecord: number) => (result.embedderMemoryMb / 1024) * (msPerRecord / 1000) * 1e6;
  return {
    cpuMsPerRecord: cpuMs,
    processCpuMsPerRecord: (result.pipelineCpuSeconds * 1000) / records,
    waitMsPerRecord: waitMs,
    vcpu,
    cpuBound: { recordsPerSecond: (1000 * vcpu) / cpuMs, gbSecondsPerMillion: gbSecondsPerMillion(cpuMs / vcpu) },
    withWaits: { recordsPerSecond: 1000 / (cpuMs / vcpu + waitMs), gbSecondsPerMillion: gbSecondsPerMillion(cpuMs / vcpu + waitMs) },
    tokensPerRecord: result.tokens / processed,
    tier5RecordsPerSecond: TIER_5_TPM / 60 / (result.tokens / processed),
  };
}

function singleConsumer(result: ModeResult): string[] {
  const figures = singleConsumerFigures(result);
  const five = (perConsumer: number) =>
    `${fmt(perConsumer)} records/s a consumer, ${fmt(5 * perConsumer)} for 5 (${pct((5 * perConsumer) / figures.tier5RecordsPerSecond, 0)})`;
  return [
    `  one consumer: ${fmt(figures.cpuMsPerRecord, 3)} ms of CPU per record while the embedder runs ` +
      `(the whole process: ${fmt(figures.processCpuMsPerRecord, 3)} ms), ${fmt(figures.waitMsPerRecord, 3)} ms waiting for the providers and stores`,
    `  deployed at ${fmt(result.embedderMemoryMb)} MB (${fmt(figures.vcpu, 2)} vCPU), against the ${fmt(figures.tier5RecordsPerSecond)} records/s ` +
      `that ${fmt(TIER_5_TPM)} TPM allows at ${fmt(figures.tokensPerRecord, 1)} tokens a record: CPU-bound ${five(figures.cpuBound.recordsPerSecond)}, ` +
      `${fmt(figures.cpuBound.gbSecondsPerMillion)} GB-s per million records; with the waits measured here added in full ` +
      `${five(figures.withWaits.recordsPerSecond)}, ${fmt(figures.withWaits.gbSecondsPerMillion)} GB-s per million`,
  ];
}

/** The comparison (when both ran), and each budgeted run against the targets. */
export function summaryLines(results: ModeResult[], comparison: Comparison | undefined): string[] {
  const lines: string[] = [];
  const baseline = results.find((result) => result.mode === 'baseline');
  if (comparison && baseline) {
    lines.push(
      `paced vs older strategy (window ${baseline.bucketSeconds} s): ${comparison.recordsPerSecondRatio.toFixed(2)}× the records/s, ` +
        `429s ${pct(comparison.rateLimitedShare.paced, 2)} vs ${pct(comparison.rateLimitedShare.baseline, 1)} of requests`,
    );
  }
  const paced = results.filter((result) => result.mode === 'paced');
  if (paced.length) {
    lines.push(
      `targets (utilisation ≥ ${pct(TARGETS.utilisation, 0)}, ≤ ${pct(TARGETS.rateLimitedShare, 0)} of requests answered 429, ` +
        'over the run and over its first minute; peak RSS ≤ 512 MB):',
    );
    for (const result of paced) {
      const held = [result, result.firstMinute].every(
        (figures) => figures.utilisation >= TARGETS.utilisation && figures.rateLimitedShare <= TARGETS.rateLimitedShare,
      );
      lines.push(
        `  window ${String(result.bucketSeconds).padStart(3)} s: run ${pct(result.utilisation)}, ${pct(result.rateLimitedShare, 2)} × 429; ` +
          `first minute ${pct(result.firstMinute.utilisation)}, ${pct(result.firstMinute.rateLimitedShare, 2)} × 429; ` +
          `peak RSS ${fmt(result.peakRssMb)} MB: ${held && result.peakRssMb <= 512 ? 'met' : 'NOT MET'}`,
      );
    }
  }
  return lines;
}
