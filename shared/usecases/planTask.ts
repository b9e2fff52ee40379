/**
 * The planner: reads a requested CSV once and announces one ChunkPlanned per range of about
 * CHUNK_SIZE records, then records the totals. Re-running it (a redelivered TaskRequested)
 * announces the same chunks again, which the embedder and aggregator treat as duplicates.
 */
import type { Dependencies } from '../dependencies';
import { planCsv } from '../domain/csv';
import { SourceError } from '../errors';
import type { ChunkPlanned, TaskRequested } from '../events/types';
import type { BusEvent } from '../ports';
import { finishIfSettled, finishTask } from './announce';

const EVENTS_PER_PUBLISH = 10;

export async function planTask(request: TaskRequested, deps: Dependencies): Promise<void> {
  const { config, tasks, objects, logger } = deps;
  // Other systems may publish TaskRequested without calling the API: the task starts here then.
  const { task: existing } = await tasks.create(
    { taskId: request.taskId, dataSource: request.source.type, namespace: request.namespace ?? config.pinecone.namespace, request },
    deps.now(),
  );
  if (existing.planned) return finishIfSettled(existing, deps);
  const task = await tasks.start(request.taskId, deps.now());
  if (!task) {
    logger.info('task is not runnable; nothing to plan', { taskId: request.taskId, status: existing.status });
    return;
  }
  const columns = {
    text: request.columns?.text ?? config.columns.text,
    id: request.columns?.id ?? config.columns.id,
    date: request.columns?.date ?? config.columns.date,
  };
  const { key } = request.source;
  const uri = `s3://${objects.bucket}/${key}`;
  const head = await objects.head(key);
  if (!head) return finishTask(task.taskId, 'FAILED', deps, `${uri} does not exist`);

  let pending: BusEvent<ChunkPlanned>[] = [];
  const flush = async () => {
    if (pending.length) await deps.events.publish(pending);
    pending = [];
  };
  try {
    const summary = await planCsv(await objects.read(key, { etag: head.etag }), {
      maxRecords: config.chunk.records,
      maxBytes: config.chunk.maxBytes,
      validateHeader: (names) => {
        if (!names.includes(columns.text)) throw new SourceError(`${uri} has no text column "${columns.text}"; its columns are: ${names.join(', ')}`);
        if (request.startDate && !names.includes(columns.date)) {
          throw new SourceError(`start_date was given but ${uri} has no date column "${columns.date}"; its columns are: ${names.join(', ')}`);
        }
      },
      onChunk: async (chunk, { header, delimiter }) => {
        pending.push({
          detailType: 'ChunkPlanned',
          source: config.eventSource,
          detail: {
            schemaVersion: 1,
            taskId: task.taskId,
            chunkIndex: chunk.chunkIndex,
            recordCount: chunk.recordCount,
            firstRecordNumber: chunk.firstRecordNumber,
            namespace: task.namespace,
            dataSource: 's3_csv',
            ...(request.startDate ? { startDate: request.startDate } : {}),
            columns,
            source: { type: 'csv_range', bucket: objects.bucket, key, etag: head.etag, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd, header: header as [string, ...string[]], delimiter },
          },
        });
        if (pending.length >= EVENTS_PER_PUBLISH) await flush();
      },
    });
    await flush();
    logger.info('task planned', { taskId: task.taskId, records: summary.records, chunks: summary.chunks, bytes: summary.bytes, malformedRecords: summary.malformedRecords });
    const planned = await tasks.completePlan(task.taskId, { records: summary.records, chunks: summary.chunks }, deps.now());
    await finishIfSettled(planned, deps);
  } catch (error) {
    if (error instanceof SourceError) return finishTask(task.taskId, 'FAILED', deps, error.message);
    throw error;
  }
}
