/**
 * The paced mode's re-runs of its file, after the first run: the same S3 key again, and the same
 * bytes uploaded under another key (ids from the `id` column, so the same records). An embedding
 * depends only on the exact input, model and dimensions, and the metadata is fingerprinted apart,
 * so both should spend no token and no upsert: every record counted as `unchanged`. promiseBroken()
 * says, in a sentence per re-run, where that did not hold; `npm run bench` then exits non-zero.
 */
import { createReadStream, statSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalRuntime } from '../local/runtime';
import type { EmulatorHandle, SimulatorHandle } from './children';
import { fmt } from './format';
import { runTask, type RunFigures } from './measure';

/** One re-run: the simulators' counters (tokens billed, upsert and embedding requests) and the task's own counts. */
export interface ReRun {
  /** Whether the task counted any record as `unchanged` (whether the product skips at all). */
  available: boolean;
  key: string;
  status: string;
  tokens: number;
  upsertRequests: number;
  embeddingRequests: number;
  wallSeconds: number;
  /** wallSeconds over the first run's. */
  shareOfFirstRun: number;
  unchanged: number;
  skippedReasons: Record<string, number>;
  /** `/status`'s `vectors` (upserted, metadata_updated, deleted), when it reports them. */
  vectors?: Record<string, unknown>;
}

/** The same-key re-run's figures (the fields the JSON has always had first), and the other-key re-run. */
export type Incremental = ReRun & { otherKey?: ReRun };

export interface ReRunContext {
  runtime: LocalRuntime;
  emulators: EmulatorHandle;
  sim: SimulatorHandle;
  budgetTpm: number;
  /** The first run's wall time, for each re-run's share of it. */
  firstWallSeconds: number;
}

/** Uploads `csvPath` at `key` in the runtime's bucket. */
export async function upload(runtime: LocalRuntime, csvPath: string, key: string): Promise<void> {
  await runtime.emulators.s3.send(
    new PutObjectCommand({
      Bucket: runtime.config.bucketName,
      Key: key,
      Body: createReadStream(csvPath),
      ContentLength: statSync(csvPath).size,
    }),
  );
}

function reRun(key: string, figures: RunFigures, firstWallSeconds: number): ReRun {
  const skippedReasons = (figures.records.skipped_reasons ?? {}) as Record<string, number>;
  return {
    available: 'unchanged' in skippedReasons,
    key,
    status: figures.status,
    tokens: figures.tokens,
    upsertRequests: figures.upsertRequests,
    embeddingRequests: figures.embeddingRequests,
    wallSeconds: figures.wallSeconds,
    shareOfFirstRun: figures.wallSeconds / firstWallSeconds,
    unchanged: skippedReasons.unchanged ?? 0,
    skippedReasons,
    ...(figures.vectors ? { vectors: figures.vectors } : {}),
  };
}

/** Runs the already uploaded `sameKey` again, then `csvPath` uploaded under `otherKey`, each through `/process`. */
export async function runReRuns(context: ReRunContext, csvPath: string, sameKey: string, otherKey: string): Promise<Incremental> {
  const { runtime, emulators, sim, budgetTpm, firstWallSeconds } = context;
  const same = reRun(sameKey, await runTask(runtime, emulators, sim, budgetTpm, sameKey), firstWallSeconds);
  await upload(runtime, csvPath, otherKey);
  const other = reRun(otherKey, await runTask(runtime, emulators, sim, budgetTpm, otherKey), firstWallSeconds);
  return { ...same, otherKey: other };
}

/** One sentence per re-run that spent a token or an upsert, or did not complete; empty when the promise held. */
export function promiseBroken(incremental: Incremental | undefined): string[] {
  if (!incremental) return [];
  const runs: [string, ReRun][] = [['same key', incremental]];
  if (incremental.otherKey) runs.push(['other key', incremental.otherKey]);
  const broken: string[] = [];
  for (const [label, run] of runs) {
    const spent: string[] = [];
    if (run.tokens > 0) spent.push(`${fmt(run.tokens)} tokens`);
    if (run.upsertRequests > 0) spent.push(`${fmt(run.upsertRequests)} upsert requests`);
    const which = `the re-run under the ${label} (${run.key})`;
    const vectors = run.vectors ? `, /status vectors ${JSON.stringify(run.vectors)}` : '';
    const counted = `${fmt(run.unchanged)} records counted unchanged${vectors}`;
    if (spent.length > 0) broken.push(`${which} spent ${spent.join(' and ')} (${counted}); it should spend none`);
    if (run.status !== 'COMPLETED') broken.push(`${which} ended ${run.status}, not COMPLETED`);
  }
  return broken;
}
