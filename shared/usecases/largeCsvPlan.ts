/**
 * Large CSV files, planned by the Step Functions loop (infra/state-machine.asl.json) instead of
 * one planner invocation: each "segment" is one Lambda invocation that plans from a byte offset
 * (a ranged GET of the rest of the object) until its time budget is spent, right after a whole
 * chunk, and hands the loop a small state to resume from. The chunks it announces are the same
 * ChunkPlanned events the in-Lambda planner publishes (in PutEvents batches of 10), so embedding
 * and counting stay in the SQS consumers.
 */
import { planCsv } from '../domain/csv';
import { chunkCommon, csvHeaderValidator, csvRangeChunk, MAX_HEADER_BYTES } from '../domain/plan';
import { isTerminal } from '../domain/task';
import { SourceError } from '../errors';
import type { Dependencies, LargeCsvPlanState } from '../ports';
import { chunkAnnouncer } from './chunkAnnouncer';
import { finishTask, type FinishTaskDeps } from './finishTask';
import { noteStartDateWarning } from './planTask';
import { finishIfSettled, type SettleTaskDeps } from './settleTask';

export type PlanSegmentDeps = SettleTaskDeps & Pick<Dependencies, 'config' | 'objects' | 'plans'>;

/** One segment: plans from state.nextOffset for at most `budgetMs` (after the first whole chunk past it, it stops). */
export async function planSegment(state: LargeCsvPlanState, deps: PlanSegmentDeps, budgetMs: number): Promise<LargeCsvPlanState> {
  const { objects, tasks, logger } = deps;
  const task = await tasks.get(state.taskId);
  if (!task) throw new SourceError(`task ${state.taskId} does not exist`);
  // Cancelled (or failed) meanwhile: stop planning; the finish step only re-announces the end.
  if (isTerminal(task.status)) return { ...state, done: true };
  if (state.header && state.nextOffset >= state.size) return { ...state, done: true };

  const uri = `s3://${objects.bucket}/${state.key}`;
  const deadline = Date.now() + Math.max(0, budgetMs);
  const announcer = chunkAnnouncer((header) => chunkCommon(task, task.request, deps.config, header), deps);
  const version = state.versionId ? { versionId: state.versionId } : {};
  const stream = await objects.read(state.key, { etag: state.etag, start: state.nextOffset, ...version });
  const summary = await planCsv(stream, {
    maxRecords: deps.config.chunk.records,
    maxBytes: deps.config.chunk.maxBytes,
    ...(state.header && state.delimiter
      ? {
          resume: {
            byteOffset: state.nextOffset,
            header: state.header,
            delimiter: state.delimiter,
            chunkIndex: state.chunkIndex,
            recordsSoFar: state.recordsSoFar,
          },
        }
      : {
          validateHeader: (names: string[]) => {
            csvHeaderValidator(uri, task.request, deps.config)(names);
            if (Buffer.byteLength(JSON.stringify(names)) > MAX_HEADER_BYTES) {
              throw new SourceError(
                `${uri} has a header row over ${MAX_HEADER_BYTES} bytes (${names.length} columns), more than a large-file plan can carry`,
              );
            }
          },
        }),
    shouldStop: () => Date.now() >= deadline,
    onChunk: (chunk, layout) =>
      announcer.announce(csvRangeChunk(chunk, { bucket: objects.bucket, key: state.key, etag: state.etag, ...version }, layout)),
  });
  await announcer.flush();
  // Only the first segment reads the header; a retried one notes the same warning, which is kept once.
  if (!state.header) await noteStartDateWarning(task, summary.header, uri, deps);
  const next: LargeCsvPlanState = {
    ...state,
    header: summary.header,
    delimiter: summary.delimiter,
    nextOffset: summary.nextOffset,
    chunkIndex: state.chunkIndex + summary.chunks,
    recordsSoFar: state.recordsSoFar + summary.records,
    segments: state.segments + 1,
    done: summary.done || summary.nextOffset >= state.size,
  };
  logger.info('CSV segment planned', {
    task_id: state.taskId,
    segment: next.segments,
    from: state.nextOffset,
    to: next.nextOffset,
    size: state.size,
    chunks: summary.chunks,
    done: next.done,
  });
  return next;
}

/** The loop's last step: the totals, after which the aggregator (or this) ends the task. */
export async function finishPlan(state: LargeCsvPlanState, deps: SettleTaskDeps): Promise<void> {
  const task = await deps.tasks.get(state.taskId);
  if (!task) return;
  if (isTerminal(task.status)) return finishIfSettled(task, deps);
  const planned = await deps.tasks.completePlan(state.taskId, { records: state.recordsSoFar, chunks: state.chunkIndex }, deps.now());
  deps.logger.info('task planned', {
    task_id: state.taskId,
    records: state.recordsSoFar,
    chunks: state.chunkIndex,
    segments: state.segments,
  });
  await finishIfSettled(planned, deps);
}

/** What a Catch hands the fail step: Step Functions' error name and cause (a Lambda's cause is JSON). */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

export function reasonOf(error: CaughtError | undefined, fallback: string): string {
  if (!error) return fallback;
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed?.errorMessage) message = parsed.errorMessage;
  } catch {
    // a plain-text cause
  }
  return [error.Error, message].filter(Boolean).join(': ') || fallback;
}

/** The loop failed (caught), or the execution ended without reaching its Catch (status-change rule). */
export async function failPlan(taskId: string, reason: string, deps: FinishTaskDeps): Promise<void> {
  if (!(await deps.tasks.get(taskId))) {
    deps.logger.warn('large-CSV execution failed for an unknown task', { task_id: taskId, reason });
    return;
  }
  await finishTask(taskId, 'FAILED', deps, `large-CSV planning failed: ${reason}`);
}
