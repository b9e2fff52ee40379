/** `npm run bench`'s flags (see run.ts), as `--name value` or `--name=value`. */
import path from 'node:path';

export type Mode = 'paced' | 'baseline' | 'unlimited' | 'single';

export const MODES: readonly Mode[] = ['paced', 'baseline', 'unlimited', 'single'];

export interface Args {
  rows: number;
  /** Rows of the runs that measure the strategy or the machine rather than the budget: baseline, unlimited, single. */
  cpuRows: number;
  chunkSize: number;
  tpm: number;
  rpm: number;
  latencyMs: { base: number; max: number };
  pineconeLatencyMs: number;
  /** The provider windows the paced mode runs under, one scenario each (the older strategy runs under the shortest). */
  bucketSeconds: number[];
  consumers: number;
  modes: Mode[];
  out: string;
}

/** Up to this many rows, the run is the quick one. */
const QUICK_ROWS = 20_000;

export function parseArgs(argv: string[]): Args {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    if (index >= 0) return argv[index + 1];
    return argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const positive = (name: string, raw: string): number => {
    const parsed = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return parsed;
  };
  const num = (name: string, fallback: number): number => {
    const raw = value(name);
    return raw === undefined ? fallback : positive(name, raw);
  };
  const rows = Math.round(num('rows', QUICK_ROWS));
  const quick = rows <= QUICK_ROWS;
  const [base, max] = (value('latency-ms') ?? '100,300').split(',').map(Number);
  const modes = (value('modes') ?? MODES.join(',')).split(',') as Mode[];
  for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode "${mode}"`);
  return {
    rows,
    cpuRows: Math.round(num('cpu-rows', quick ? 6000 : rows)),
    chunkSize: Math.round(num('chunk-size', quick ? 250 : 1000)),
    tpm: num('tpm', 1_000_000),
    rpm: num('rpm', 3000),
    latencyMs: { base, max: max ?? base },
    pineconeLatencyMs: num('pinecone-latency-ms', 50),
    bucketSeconds: (value('bucket-seconds') ?? '60,2').split(',').map((raw) => positive('bucket-seconds', raw)),
    consumers: Math.round(num('consumers', 5)),
    modes,
    out: value('out') ?? path.resolve(__dirname, '..', 'bench-results'),
  };
}
