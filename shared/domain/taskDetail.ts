/**
 * `GET /tasks/{task_id}` (README › Task list, search and OpenAPI): the `/status` document and what
 * an operator watching a run wants besides: each chunk's state, the rate, the time left, the cost,
 * and the last record errors with their record numbers. Pure: no I/O.
 */
import type { RecordedChunk } from '../ports';
import { integerParameter, rejectUnknown, type QueryParameters } from './queryParameters';
import { buildStatusView, isTerminal, type Task } from './task';

export const TASK_DETAIL_PARAMETERS = ['chunks_from'] as const;
/** Chunks shown per answer: a run of a million records at the default chunk size fits one. */
export const CHUNK_WINDOW = 1000;
export const LAST_ERRORS = 20;

export interface ChunkWindow {
  from: number;
  /** Exclusive. */
  to: number;
}

export function parseTaskDetailQuery(params: QueryParameters): { chunksFrom: number } {
  rejectUnknown(params, TASK_DETAIL_PARAMETERS);
  return { chunksFrom: integerParameter(params, 'chunks_from', { min: 0, max: Number.MAX_SAFE_INTEGER - CHUNK_WINDOW, fallback: 0 }) };
}

/** The chunks an answer shows: from `from` on, at most CHUNK_WINDOW of them, none past the plan's end. */
export function chunkWindow(task: Pick<Task, 'planned' | 'chunks'>, from: number): ChunkWindow {
  const to = from + CHUNK_WINDOW;
  return { from, to: task.planned ? Math.max(from, Math.min(to, task.chunks.total)) : to };
}

export type TaskDetailView = ReturnType<typeof buildTaskDetail>;

export function buildTaskDetail(task: Task, chunks: RecordedChunk[], window: ChunkWindow, pricePerMillionTokens: number, now: Date) {
  const rate = recordsPerSecond(task, now);
  return {
    ...buildStatusView(task, pricePerMillionTokens),
    chunk_states: chunkStates(task, chunks, window),
    records_per_second: rate,
    eta_seconds: etaSeconds(task, rate),
    cost: cost(task, pricePerMillionTokens),
    last_errors: lastErrors(chunks),
  };
}

const handled = (task: Task) => task.records.processed + task.records.skipped + task.records.failed;

/**
 * Planned: every chunk of the window, pending ones included. While planning, the chunk count is
 * not known yet: only the window's recorded chunks, and no next window.
 */
function chunkStates(task: Task, chunks: RecordedChunk[], window: ChunkWindow) {
  const byIndex = new Map(chunks.map((chunk) => [chunk.chunkIndex, chunk]));
  const indices = task.planned ? Array.from({ length: window.to - window.from }, (_, i) => window.from + i) : [...byIndex.keys()];
  return {
    from: window.from,
    to: window.to,
    next_from: task.planned && window.to < task.chunks.total ? window.to : null,
    chunks: indices.map((index) => {
      const chunk = byIndex.get(index);
      if (!chunk) return { index, state: 'pending' as const };
      const { total, processed, skipped, failed } = chunk.records;
      return {
        index,
        state: chunk.outcome,
        records: { total, processed, skipped, failed },
        tokens: chunk.tokens,
        finished_at: chunk.finishedAt,
      };
    }),
  };
}

/** Records handled per second since the task started (until it ended); null before it starts. */
function recordsPerSecond(task: Task, now: Date): number | null {
  if (!task.startedAt) return null;
  const end = task.completedAt ? Date.parse(task.completedAt) : now.getTime();
  const seconds = (end - Date.parse(task.startedAt)) / 1000;
  return seconds > 0 ? Math.round((handled(task) / seconds) * 10) / 10 : null;
}

/** Seconds left at the rate so far: 0 once ended, null while the total or the rate is unknown. */
function etaSeconds(task: Task, rate: number | null): number | null {
  if (isTerminal(task.status)) return 0;
  if (!task.planned || !rate) return null;
  return Math.ceil(Math.max(0, task.records.total - handled(task)) / rate);
}

/** Dollars to 1e-8, as the dry-run estimate of `/status`. */
const usd = (tokens: number, price: number) => Math.round(tokens * price * 100) / 1e8;

/** Spent so far (a dry run spends nothing), and the whole run's cost, extrapolated from the records handled so far. */
function cost(task: Task, price: number) {
  const done = handled(task);
  const total = isTerminal(task.status)
    ? usd(task.tokens, price)
    : task.planned && done > 0
      ? usd((task.tokens * task.records.total) / done, price)
      : null;
  return {
    price_per_million_tokens: price,
    tokens: task.tokens,
    spent_usd: task.request.dryRun ? 0 : usd(task.tokens, price),
    estimated_total_usd: total,
  };
}

/** The most recent record errors among the chunks shown, newest first. */
function lastErrors(chunks: RecordedChunk[]) {
  return chunks
    .flatMap((chunk) =>
      (chunk.errors ?? []).map((error) => ({
        chunk: chunk.chunkIndex,
        record_number: error.recordNumber ?? null,
        id: error.id ?? null,
        message: error.message,
        at: chunk.finishedAt,
      })),
    )
    .sort((a, b) => b.at.localeCompare(a.at) || b.chunk - a.chunk || (b.record_number ?? 0) - (a.record_number ?? 0))
    .slice(0, LAST_ERRORS);
}
