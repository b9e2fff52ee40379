/**
 * `ingest <file.csv | s3://bucket/key>`: a local file goes under the ingest prefix, where the
 * bucket's upload trigger starts its task as for any upload (or, with /process options, under
 * uploads/ and through POST /process); an object already in the bucket goes through POST /process.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ingestTriggerOf, loadWiring } from '../../infra/wiring';
import type { TaskDetailView } from '../../shared/domain/taskDetail';
import { ApiError } from '../apiClient';
import { PROGRAM, pollIntervalMs, stringOption, UsageError, type Options } from '../commandLine';
import type { Command, CommandContext } from '../context';
import { EXIT } from '../exitCodes';
import { formatCount, formatTime } from '../format';
import { s3Settings } from '../settings';
import { uploadFile } from '../upload';
import { followToExitCode } from '../watch';

/** Where a file goes when POST /process starts its task: outside the ingest prefix, so that the upload alone starts nothing. */
const REQUEST_PREFIX = 'uploads/';
/** How long the upload trigger may take to create the task (S3 → SQS → Lambda). */
const TRIGGER_TIMEOUT_MS = 60_000;
/** A task found for an upload but created this much before it ran for the same content earlier. */
const EARLIER_RUN_MS = 30_000;

export const ingest: Command = async (context) => {
  const [source] = context.positionals;
  const parameters = processParameters(context.options);
  const taskId = source.startsWith('s3://')
    ? await requestTask(context, source, parameters)
    : await ingestFile(context, await existingFile(source), parameters);
  if (context.options.watch) {
    context.err.write(`task ${taskId}\n`);
    return followToExitCode(context, taskId);
  }
  context.out.write(`${taskId}\n`);
  context.err.write(`follow it: ${PROGRAM} status ${taskId} --watch\n`);
  return EXIT.ok;
};

/** The /process parameters the options name. */
function processParameters(options: Options): Record<string, string | boolean> {
  const parameters: Record<string, string | boolean> = {};
  for (const [option, parameter] of [
    ['namespace', 'namespace'],
    ['dataset', 'dataset'],
    ['start-date', 'start_date'],
  ]) {
    const value = stringOption(options, option);
    if (value !== undefined) parameters[parameter] = value;
  }
  if (options['dry-run']) parameters.dry_run = true;
  if (options.force) parameters.force = true;
  return parameters;
}

async function existingFile(file: string): Promise<string> {
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) throw new UsageError(`no such file: ${file}`, 'ingest');
  return file;
}

async function requestTask(context: CommandContext, s3Key: string, parameters: Record<string, string | boolean>): Promise<string> {
  const { body } = await context.api.post<{ task_id: string }>('/process', {
    body: { data_source: 's3_csv', s3_key: s3Key, ...parameters },
    expect: [200, 202],
  });
  return body.task_id;
}

async function ingestFile(context: CommandContext, file: string, parameters: Record<string, string | boolean>): Promise<string> {
  const trigger = ingestTriggerOf(loadWiring());
  const triggers = (key: string) => trigger !== undefined && key.startsWith(trigger.prefix) && key.endsWith(trigger.suffix);
  const byRequest = Object.keys(parameters).length > 0;
  const key = stringOption(context.options, 'key') ?? `${byRequest ? REQUEST_PREFIX : (trigger?.prefix ?? '')}${path.basename(file)}`;
  if (byRequest && triggers(key))
    throw new UsageError(`${key} is where uploads start tasks: with /process options, give a --key outside ${trigger?.prefix}`, 'ingest');
  if (!byRequest && !triggers(key))
    throw new UsageError(
      `uploads start a task under ${trigger?.prefix}…${trigger?.suffix} only, not at ${key}: rename the file or give --key`,
      'ingest',
    );
  const s3 = s3Settings(context.options, context.env, context.apiSettings);
  // Reach the API (and check the key) before uploading anything.
  await context.api.get('/tasks', { query: { limit: '1' } });
  const uploadedAt = Date.now();
  const upload = await uploadFile(file, key, s3);
  context.err.write(`uploaded ${file} (${formatCount(upload.bytes)} bytes) to s3://${upload.bucket}/${upload.key}\n`);
  if (byRequest) return requestTask(context, upload.key, parameters);
  const task = await taskOfUpload(context, upload.taskId, `s3://${upload.bucket}/${upload.key}`);
  if (Date.parse(task.created_at) < uploadedAt - EARLIER_RUN_MS)
    context.err.write(
      `this content was ingested under this key before, by task ${task.task_id} (${task.status}, ${formatTime(task.created_at)}): it does not run twice; --force runs it again\n`,
    );
  return task.task_id;
}

/** The task the upload trigger starts, once it exists. */
async function taskOfUpload(context: CommandContext, taskId: string, object: string): Promise<TaskDetailView> {
  const deadline = Date.now() + TRIGGER_TIMEOUT_MS;
  const intervalMs = pollIntervalMs(context.options);
  const sleep = context.sleep ?? delay;
  for (;;) {
    const { status, body } = await context.api.get<TaskDetailView>(`/tasks/${encodeURIComponent(taskId)}`, { expect: [200, 404] });
    if (status === 200) return body;
    if (Date.now() > deadline)
      throw new ApiError(
        404,
        `${object} was uploaded, but its task ${taskId} did not appear within ${TRIGGER_TIMEOUT_MS / 1000} s: is the stage's upload trigger on? (${PROGRAM} tasks lists what started)`,
        body,
      );
    await sleep(intervalMs);
  }
}
