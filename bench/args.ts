/** `npm run bench`'s flags (see run.ts), as `--name value` or `--name=value`. */
import path from 'node:path';

export type Mode = 'paced' | 'baseline' | 'unlimited';

export interface Args {
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

export function parseArgs(argv: string[]): Args {
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
