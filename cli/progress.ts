/**
 * A task as the CLI shows it, from GET /tasks/{task_id}: the live bar of a terminal, the plain
 * line of a log, the summary once it has ended, and the status block. Pure.
 */
import type { TaskDetailView } from '../shared/domain/taskDetail';
import { PROGRAM } from './commandLine';
import { fit, formatCount, formatDuration, formatPercent, formatRate, formatTime, formatUsd } from './format';

export type TaskProgress = Pick<
  TaskDetailView,
  | 'task_id'
  | 'status'
  | 'records'
  | 'chunks'
  | 'progress'
  | 'records_per_second'
  | 'eta_seconds'
  | 'started_at'
  | 'completed_at'
  | 'errors'
  | 'error_count'
>;

const BAR_WIDTH = { min: 10, max: 40 };
const ERRORS_SHOWN = 5;

const handled = ({ records }: Pick<TaskProgress, 'records'>) => records.processed + records.skipped + records.failed;

const recordsDone = (task: Pick<TaskProgress, 'records'>) =>
  `${formatCount(handled(task))}/${task.records.total === null ? '?' : formatCount(task.records.total)} records`;

export function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

/** One terminal line, redrawn in place: state, bar, share, records, rate, ETA; never wider than the terminal. */
export function barLine(task: TaskProgress, columns: number): string {
  const left = task.status.padEnd(9);
  const right = `${formatPercent(task.progress).padStart(4)}  ${recordsDone(task)}  ${formatRate(task.records_per_second)} rec/s  ETA ${formatDuration(task.eta_seconds)}`;
  // One column spare: a line that fills the terminal wraps on some, and a wrapped line cannot be redrawn.
  const width = Math.min(BAR_WIDTH.max, Math.max(BAR_WIDTH.min, columns - 1 - `${left}   ${right}`.length));
  return fit(`${left} ${bar(task.progress ?? 0, width)}  ${right}`, columns - 1);
}

/** One line of a log (stdout not a terminal), printed when something changed. */
export function plainLine(task: TaskProgress): string {
  if (task.progress === null) return `${task.status} ${recordsDone(task)} (planning)`;
  return `${task.status} ${formatPercent(task.progress)} ${recordsDone(task)}, ${formatRate(task.records_per_second)} records/s, ETA ${formatDuration(task.eta_seconds)}`;
}

/** How a task ended, in one line: the last one the CLI prints about it. */
export function summaryLine(task: Pick<TaskProgress, 'status' | 'records' | 'started_at' | 'completed_at'>): string {
  const { records } = task;
  const took =
    task.started_at && task.completed_at
      ? ` in ${formatDuration((Date.parse(task.completed_at) - Date.parse(task.started_at)) / 1000)}`
      : '';
  return `${task.status} ${recordsDone(task)}: ${formatCount(records.processed)} processed, ${formatCount(records.skipped)} skipped, ${formatCount(records.failed)} failed${took}`;
}

/** The first errors the task kept, and how to see the rest. */
export function errorLines(task: TaskProgress): string[] {
  const shown = task.errors.slice(0, ERRORS_SHOWN).map((error) => `  error: ${error}`);
  const more = task.error_count - shown.length;
  return more > 0 ? [...shown, `  … ${formatCount(more)} more: ${PROGRAM} status ${task.task_id} --json`] : shown;
}

function sourceOf(source: TaskDetailView['source']): string {
  if ('key' in source) return `${source.type} ${source.key}`;
  if ('questionId' in source) return `${source.type} question ${source.questionId}`;
  return 'name' in source && source.name ? `${source.type} ${source.name}` : source.type;
}

/** `status` without --watch: everything a person checks, one fact a line. */
export function statusBlock(task: TaskDetailView): string {
  const { records, chunks } = task;
  const lines: [string, string][] = [
    ['task', task.task_id],
    ['status', `${task.status}${task.dry_run ? ' (dry run)' : ''}`],
    ['source', sourceOf(task.source)],
    ['dataset', `${task.dataset}   namespace ${task.namespace}`],
    [
      'records',
      `${recordsDone(task)}: ${formatCount(records.processed)} processed, ${formatCount(records.skipped)} skipped, ${formatCount(records.failed)} failed`,
    ],
    [
      'chunks',
      `${formatCount(chunks.completed + chunks.failed)}/${chunks.total === null ? '?' : formatCount(chunks.total)}, ${formatCount(chunks.failed)} failed`,
    ],
    ['rate', `${formatRate(task.records_per_second)} records/s, ETA ${formatDuration(task.eta_seconds)}`],
    ['tokens', `${formatCount(task.embedding_tokens)} (${formatUsd(task.cost.spent_usd)} spent)`],
    ['created', formatTime(task.created_at)],
    ['started', formatTime(task.started_at)],
    ['ended', formatTime(task.completed_at)],
    ...task.warnings.map((warning): [string, string] => ['warning', warning]),
  ];
  return [...lines.map(([name, value]) => `${name.padEnd(8)}  ${value}`), ...errorLines(task)].join('\n');
}
