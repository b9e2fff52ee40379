/** `GET /tasks` (README › Task list, search and OpenAPI): its parameters and how each listed task is shown. Pure: no I/O. */
import type { TaskListFilter, TaskSummary } from '../ports';
import { choiceParameter, integerParameter, rejectUnknown, textParameter, type QueryParameters } from './queryParameters';
import { DATA_SOURCES, TASK_STATUSES } from './task';

export const TASK_LIST_PARAMETERS = ['limit', 'cursor', 'status', 'data_source', 'dataset'] as const;
export const TASK_LIST_LIMITS = { defaultLimit: 20, maxLimit: 100 } as const;

export interface TaskListQuery {
  filter: TaskListFilter;
  limit: number;
  cursor?: string;
}

export function parseTaskListQuery(params: QueryParameters): TaskListQuery {
  rejectUnknown(params, TASK_LIST_PARAMETERS);
  const status = choiceParameter(params, 'status', TASK_STATUSES);
  const dataSource = choiceParameter(params, 'data_source', DATA_SOURCES);
  const dataset = textParameter(params, 'dataset');
  const cursor = textParameter(params, 'cursor');
  return {
    filter: { ...(status ? { status } : {}), ...(dataSource ? { dataSource } : {}), ...(dataset ? { dataset } : {}) },
    limit: integerParameter(params, 'limit', { min: 1, max: TASK_LIST_LIMITS.maxLimit, fallback: TASK_LIST_LIMITS.defaultLimit }),
    ...(cursor ? { cursor } : {}),
  };
}

/** One task of the list: the `/status` names for what the listing holds. */
export function taskListItem(task: TaskSummary) {
  const { records } = task;
  const done = records.processed + records.skipped + records.failed;
  return {
    task_id: task.taskId,
    status: task.status,
    data_source: task.dataSource,
    namespace: task.namespace,
    dataset: task.dataset,
    dry_run: task.dryRun,
    records: { total: task.planned ? records.total : null, processed: records.processed, skipped: records.skipped, failed: records.failed },
    progress: !task.planned ? null : records.total === 0 ? 1 : Math.min(1, Math.round((done / records.total) * 1000) / 1000),
    embedding_tokens: task.tokens,
    created_at: task.createdAt,
    started_at: task.startedAt ?? null,
    updated_at: task.updatedAt,
    completed_at: task.completedAt ?? null,
    status_url: `/tasks/${encodeURIComponent(task.taskId)}`,
  };
}
