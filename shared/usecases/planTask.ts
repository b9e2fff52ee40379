/**
 * The planner: turns a requested task into chunks and announces one ChunkPlanned per chunk, then
 * records the totals. A CSV is cut into byte ranges of its own object (read once); rows from
 * Metabase or carried inline are written as JSON Lines chunk objects, after which both paths are
 * the same. Re-running it (a redelivered TaskRequested) announces the same chunks again, which the
 * embedder and aggregator treat as duplicates.
 */
import { planCsv } from '../domain/csv';
import { fullSyncConflict } from '../domain/processRequest';
import {
  checkDateColumn,
  chunkCommon,
  csvHeaderValidator,
  csvRangeChunk,
  initialLargeCsvPlanState,
  startDateWarning,
  taskColumns,
} from '../domain/plan';
import {
  catchupKeyOf,
  fullSyncKeyOf,
  fullSyncOverlapWarning,
  isAutoStartDate,
  overlapWarning,
  resolveAutoStartDate,
} from '../domain/catchup';
import { isTerminal, type Task, type TaskRequest } from '../domain/task';
import { SourceError } from '../errors';
import type { Dependencies, ObjectHead } from '../ports';
import { chunkAnnouncer, type Announce } from './chunkAnnouncer';
import { claimRun } from './claimRun';
import { finishTask } from './finishTask';
import { finishIfSettled, type SettleTaskDeps } from './settleTask';

export type PlanTaskDeps = SettleTaskDeps & Pick<Dependencies, 'config' | 'objects' | 'plans' | 'metabase' | 'largeCsv'>;

/** Inline records travel in the event only: a task item holds at most 400 KB, and /status need not echo them. */
function withoutInlineRecords(request: TaskRequest): TaskRequest {
  return request.source.type === 'inline' ? { ...request, source: { ...request.source, records: [] as unknown as [object] } } : request;
}

export async function planTask(request: TaskRequest, deps: PlanTaskDeps): Promise<void> {
  const { config, tasks, logger } = deps;
  // Other systems may publish TaskRequested without calling the API: the task starts here then.
  const { task: existing } = await tasks.create(
    {
      taskId: request.taskId,
      dataSource: request.source.type,
      namespace: request.namespace ?? config.pinecone.namespace,
      request: withoutInlineRecords(request),
    },
    deps.now(),
  );
  if (existing.planned) return finishIfSettled(existing, deps);
  const run = await startRun(existing, request, deps);
  if (!run) return;
  const { task, request: settled } = run;
  const announcer = chunkAnnouncer((header) => chunkCommon(task, settled, config, header), deps);
  try {
    const totals = await planSource(task, settled, announcer.announce, deps);
    // Handed to the Step Functions loop, which records the totals itself.
    if (!totals) return;
    await announcer.flush();
    logger.info('task planned', { task_id: task.taskId, ...totals });
    const planned = await tasks.completePlan(task.taskId, totals, deps.now());
    await finishIfSettled(planned, deps);
  } catch (error) {
    // A source that may read whole next time is planned again from the start (the message is retried; chunks are rewritten alike).
    if (!(error instanceof SourceError) || error.retryable) throw error;
    await finishTask(task.taskId, 'FAILED', deps, error.message);
  }
}

/**
 * PENDING → RUNNING, with what must hold first: a scheduled run claims its source and a full sync
 * its dataset (or is skipped), a full sync is not cut short by a date, the run is noted as going,
 * and start_date=auto is settled. Undefined when the run does not go on; else the task and the
 * request with its date.
 */
async function startRun(
  existing: Task,
  request: TaskRequest,
  deps: PlanTaskDeps,
): Promise<{ task: Task; request: TaskRequest } | undefined> {
  const catchupKey = catchupKeyOf(request, existing.namespace);
  if (request.schedule && !isTerminal(existing.status)) {
    const schedule = request.schedule;
    const busy = await claimRun(existing, catchupKey, (going) => overlapWarning(schedule, going), deps);
    if (busy) return void (await skipRun(existing, busy, 'scheduled run skipped', deps));
  }
  const fullSyncKey = fullSyncKeyOf(request, existing.namespace);
  if (fullSyncKey && !isTerminal(existing.status)) {
    const busy = await claimRun(existing, fullSyncKey, (going) => fullSyncOverlapWarning(request, existing.namespace, going), deps);
    if (busy) return void (await skipRun(existing, busy, 'full sync not started', deps));
  }
  const started = await deps.tasks.start(request.taskId, deps.now());
  if (!started) {
    deps.logger.info('task is not runnable; nothing to plan', { task_id: request.taskId, status: existing.status });
    return undefined;
  }
  // The API refuses this pairing up front; another system's event meets it here.
  const conflict = request.sync === 'full' ? fullSyncConflict(request.source.type, request.startDate) : undefined;
  if (conflict) return void (await finishTask(started.taskId, 'FAILED', deps, conflict));
  if (!request.schedule) await deps.catchup.begin(catchupKey, started.taskId);
  const task = isAutoStartDate(started.request) ? await settleAutoStartDate(started, catchupKey, deps) : started;
  // A redelivery finds the date settled on the task by the first delivery.
  return { task, request: isAutoStartDate(request) ? withStartDate(request, task.request.startDate) : request };
}

/** A skipped run is a task that ends CANCELLED at once, its warning naming the run still going. */
async function skipRun(task: Task, warning: string, what: string, deps: PlanTaskDeps): Promise<void> {
  deps.logger.warn(what, { task_id: task.taskId, warning });
  await deps.tasks.addWarning(task.taskId, warning, deps.now());
  await finishTask(task.taskId, 'CANCELLED', deps);
}

/** Settles start_date=auto from the source's watermark, once per task (a redelivery reads what the first settled). */
async function settleAutoStartDate(task: Task, key: string, deps: PlanTaskDeps): Promise<Task> {
  const { watermark } = await deps.catchup.get(key);
  const { startDate, basis } = resolveAutoStartDate(watermark, deps.config.catchup);
  const settled = await deps.tasks.settleStartDate(task.taskId, startDate, basis, deps.now());
  deps.logger.info('start_date=auto settled', {
    task_id: task.taskId,
    startDate: settled.request.startDate ?? null,
    basis: settled.startDateBasis,
  });
  return settled;
}

function withStartDate(request: TaskRequest, startDate: string | undefined): TaskRequest {
  const settled = { ...request, startDate };
  if (!startDate) delete settled.startDate;
  return settled;
}

/**
 * Starts the state machine when the object is over LARGE_CSV_THRESHOLD_BYTES (and a machine is
 * configured); true when it did or already had. The execution is named after the task, so a
 * redelivered TaskRequested starts nothing new.
 */
async function startLargeCsvPlan(task: Task, key: string, head: ObjectHead, deps: PlanTaskDeps): Promise<boolean> {
  const { largeCsv, config, logger } = deps;
  if (!largeCsv || head.size <= config.largeCsv.thresholdBytes) return false;
  const state = initialLargeCsvPlanState(task.taskId, key, head, pinnedVersionOf(task.request));
  const { started, executionName } = await largeCsv.start(task.taskId, state);
  logger.info(started ? 'large CSV handed to the state machine' : 'large CSV already has its execution', {
    task_id: task.taskId,
    key,
    size: head.size,
    executionName,
  });
  return true;
}

/** The plan's totals, or undefined when a large CSV went to the Step Functions loop. */
function planSource(
  task: Task,
  request: TaskRequest,
  announce: Announce,
  deps: PlanTaskDeps,
): Promise<{ records: number; chunks: number } | undefined> {
  const { source } = request;
  switch (source.type) {
    case 's3_csv':
      return planCsvObject(task, source.key, request, announce, deps);
    case 'metabase': {
      const { metabase } = deps;
      if (!metabase)
        throw new SourceError('data_source metabase needs METABASE_URL and METABASE_API_KEY, which this deployment does not have');
      const rows = metabase.rows(source.questionId, { startDate: request.startDate });
      return planRows(task, rows, `metabase://question/${source.questionId}`, `Metabase question ${source.questionId}`, announce, deps);
    }
    case 'inline':
      // The task keeps no copy of inline records (see withoutInlineRecords): they come from the event.
      return planRows(
        task,
        source.records,
        `inline://${source.name ?? request.requestedBy ?? 'event'}`,
        'the inline records',
        announce,
        deps,
      );
  }
}

/** The version of its CSV a task was pinned to, if any. */
const pinnedVersionOf = (request: TaskRequest): string | undefined =>
  request.source.type === 's3_csv' ? request.source.versionId : undefined;

/**
 * The object the task plans: the version it was pinned to (startTask and uploads pin one where the
 * bucket keeps versions), else what the key holds now. A store that answers another version, or
 * none, for a pinned one keeps no versions: planning the latest instead would be another upload's.
 */
async function pinnedHead(key: string, request: TaskRequest, { objects }: Pick<PlanTaskDeps, 'objects'>): Promise<ObjectHead> {
  const versionId = pinnedVersionOf(request);
  const uri = `${versionId ? `version ${versionId} of ` : ''}s3://${objects.bucket}/${key}`;
  const head = await objects.head(key, versionId ? { versionId } : {});
  if (!head) throw new SourceError(`${uri} does not exist`);
  if (versionId && head.versionId !== versionId) {
    throw new SourceError(
      `${uri} cannot be read: the bucket answered ${head.versionId ? `version ${head.versionId}` : 'an object without versions'} instead`,
    );
  }
  return head;
}

async function planCsvObject(
  task: Task,
  key: string,
  request: TaskRequest,
  announce: Announce,
  deps: PlanTaskDeps,
): Promise<{ records: number; chunks: number } | undefined> {
  const { config, objects } = deps;
  const uri = `s3://${objects.bucket}/${key}`;
  const head = await pinnedHead(key, request, deps);
  // A large CSV is planned by the Step Functions loop, segment by segment, so no file is too big for one invocation.
  if (await startLargeCsvPlan(task, key, head, deps)) return undefined;
  const versionId = pinnedVersionOf(request);
  const version = versionId ? { versionId } : {};
  const summary = await planCsv(await objects.read(key, { etag: head.etag, ...version }), {
    maxRecords: config.chunk.records,
    maxBytes: config.chunk.maxBytes,
    validateHeader: csvHeaderValidator(uri, request, config),
    onChunk: (chunk, layout) => announce(csvRangeChunk(chunk, { bucket: objects.bucket, key, etag: head.etag, ...version }, layout)),
  });
  if (summary.malformedRecords)
    deps.logger.warn('CSV has records the parser could not read', { key, malformedRecords: summary.malformedRecords });
  await noteStartDateWarning(task, summary.header, uri, deps);
  return { records: summary.records, chunks: summary.chunks };
}

/**
 * Streams rows into JSON Lines chunk objects under tasks/<task id>/ (one chunk in memory at a
 * time) and announces each. The first row's columns decide the column checks and the date column.
 */
async function planRows(
  task: Task,
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  sourceUri: string,
  sourceName: string,
  announce: Announce,
  deps: PlanTaskDeps,
): Promise<{ records: number; chunks: number }> {
  const { config, objects } = deps;
  const { text: textColumn } = taskColumns(task.request, config);
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
      if (!header.includes(textColumn))
        throw new SourceError(`${sourceName} has no column "${textColumn}"; its columns are: ${header.join(', ') || '(none)'}`);
      checkDateColumn(header, task.request, config, sourceName);
    }
    const line = JSON.stringify(row);
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
    records += 1;
    if (lines.length >= config.chunk.records || bytes >= config.chunk.maxBytes) await writeChunk();
  }
  if (lines.length) await writeChunk();
  if (header) await noteStartDateWarning(task, header, sourceName, deps);
  return { records, chunks };
}

/** Keeps on the task, once, that start_date was not applied to a source without a date column. */
export async function noteStartDateWarning(
  task: Task,
  header: readonly string[],
  source: string,
  deps: Pick<Dependencies, 'config' | 'tasks' | 'logger' | 'now'>,
): Promise<void> {
  const warning = startDateWarning(header, task.request, deps.config, source);
  if (!warning) return;
  deps.logger.warn('start_date not applied', { task_id: task.taskId, warning });
  await deps.tasks.addWarning(task.taskId, warning, deps.now());
}
