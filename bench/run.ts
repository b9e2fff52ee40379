/**
 * `npm run bench`: the real pipeline (the local runtime, the same handlers and wiring as on AWS)
 * on a generated CSV, against the OpenAI and Pinecone simulators running in a child process, with
 * a provider budget (RPM/TPM) and latency. DynamoDB and S3 (dynalite, s3rver) run in another
 * child process, so that the pipeline process's memory and CPU figures are its own, as on Lambda;
 * each child's peak RSS is reported beside it. `npm run bench` caps the pipeline process's V8 heap
 * (old space 256 MB, young 3 × 16 MB), as a Lambda's memory caps its heap: V8 otherwise sizes the
 * heap from the machine's memory and lets garbage (each upsert body is a ~3 MB string) pile up to
 * several times the live set before collecting it; a live set that grew with the row count would
 * fail the run instead of only raising a figure. The measurements, one after another, each on a
 * fresh runtime, fresh emulators and fresh simulators:
 *
 *   paced      this pipeline: 5 consumers, each pacing itself to 1/5 of the budget (as separate
 *              Lambdas do) and adapting to the rate-limit headers and 429s, once per provider
 *              window (--bucket-seconds: a minute's, as OpenAI's per-minute limits, and 2 s, as
 *              they "may be enforced over shorter periods"), each with its first minute apart;
 *              under the first window, the same file a second time, and a third time uploaded
 *              under another key (incremental: unchanged records should cost nothing; a re-run
 *              that spends a token or an upsert fails the benchmark, after the figures are
 *              printed and written)
 *   baseline   the older system's strategy in the same pipeline: 20 requests/s shared by the 5
 *              consumers, 100 inputs per embeddings request, no token budget, no adaptation;
 *              under the shortest window
 *   unlimited  this pipeline with an unlimited budget: what the machine itself can do, and where
 *              the time goes (V8's sampling profiler)
 *   single     one consumer with an unlimited budget, unprofiled: the embedder's CPU per record
 *              on one core, and from it what one deployed consumer sustains at the wiring's
 *              memory size (Lambda's CPU scales with memory: 1,769 MB is one vCPU)
 *
 * Options: --rows N (default 20,000: the quick run, whose paced runs last a little over a minute),
 * --cpu-rows N (rows of the baseline, unlimited and single runs; default 6,000 in the quick run,
 * else --rows), --chunk-size N (records per chunk; default 250 up to 20,000 rows, so that each
 * consumer paces several chunks, else the pipeline's 1000), --tpm, --rpm (default 1,000,000 and
 * 3,000: text-embedding-3-small's usage tier 1), --latency-ms BASE,MAX (OpenAI answer time, from
 * BASE for a tiny request to MAX from 100K tokens; default 100,300), --pinecone-latency-ms
 * (default 50), --bucket-seconds S1,S2,… (the provider windows of the paced runs; default 60,2),
 * --consumers (default 5), --modes paced,baseline,unlimited,single, --out DIR (default
 * bench-results/).
 *
 * Prints a summary, and writes bench-results/<timestamp>-<rows>.json and .svg.
 *
 * args.ts reads the flags, modes.ts runs each mode (in children.ts's helper processes, with
 * baseline.ts for the older strategy and incremental.ts for the re-runs), measure.ts measures a
 * run, report.ts prints the summary and output.ts writes the files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parseArgs, type Mode } from './args';
import { writeCatalogueCsv } from './dataset';
import { promiseBroken } from './incremental';
import { runMode, type ModeResult } from './modes';
import { writeOutputs } from './output';
import { compare, inputLine, modeLines, setupLines, summaryLines, type Machine } from './report';

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const args = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-bench-csv-'));
  const csvPath = path.join(work, 'catalogue.csv');
  const machine: Machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
  };
  for (const line of setupLines(machine, args)) console.log(line);
  const csv = { path: csvPath, rows: args.rows };
  console.log(inputLine(args.rows, await writeCatalogueCsv(csvPath, args.rows)));
  // The same generator, so the same first records: a prefix of the paced runs' file.
  const cpuCsv = args.cpuRows === args.rows ? csv : { path: path.join(work, 'catalogue-cpu.csv'), rows: args.cpuRows };
  if (cpuCsv !== csv) console.log(inputLine(cpuCsv.rows, await writeCatalogueCsv(cpuCsv.path, cpuCsv.rows)));
  const shortestBucket = Math.min(...args.bucketSeconds);
  const runs = args.modes.flatMap((mode): { mode: Mode; csv: typeof csv; bucketSeconds: number }[] =>
    mode === 'paced'
      ? args.bucketSeconds.map((bucketSeconds) => ({ mode, csv, bucketSeconds }))
      : [{ mode, csv: cpuCsv, bucketSeconds: shortestBucket }],
  );

  const results: ModeResult[] = [];
  try {
    for (const run of runs) {
      const result = await runMode(run.mode, args, run.csv, run.bucketSeconds);
      results.push(result);
      for (const line of modeLines(result)) console.log(line);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const paced = results.filter((result) => result.mode === 'paced');
  const baseline = results.find((result) => result.mode === 'baseline');
  const comparison = compare(
    paced.find((result) => result.bucketSeconds === baseline?.bucketSeconds),
    baseline,
  );
  for (const line of summaryLines(results, comparison)) console.log(line);

  const written = writeOutputs(args, machine, results, comparison);
  console.log(`written: ${path.relative(process.cwd(), written.json)}, ${path.relative(process.cwd(), written.svg)}`);

  // The product's promise: an unchanged file costs nothing, whatever key it is uploaded under.
  const incremental = paced.find((result) => result.incremental)?.incremental;
  const broken = promiseBroken(incremental);
  if (broken.length > 0) {
    console.error(`FAILED: unchanged records must cost zero tokens and zero upserts:\n${broken.map((line) => `  - ${line}`).join('\n')}`);
    process.exitCode = 1;
  } else if (incremental) {
    console.log('incremental: both re-runs (same key, other key) spent 0 tokens and 0 upserts, as promised');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
