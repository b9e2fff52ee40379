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

/**
 * What every ChunkPlanned of a task carries besides its own range, for a source with these
 * columns: the date column resolved on them, and start_date only where this pipeline applies it.
 */
export function chunkCommon(task: Task, request: TaskRequest, config: Config, header: readonly string[]): ChunkCommon {
  const dateColumn = resolveDateColumn(header, request, config);
  const startDate = ownStartDate(request);
  return {
    schemaVersion: 1,
    taskId: task.taskId,
    namespace: task.namespace,
    dataSource: task.dataSource,
    ...(startDate && dateColumn.present ? { startDate } : {}),
    ...(request.dryRun ? { dryRun: true } : {}),
    ...(request.force ? { force: true } : {}),
    dataset: datasetOf(request),
    ...(request.sync === 'full' ? { sync: 'full' as const } : {}),
    longText: request.longText ?? config.longText.mode,
    columns: { ...taskColumns(request, config), date: dateColumn.name },
  };
}

/** The start_date this pipeline filters by itself: Metabase filters by date itself, through the question's parameter. */
function ownStartDate(request: TaskRequest): string | undefined {
  return request.source.type === 'metabase' ? undefined : request.startDate;
}

/** Where the dates are when neither the request nor DATE_COLUMN names the column: the first of these a source has, in any case. */
export const DATE_COLUMN_CANDIDATES = ['date', 'created_at', 'updated_at', 'modified_at', 'timestamp'] as const;

export interface DateColumn {
  /** The column start_date is compared with: the one named, else the source's own spelling of the first candidate it has, else `date`. */
  name: string;
  /** Whether the request or DATE_COLUMN named it. */
  named: boolean;
  /** Whether the source has it. */
  present: boolean;
}

/** A source's date column (README › API, `start_date`): the older callers send start_date whatever their file's date column is called. */
export function resolveDateColumn(header: readonly string[], request: TaskRequest, config: Config): DateColumn {
  const named = request.columns?.date ?? (config.columns.dateExplicit ? config.columns.date : undefined);
  if (named !== undefined) return { name: named, named: true, present: header.includes(named) };
  for (const candidate of DATE_COLUMN_CANDIDATES) {
    const found = header.find((column) => column.toLowerCase() === candidate);
    if (found !== undefined) return { name: found, named: false, present: true };
  }
  return { name: config.columns.date, named: false, present: false };
}

/** Fails a start_date task whose source lacks the date column the request or DATE_COLUMN named. */
export function checkDateColumn(header: readonly string[], request: TaskRequest, config: Config, source: string): void {
  const dateColumn = resolveDateColumn(header, request, config);
  if (ownStartDate(request) && dateColumn.named && !dateColumn.present) {
    throw new SourceError(
      `start_date was given but ${source} has no date column "${dateColumn.name}"; its columns are: ${header.join(', ') || '(none)'}`,
    );
  }
}

/** Why start_date is not applied to a source, if it is not: nobody named a date column and it has none of the usual ones. */
export function startDateWarning(header: readonly string[], request: TaskRequest, config: Config, source: string): string | undefined {
  const startDate = ownStartDate(request);
  const dateColumn = resolveDateColumn(header, request, config);
  if (!startDate || dateColumn.named || dateColumn.present) return undefined;
  return (
    `start_date ${startDate} was not applied: ${source} has no date column (none of ${DATE_COLUMN_CANDIDATES.join(', ')}), ` +
    'so every row was taken; name its date column with date_column or DATE_COLUMN'
  );
}

/** The header checks of a CSV source: its text column, and, when start_date is given, a date column that was named. */
export function csvHeaderValidator(uri: string, request: TaskRequest, config: Config): (names: string[]) => void {
  const columns = taskColumns(request, config);
  return (names) => {
    if (!names.includes(columns.text))
      throw new SourceError(`${uri} has no text column "${columns.text}"; its columns are: ${names.join(', ')}`);
    checkDateColumn(names, request, config, uri);
  };
}

/** A header longer than this cannot travel in the large-CSV loop's state (256 KiB per state, with room to spare). */
export const MAX_HEADER_BYTES = 64 * 1024;

export function initialLargeCsvPlanState(
  taskId: string,
  key: string,
  head: { etag: string; size: number },
  versionId?: string,
): LargeCsvPlanState {
  const version = versionId ? { versionId } : {};
  return {
    taskId,
    key,
    ...version,
    etag: head.etag,
    size: head.size,
    nextOffset: 0,
    chunkIndex: 0,
    recordsSoFar: 0,
    segments: 0,
    done: false,
  };
}

/** Step Functions execution names: 1-80 of [A-Za-z0-9-_]. The task id when it fits, else a stable digest of it. */
export function executionNameFor(taskId: string): string {
  if (/^[A-Za-z0-9_-]{1,80}$/.test(taskId)) return taskId;
  const digest = createHash('sha256').update(taskId).digest('hex').slice(0, 24);
  return `${taskId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 55)}-${digest}`;
}

/**
 * A planned CSV chunk as ChunkPlanned carries it: a byte range of whole records of one content
 * (ETag) of the object, and of the version the task was pinned to when it named one.
 */
export function csvRangeChunk(
  chunk: { chunkIndex: number; recordCount: number; firstRecordNumber: number; byteStart: number; byteEnd: number },
  object: { bucket: string; key: string; etag: string; versionId?: string },
  { header, delimiter }: { header: string[]; delimiter: string },
): ChunkOwn {
  const { chunkIndex, recordCount, firstRecordNumber, byteStart, byteEnd } = chunk;
  return {
    chunkIndex,
    recordCount,
    firstRecordNumber,
    source: { type: 'csv_range', ...object, byteStart, byteEnd, header: header as [string, ...string[]], delimiter },
  };
}
