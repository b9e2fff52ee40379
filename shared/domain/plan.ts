/** What planning a task decides without I/O: the columns, what every chunk carries, header checks. */
import { createHash } from 'node:crypto';
import type { Config } from '../config';
import { SourceError } from '../errors';
import type { ChunkPlanned } from '../events/types';
import type { LargeCsvPlanState } from '../ports';
import { datasetOf, type Task, type TaskRequest } from './task';

type Columns = ChunkPlanned['columns'];
/** What every ChunkPlanned of a task carries besides its own range. */
export type ChunkCommon = Omit<ChunkPlanned, 'chunkIndex' | 'recordCount' | 'firstRecordNumber' | 'source'>;
/** What each ChunkPlanned carries of its own. */
export type ChunkOwn = Pick<ChunkPlanned, 'chunkIndex' | 'recordCount' | 'firstRecordNumber' | 'source'>;

/** The request's column names, the configured ones where it names none. */
export function taskColumns(request: TaskRequest, config: Config): Columns {
  return {
    text: request.columns?.text ?? config.columns.text,
    id: request.columns?.id ?? config.columns.id,
    date: request.columns?.date ?? config.columns.date,
    deleted: request.columns?.deleted ?? config.columns.deleted,
  };
}

export function chunkCommon(task: Task, request: TaskRequest, config: Config): ChunkCommon {
  return {
    schemaVersion: 1,
    taskId: task.taskId,
    namespace: task.namespace,
    dataSource: task.dataSource,
    // Metabase filters by date itself, through the question's parameter.
    ...(request.startDate && request.source.type !== 'metabase' ? { startDate: request.startDate } : {}),
    ...(request.dryRun ? { dryRun: true } : {}),
    ...(request.force ? { force: true } : {}),
    dataset: datasetOf(request),
    ...(request.sync === 'full' ? { sync: 'full' as const } : {}),
    columns: taskColumns(request, config),
  };
}

/** The header checks of a CSV source: its text column, and its date column when start_date is given. */
export function csvHeaderValidator(uri: string, request: TaskRequest, config: Config): (names: string[]) => void {
  const columns = taskColumns(request, config);
  return (names) => {
    if (!names.includes(columns.text))
      throw new SourceError(`${uri} has no text column "${columns.text}"; its columns are: ${names.join(', ')}`);
    if (request.startDate && !names.includes(columns.date)) {
      throw new SourceError(`start_date was given but ${uri} has no date column "${columns.date}"; its columns are: ${names.join(', ')}`);
    }
  };
}

/** A header longer than this cannot travel in the large-CSV loop's state (256 KiB per state, with room to spare). */
export const MAX_HEADER_BYTES = 64 * 1024;

export function initialLargeCsvPlanState(taskId: string, key: string, head: { etag: string; size: number }): LargeCsvPlanState {
  return { taskId, key, etag: head.etag, size: head.size, nextOffset: 0, chunkIndex: 0, recordsSoFar: 0, segments: 0, done: false };
}

/** Step Functions execution names: 1-80 of [A-Za-z0-9-_]. The task id when it fits, else a stable digest of it. */
export function executionNameFor(taskId: string): string {
  if (/^[A-Za-z0-9_-]{1,80}$/.test(taskId)) return taskId;
  const digest = createHash('sha256').update(taskId).digest('hex').slice(0, 24);
  return `${taskId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 55)}-${digest}`;
}
