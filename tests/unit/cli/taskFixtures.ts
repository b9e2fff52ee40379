/** GET /tasks/{task_id} answers as the CLI reads them, at a few points of a run. */
import type { TaskDetailView } from '../../../shared/domain/taskDetail';

export function taskDetail(overrides: Partial<TaskDetailView> = {}): TaskDetailView {
  return {
    task_id: 's3-abc',
    status: 'RUNNING',
    data_source: 's3_csv',
    namespace: '__default__',
    source: { type: 's3_csv', key: 'incoming/products.csv' },
    start_date: null,
    records: { total: 5000, processed: 2500, skipped: 100, failed: 0, truncated: 0, split: 0, skipped_reasons: { empty_text: 100 } },
    chunks: { total: 5, completed: 2, failed: 0 },
    progress: 0.52,
    embedding_tokens: 30_000,
    vectors: { upserted: 2500, metadata_updated: 0, deleted: 0 },
    dataset: 'incoming/products.csv',
    warnings: [],
    dry_run: false,
    created_at: '2026-06-01T12:00:00.000Z',
    started_at: '2026-06-01T12:00:01.000Z',
    updated_at: '2026-06-01T12:00:07.000Z',
    completed_at: null,
    errors: [],
    error_count: 0,
    chunk_states: { from: 0, to: 5, next_from: null, chunks: [] },
    records_per_second: 412.3,
    eta_seconds: 6,
    cost: { price_per_million_tokens: 0.02, tokens: 30_000, spent_usd: 0.0006, estimated_total_usd: 0.00115 },
    last_errors: [],
    ...overrides,
  } as TaskDetailView;
}

export const completed = (overrides: Partial<TaskDetailView> = {}) =>
  taskDetail({
    status: 'COMPLETED',
    records: { total: 5000, processed: 4900, skipped: 100, failed: 0, truncated: 0, split: 0, skipped_reasons: { empty_text: 100 } },
    chunks: { total: 5, completed: 5, failed: 0 },
    progress: 1,
    eta_seconds: 0,
    completed_at: '2026-06-01T12:00:13.000Z',
    ...overrides,
  });
