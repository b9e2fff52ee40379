/**
 * Planning speed and peak memory: streams a generated CSV (never held; default 1 GiB, or
 * PLANNING_BENCH_MB) through the planner in one pass and reports MB/s and peak RSS / heap.
 * `npm run bench:planning` (PLANNING_BENCH_MB=2048 for 2 GiB).
 */
import { planCsv } from '../shared/domain/csv';
import { generatedCsvStream } from '../tests/helpers/generatedCsv';

async function main(): Promise<void> {
  const megabytes = Number(process.env.PLANNING_BENCH_MB ?? 1024);
  const bytes = megabytes * 1024 * 1024;
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const timer = setInterval(sample, 100);
  let generatedBytes = 0;
  const source = generatedCsvStream({ bytes });
  source.on('data', (piece: Buffer) => (generatedBytes += piece.length));
  const started = process.hrtime.bigint();
  const summary = await planCsv(source, { maxRecords: 1000, maxBytes: 8 * 1024 * 1024, onChunk: async () => sample() });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  sample();
  const mb = summary.bytes / 1024 / 1024;
  console.log(
    JSON.stringify(
      {
        file_mib: Number(mb.toFixed(1)),
        records: summary.records,
        chunks: summary.chunks,
        seconds: Number(seconds.toFixed(1)),
        mib_per_second: Number((mb / seconds).toFixed(1)),
        peak_rss_mib: Math.round(peakRss / 1024 / 1024),
        peak_heap_mib: Math.round(peakHeap / 1024 / 1024),
        note: 'includes generating the CSV in the same process; ' + (generatedBytes === summary.bytes ? 'all bytes planned' : 'MISMATCH'),
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
