/** A task: one run over one source, its exact counts and its state machine (README › Task status). */
import type { TaskRequested } from '../events/types';

/** A TaskRequested whose task id is settled (given by the requester, or assigned on arrival). */
export type TaskRequest = TaskRequested & { taskId: string };

export const TASK_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TerminalStatus = Exclude<TaskStatus, 'PENDING' | 'RUNNING'>;

export const DATA_SOURCES = ['s3_csv', 'metabase', 'inline'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return status !== 'PENDING' && status !== 'RUNNING';
}

export interface RecordCounts {
  total: number;
  processed: number;
  skipped: number;
  failed: number;
}

export interface Task {
  taskId: string;
  status: TaskStatus;
  dataSource: DataSource;
  namespace: string;
  request: TaskRequest;
  /** Set once the planner has announced every chunk; until then totals are not final. */
  planned: boolean;
  records: RecordCounts & { truncated: number; skippedReasons: Record<string, number> };
  chunks: { total: number; completed: number; failed: number };
  tokens: number;
  /** Errors that explain a failure: task-level ones and the first record-level ones. */
  errors: string[];
  /** Record-level errors beyond those kept in `errors`. */
  errorCount: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  /** Whether TaskCompleted has been published for the terminal state. */
  completionAnnounced: boolean;
}

/** The final status once every chunk is in: failed records make a run PARTIAL, or FAILED if nothing else. */
export function finalStatus(records: RecordCounts): TerminalStatus {
  if (records.failed === 0) return 'COMPLETED';
  return records.processed + records.skipped > 0 ? 'PARTIAL' : 'FAILED';
}

export function isSettled(task: Task): boolean {
  return task.planned && task.chunks.completed + task.chunks.failed >= task.chunks.total;
}

export type StatusView = ReturnType<typeof buildStatusView>;

/** Builds the JSON `/status` answers (README › Task status); fields are only ever added. */
export function buildStatusView(task: Task, pricePerMillionTokens: number) {
  return {
    task_id: task.taskId,
    status: task.status,
    data_source: task.dataSource,
    namespace: task.namespace,
    source: task.request.source.type === 'inline' ? { type: 'inline', ...(task.request.source.name ? { name: task.request.source.name } : {}) } : task.request.source,
    start_date: task.request.startDate ?? null,
    records: {
      total: task.planned ? task.records.total : null,
      processed: task.records.processed,
      skipped: task.records.skipped,
      failed: task.records.failed,
      truncated: task.records.truncated,
      skipped_reasons: task.records.skippedReasons,
    },
    chunks: { total: task.planned ? task.chunks.total : null, completed: task.chunks.completed, failed: task.chunks.failed },
    progress: progress(task),
    embedding_tokens: task.tokens,
    dry_run: task.request.dryRun === true,
    ...(task.request.dryRun
      ? { estimate: { records_to_embed: task.records.processed, tokens: task.tokens, cost_usd: Math.round(task.tokens * pricePerMillionTokens * 100) / 1e8, final: isTerminal(task.status) } }
      : {}),
    created_at: task.createdAt,
    started_at: task.startedAt ?? null,
    updated_at: task.updatedAt,
    completed_at: task.completedAt ?? null,
    errors: task.errors,
    error_count: Math.max(task.errorCount, task.errors.length),
  };
}

/** Share of records handled, 0..1; null while the total is still unknown. */
function progress(task: Task): number | null {
  if (!task.planned) return null;
  if (task.records.total === 0) return 1;
  const done = task.records.processed + task.records.skipped + task.records.failed;
  return Math.min(1, Math.round((done / task.records.total) * 1000) / 1000);
}

/** Gives an outside event without a task id a stable one: the same on every delivery of that event. */
export function settleTaskId(detail: TaskRequested, eventId: string): TaskRequest {
  return { ...detail, taskId: detail.taskId ?? `evt-${eventId}` };
}
