/** A task: one run over one source, its exact counts and its state machine (README › Task status). */
import type { TaskRequested } from '../events/types';

/** A TaskRequested whose task id is settled (given by the requester, or assigned on arrival). */
export type TaskRequest = TaskRequested & { taskId: string };

export const TASK_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TerminalStatus = Exclude<TaskStatus, 'PENDING' | 'RUNNING'>;

export const DATA_SOURCES = ['s3_csv', 'metabase', 'inline'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

/** The dataset a task's vectors belong to: the caller's name, else the source's identity. */
export function datasetOf(request: TaskRequest): string {
  return request.dataset ?? sourceIdentityOf(request);
}

/** What a task reads, as one string: the S3 key, metabase://question/<id>, inline://<name>. */
export function sourceIdentityOf(request: TaskRequest): string {
  const { source } = request;
  switch (source.type) {
    case 's3_csv':
      return source.key;
    case 'metabase':
      return `metabase://question/${source.questionId}`;
    case 'inline':
      return `inline://${source.name ?? request.requestedBy ?? 'event'}`;
  }
}

/** The last COMPLETED run of a source: the watermark. */
export interface Watermark {
  taskId: string;
  startedAt: string;
}

/** Where an auto start date came from, as /status shows it. */
export interface StartDateBasis {
  /** `watermark`: the last completed run's start less the overlap; `initial`: CATCHUP_INITIAL_START_DATE; `none`: no filter. */
  from: 'watermark' | 'initial' | 'none';
  watermark?: Watermark;
  overlapDays: number;
}

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return status !== 'PENDING' && status !== 'RUNNING';
}

export interface RecordCounts {
  total: number;
  processed: number;
  skipped: number;
  failed: number;
}

export interface VectorCounts {
  upserted: number;
  metadataUpdated: number;
  deleted: number;
}

export const SYNC_PHASES = ['scan', 'delete', 'done', 'skipped'] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];

/** A full sync's deletion step: it scans the dataset page by page, then deletes what the run did not see. */
export interface SyncProgress {
  phase: SyncPhase;
  /** The next page of the current phase. */
  page: number;
  /** Pages the scan found (known once it has ended). */
  pages: number;
  /** The dataset's vectors checked, and those the run did not see. */
  scanned: number;
  unseen: number;
  deleted: number;
  /** A few of the unseen ids, for dry runs. */
  sampleIds: string[];
  /** Why nothing was deleted, when nothing was. */
  skippedReason?: string;
  /** When the current page was claimed: a step older than a lease that finds it claimed re-announces the next. */
  claimedAt?: string;
}

export interface Task {
  taskId: string;
  status: TaskStatus;
  dataSource: DataSource;
  namespace: string;
  request: TaskRequest;
  /** Set once the planner has announced every chunk; until then totals are not final. */
  planned: boolean;
  /** `split`: records whose text became several pieces (each a vector). */
  records: RecordCounts & { truncated: number; split: number; skippedReasons: Record<string, number> };
  chunks: { total: number; completed: number; failed: number };
  tokens: number;
  /** Vector writes, apart from records: upserts of embedded vectors, metadata rewritten without embedding, deletions. */
  vectors: VectorCounts;
  /** Set once a full sync has started its deletion step (README › Keeping the index in step). */
  sync?: SyncProgress;
  /** Errors that explain a failure: task-level ones and the first record-level ones. */
  errors: string[];
  /** Record-level errors beyond those kept in `errors`. */
  errorCount: number;
  /** What the run did not do as asked without failing for it (e.g. start_date not applied to a source without dates), each once. */
  warnings?: string[];
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  /** 1 for the first run; each retry of its failed chunks adds one. */
  attempt?: number;
  /** How often the sweeper announced the task's missing work again, and when it last did (README › What is guaranteed). */
  sweeps?: number;
  sweptAt?: string;
  /** Where a start_date=auto request's date came from, once the planner settled it. */
  startDateBasis?: StartDateBasis;
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
    source:
      task.request.source.type === 'inline'
        ? { type: 'inline', ...(task.request.source.name ? { name: task.request.source.name } : {}) }
        : task.request.source,
    start_date: task.request.startDate ?? null,
    ...(task.startDateBasis ? { start_date_auto: startDateAutoView(task.startDateBasis) } : {}),
    records: {
      total: task.planned ? task.records.total : null,
      processed: task.records.processed,
      skipped: task.records.skipped,
      failed: task.records.failed,
      truncated: task.records.truncated,
      split: task.records.split,
      skipped_reasons: task.records.skippedReasons,
    },
    chunks: { total: task.planned ? task.chunks.total : null, completed: task.chunks.completed, failed: task.chunks.failed },
    progress: progress(task),
    embedding_tokens: task.tokens,
    vectors: { upserted: task.vectors.upserted, metadata_updated: task.vectors.metadataUpdated, deleted: task.vectors.deleted },
    dataset: datasetOf(task.request),
    ...(task.request.sync === 'full' ? { sync: syncView(task) } : {}),
    warnings: warningsOf(task),
    dry_run: task.request.dryRun === true,
    ...(task.request.dryRun
      ? {
          estimate: {
            records_to_embed: task.vectors.upserted,
            tokens: task.tokens,
            cost_usd: Math.round(task.tokens * pricePerMillionTokens * 100) / 1e8,
            final: isTerminal(task.status),
          },
        }
      : {}),
    created_at: task.createdAt,
    started_at: task.startedAt ?? null,
    updated_at: task.updatedAt,
    completed_at: task.completedAt ?? null,
    errors: task.errors,
    error_count: Math.max(task.errorCount, task.errors.length),
  };
}

/** How a start_date=auto run's date was found: the watermark (the last completed run) it came from, if any. */
function startDateAutoView(basis: StartDateBasis) {
  return {
    from: basis.from,
    overlap_days: basis.overlapDays,
    watermark: basis.watermark ? { task_id: basis.watermark.taskId, started_at: basis.watermark.startedAt } : null,
  };
}

/** A full sync as /status shows it; `deletion_skipped` says why nothing was deleted, once that is settled. */
function syncView(task: Task) {
  const { sync } = task;
  const skipped = deletionSkipped(task);
  return {
    mode: 'full' as const,
    dataset: datasetOf(task.request),
    phase: sync?.phase ?? (isTerminal(task.status) ? 'skipped' : 'pending'),
    scanned: sync?.scanned ?? 0,
    deleted: sync?.deleted ?? 0,
    ...(task.request.dryRun && sync ? { would_delete: sync.unseen, sample_ids: sync.sampleIds } : {}),
    ...(skipped ? { deletion_skipped: skipped } : {}),
  };
}

/** Why a full sync deleted nothing: its own guard's reason, or how the run ended before its deletion step. */
export function deletionSkipped(task: Task): string | undefined {
  if (task.request.sync !== 'full') return undefined;
  if (task.sync?.skippedReason) return task.sync.skippedReason;
  if (!isTerminal(task.status) || task.sync?.phase === 'done') return undefined;
  if (task.sync)
    return `the task ended ${task.status} during its deletion step, after deleting ${task.sync.deleted} vectors; the rest stay`;
  return `the run ended ${task.status}: a full sync deletes only after a run with no failed record`;
}

function warningsOf(task: Task): string[] {
  const skipped = deletionSkipped(task);
  return [...(task.warnings ?? []), ...(skipped ? [`deletion skipped: ${skipped}`] : [])];
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
