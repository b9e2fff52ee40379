/** The files a run leaves: <out>/<timestamp>-<rows>.json (everything measured) and .svg (tokens per second over time). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Args } from './args';
import { renderChart } from './chart';
import { fmt, pct } from './format';
import type { ModeResult } from './modes';
import type { Comparison, Machine } from './report';

/** The paced runs' colours, one per provider window, then the older strategy's. */
const PACED_COLOURS = ['#1f77b4', '#9467bd', '#17becf', '#8c564b'];
const BASELINE_COLOUR = '#ff7f0e';
const OLDER_STRATEGY = 'older strategy: 20 req/s, 100 inputs per request';

/** Writes both files and returns their paths. */
export function writeOutputs(
  args: Args,
  machine: Machine,
  results: ModeResult[],
  comparison: Comparison | undefined,
): { json: string; svg: string } {
  mkdirSync(args.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = path.join(args.out, `${stamp}-${args.rows}`);
  const unlimited = results.find((result) => result.mode === 'unlimited');
  const charted = results.filter((result) => result.mode === 'paced' || result.mode === 'baseline');
  const svg = renderChart({
    title: `Tokens billed per second, ${fmt(args.rows)} rows, budget ${fmt(args.tpm)} TPM / ${fmt(args.rpm)} RPM`,
    budgetTokensPerSecond: args.tpm / 60,
    series: charted.map((result, i) => ({
      label:
        `${result.mode === 'paced' ? `paced, ${args.consumers} consumers at 1/${args.consumers} each` : OLDER_STRATEGY}, ` +
        `window ${result.bucketSeconds} s: ${fmt(result.rows)} rows in ${fmt(result.wallSeconds, 1)} s, utilisation ${pct(result.utilisation, 0)}`,
      colour: result.mode === 'paced' ? PACED_COLOURS[i % PACED_COLOURS.length] : BASELINE_COLOUR,
      samples: result.samples,
    })),
    notes: [
      `${machine.cores} cores, node ${machine.node}; OpenAI simulator latency ${args.latencyMs.base}-${args.latencyMs.max} ms, ` +
        `chunks of ${args.chunkSize}.` +
        (unlimited ? ` Unlimited budget: ${fmt(unlimited.recordsPerSecond)} records/s.` : ''),
    ],
  });
  writeFileSync(`${base}.svg`, svg);
  // The samples last, after the figures, so that the JSON reads from the top.
  const json = { args, machine, results: results.map(({ samples, ...rest }) => ({ ...rest, samples })), comparison, svg: `${base}.svg` };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  return { json: `${base}.json`, svg: `${base}.svg` };
}
