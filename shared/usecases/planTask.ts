/**
 * The planner: turns a requested task into chunks and announces one ChunkPlanned per chunk, then
 * records the totals. A CSV is cut into byte ranges of its own object (read once); rows from
 * Metabase or carried inline are written as JSON Lines chunk objects, after which both paths are
 * the same. Re-running it (a redelivered TaskRequested) announces the same chunks again, which the
 * embedder and aggregator treat as duplicates.
 */
import type { Config } from '../config';
import type { Dependencies } from '../dependencies';
import { planCsv } from '../domain/csv';
import type { TaskRequest, Task } from '../domain/task';
import { SourceError } from '../errors';
import type { ChunkPlanned, TaskRequested } from '../events/types';
import type { EventMeta } from '../handlers/eventConsumer';
import type { BusEvent, ObjectHead } from '../ports';
import { finishIfSettled, finishTask } from './announce';
import { initialSegmentState } from './planSegment';

const EVENTS_PER_PUBLISH = 10;

type Columns = ChunkPlanned['columns'];
export type ChunkCommon = Omit<ChunkPlanned, 'chunkIndex' | 'recordCount' | 'firstRecordNumber' | 'source'>;

/** Gives an outside event without a task id a stable one: the same on every delivery. */
export function resolveTaskRequest(detail: TaskRequested, meta: EventMeta): TaskRequest {
  return { ...detail, taskId: detail.taskId ?? `evt-${meta.eventId}` };
}

/** Inline records travel in the event only: a task item holds at most 400 KB, and /status need not echo them. */
function withoutInlineRecords(request: TaskRequest): TaskRequest {
  return request.source.type === 'inline' ? { ...request, source: { ...request.source, records: [] as unknown as [object] } } : request;
}

export async function planTask(detail: TaskRequested, deps: Dependencies, meta: EventMeta): Promise<void> {
  const { config, tasks, logger } = deps;
  const request = resolveTaskRequest(detail, meta);
  // Other systems may publish TaskRequested without calling the API: the task starts here then.
  const { task: existing } = await tasks.create(
    { taskId: request.taskId, dataSource: request.source.type, namespace: request.namespace ?? config.pinecone.namespace, request: withoutInlineRecords(request) },
    deps.now(),
  );
  if (existing.planned) return finishIfSettled(existing, deps);
  const task = await tasks.start(request.taskId, deps.now());
  if (!task) {
    logger.info('task is not runnable; nothing to plan', { taskId: request.taskId, status: existing.status });
    return;
  }
  const announcer = chunkAnnouncer(chunkCommon(task, request, config), deps);
  try {
    const totals = await planSource(task, request, announcer.announce, deps);
    // Handed to the Step Functions loop, which records the totals itself.
    if (!totals) return;
    await announcer.flush();
    logger.info('task planned', { taskId: task.taskId, ...totals });
    const planned = await tasks.completePlan(task.taskId, totals, deps.now());
    await finishIfSettled(planned, deps);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    await finishTask(task.taskId, 'FAILED', deps, error.message);
  }
}

/**
 * Starts the state machine when the object is over LARGE_CSV_THRESHOLD_BYTES (and a machine is
 * configured); true when it did or already had. The execution is named after the task, so a
 * redelivered TaskRequested starts nothing new.
 */
async function startLargeCsvPlan(task: Task, key: string, head: ObjectHead, deps: Dependencies): Promise<boolean> {
  const { fanout, config, logger } = deps;
  if (!fanout || head.size <= config.largeCsv.thresholdBytes) return false;
  const { started, executionName } = await fanout.start(task.taskId, initialSegmentState(task.taskId, key, head));
  logger.info(started ? 'large CSV handed to the state machine' : 'large CSV already has its execution', { taskId: task.taskId, key, size: head.size, executionName });
  return true;
}

/** What every ChunkPlanned of a task carries besides its own range. */
/** The request's column names, the configured ones where it names none. */
function taskColumns(request: TaskRequest, config: Config): Columns {
  return {
    text: request.columns?.text ?? config.columns.text,
    id: request.columns?.id ?? config.columns.id,
    date: request.columns?.date ?? config.columns.date,
  };
}

export function chunkCommon(task: Task, request: TaskRequest, config: Config): ChunkCommon {
  const columns = taskColumns(request, config);
  return {
    schemaVersion: 1,
    taskId: task.taskId,
    namespace: task.namespace,
    dataSource: task.dataSource,
    // Metabase filters by date itself, through the question's parameter.
    ...(request.startDate && request.source.type !== 'metabase' ? { startDate: request.startDate } : {}),
    ...(request.dryRun ? { dryRun: true } : {}),
    ...(request.force ? { force: true } : {}),
    columns,
  };
}

type Announce = (chunk: Pick<ChunkPlanned, 'chunkIndex' | 'recordCount' | 'firstRecordNumber' | 'source'>) => Promise<void>;

export function chunkAnnouncer(common: ChunkCommon, deps: Dependencies): { announce: Announce; flush: () => Promise<void> } {
  let pending: BusEvent<ChunkPlanned>[] = [];
  const flush = async () => {
    if (pending.length) await deps.events.publish(pending);
    pending = [];
  };
  return {
    flush,
    async announce(chunk) {
      pending.push({ detailType: 'ChunkPlanned', source: deps.config.eventSource, detail: { ...common, ...chunk } });
      if (pending.length >= EVENTS_PER_PUBLISH) await flush();
    },
  };
}

/** The plan's totals, or undefined when a large CSV went to the Step Functions loop. */
function planSource(task: Task, request: TaskRequest, announce: Announce, deps: Dependencies): Promise<{ records: number; chunks: number } | undefined> {
  const { source } = request;
  switch (source.type) {
    case 's3_csv':
      return planCsvObject(task, source.key, request, announce, deps);
    case 'metabase': {
      const { metabase } = deps;
      if (!metabase) throw new SourceError('data_source metabase needs METABASE_URL and METABASE_API_KEY, which this deployment does not have');
      const rows = metabase.rows(source.questionId, { startDate: request.startDate });
      return planRows(task, rows, `metabase://question/${source.questionId}`, `Metabase question ${source.questionId}`, announce, deps);
    }
    case 'inline':
      // The task keeps no copy of inline records (see withoutInlineRecords): they come from the event.
      return planRows(task, source.records, `inline://${source.name ?? request.requestedBy ?? 'event'}`, 'the inline records', announce, deps);
  }
}

async function planCsvObject(task: Task, key: string, request: TaskRequest, announce: Announce, deps: Dependencies): Promise<{ records: number; chunks: number } | undefined> {
  const { config, objects } = deps;
  const uri = `s3://${objects.bucket}/${key}`;
  const head = await objects.head(key);
  if (!head) throw new SourceError(`${uri} does not exist`);
  // A large CSV is planned by the Step Functions loop, segment by segment (BRIEF §2).
  if (await startLargeCsvPlan(task, key, head, deps)) return undefined;
  const summary = await planCsv(await objects.read(key, { etag: head.etag }), {
    maxRecords: config.chunk.records,
    maxBytes: config.chunk.maxBytes,
    validateHeader: csvHeaderValidator(uri, request, config),
    onChunk: (chunk, { header, delimiter }) =>
      announce({
        chunkIndex: chunk.chunkIndex,
        recordCount: chunk.recordCount,
        firstRecordNumber: chunk.firstRecordNumber,
        source: { type: 'csv_range', bucket: objects.bucket, key, etag: head.etag, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd, header: header as [string, ...string[]], delimiter },
      }),
  });
  if (summary.malformedRecords) deps.logger.warn('CSV has records the parser could not read', { key, malformedRecords: summary.malformedRecords });
  return { records: summary.records, chunks: summary.chunks };
}

/** The header checks of a CSV source: its text column, and its date column when start_date is given. */
export function csvHeaderValidator(uri: string, request: TaskRequest, config: Config): (names: string[]) => void {
  const columns = taskColumns(request, config);
  return (names) => {
    if (!names.includes(columns.text)) throw new SourceError(`${uri} has no text column "${columns.text}"; its columns are: ${names.join(', ')}`);
    if (request.startDate && !names.includes(columns.date)) {
      throw new SourceError(`start_date was given but ${uri} has no date column "${columns.date}"; its columns are: ${names.join(', ')}`);
    }
  };
}

/**
 * Streams rows into JSON Lines chunk objects under tasks/<task id>/ (one chunk in memory at a
 * time) and announces each. The first row's columns decide the text-column check.
 */
async function planRows(
  task: Task,
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  sourceUri: string,
  sourceName: string,
  announce: Announce,
  deps: Dependencies,
): Promise<{ records: number; chunks: number }> {
  const { config, objects } = deps;
  const { text: textColumn, date: dateColumn } = taskColumns(task.request, config);
  let header: string[] | undefined;
  let lines: string[] = [];
  let bytes = 0;
  let records = 0;
  let chunks = 0;

  const writeChunk = async () => {
    const key = `tasks/${task.taskId}/chunk-${String(chunks).padStart(6, '0')}.jsonl`;
    const written = await objects.put(key, `${lines.join('\n')}\n`);
    await announce({
      chunkIndex: chunks,
      recordCount: lines.length,
      firstRecordNumber: records - lines.length + 1,
      source: { type: 'jsonl', bucket: objects.bucket, key, etag: written.etag, header: header ?? [], sourceUri },
    });
    chunks += 1;
    lines = [];
    bytes = 0;
  };

  for await (const row of rows) {
    if (!header) {
      header = Object.keys(row);
      if (!header.includes(textColumn)) throw new SourceError(`${sourceName} has no column "${textColumn}"; its columns are: ${header.join(', ') || '(none)'}`);
      if (task.request.startDate && task.dataSource !== 'metabase' && !header.includes(dateColumn)) {
        throw new SourceError(`start_date was given but ${sourceName} have no date column "${dateColumn}"; the columns are: ${header.join(', ')}`);
      }
    }
    const line = JSON.stringify(row);
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
    records += 1;
    if (lines.length >= config.chunk.records || bytes >= config.chunk.maxBytes) await writeChunk();
  }
  if (lines.length) await writeChunk();
  return { records, chunks };
}
