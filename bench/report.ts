/** The summary `npm run bench` prints: the set-up, each mode's figures, and the comparison with the targets. */
import type { Args } from './args';
import { fmt, pct } from './format';
import type { Incremental, ReRun } from './incremental';
import type { ModeResult } from './modes';
import { UNLIMITED } from './settings';

export interface Machine {
  cores: number;
  cpu: string | undefined;
  node: string;
  platform: string;
  heapLimitMb: number;
}

/** The paced mode against the older strategy, when both ran. */
export interface Comparison {
  recordsPerSecondRatio: number;
  wallSecondsRatio: number;
  rateLimited: { paced: number; baseline: number };
}

export function setupLines(machine: Machine, args: Args): string[] {
  return [
    `machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}; pipeline process heap limit ${fmt(machine.heapLimitMb)} MB`,
    `budget: ${fmt(args.rpm)} RPM, ${fmt(args.tpm)} TPM (${fmt(args.tpm / 60)} tokens/s), simulator bucket ${args.bucketSeconds} s; ` +
      `OpenAI latency ${args.latencyMs.base}-${args.latencyMs.max} ms, Pinecone ${args.pineconeLatencyMs} ms; ` +
      `${args.consumers} consumers; ${fmt(args.rows)} rows in chunks of ${fmt(args.chunkSize)}`,
  ];
}

export function inputLine(rows: number, bytes: number): string {
  return `input: ${fmt(rows)} rows, ${fmt(bytes / 2 ** 20, 1)} MiB`;
}

/** What a mode did; for the paced and unlimited modes also where the time went, and the incremental run. */
export function modeLines(result: ModeResult): string[] {
  const lines = describe(result);
  if (result.mode === 'unlimited' || result.mode === 'paced') lines.push(...whereTheTimeGoes(result));
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
    `${result.mode}: ${result.status}; records ${JSON.stringify(result.records)}`,
    `  tokens billed ${fmt(result.tokens)}${billed} in ${fmt(result.wallSeconds, 1)} s → ` +
      `${fmt(result.recordsPerSecond)} records/s, ${fmt(result.tokensPerSecond)} tokens/s` +
      (result.budget.tpm < UNLIMITED ? `, budget utilisation ${pct(result.utilisation)}` : ''),
    `  embedding requests ${fmt(result.embeddingRequests)} (largest ${fmt(result.maxTokensPerRequest)} tokens), ` +
      `answered 429: ${fmt(result.rateLimited)} (${pct(result.rateLimitedShare, 2)}); ` +
      `upsert requests ${fmt(result.upsertRequests)} (${fmt(result.upsertedVectors)} vectors)`,
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
    const pacing = `${fmt(waited, 1)} s waited in all, ${holds} holds, ${seen} 429s observed, lowest multiplier ${lowest} at the end`;
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
      " (awaits include queueing behind the other consumers' CPU work: one event loop)",
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
    wallSecondsRatio: baseline.wallSeconds / paced.wallSeconds,
    rateLimited: { paced: paced.rateLimited, baseline: baseline.rateLimited },
  };
}

/** The comparison (when both ran) and the paced mode against its targets (when it ran). */
export function summaryLines(
  paced: ModeResult | undefined,
  baseline: ModeResult | undefined,
  comparison: Comparison | undefined,
): string[] {
  const lines: string[] = [];
  if (comparison && paced && baseline) {
    lines.push(
      `paced vs older strategy: ${comparison.recordsPerSecondRatio.toFixed(2)}× the records/s ` +
        `(${fmt(paced.recordsPerSecond)} vs ${fmt(baseline.recordsPerSecond)}), ` +
        `429s ${fmt(paced.rateLimited)} vs ${fmt(baseline.rateLimited)} ` +
        `(${pct(paced.rateLimitedShare, 2)} vs ${pct(baseline.rateLimitedShare, 1)} of requests)`,
    );
  }
  if (paced) {
    const targets = [
      `budget utilisation ${pct(paced.utilisation)} (target ≥ 90%)`,
      `429 share ${pct(paced.rateLimitedShare, 2)} (target ≤ 1%)`,
      `peak RSS ${fmt(paced.peakRssMb)} MB (target ≤ 512 MB)`,
    ];
    lines.push(`targets: ${targets.join('; ')}`);
  }
  return lines;
}
