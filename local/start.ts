/**
 * `npm start`: runs the whole product on this machine with embedded defaults and prints where
 * everything is, then a progress line per task as chunks finish. What a crash left queued or in
 * flight is carried on; SIGINT/SIGTERM stop gracefully (README › Local mode).
 */
import path from 'node:path';
import type { TaskCompleted } from '../shared/events/types';
import { loadCatchupSchedules } from '../infra/catchupSchedules';
import { ingestPrefixOf } from '../infra/wiring';
import { buildStatusView } from '../shared/domain/task';
import { watchInbox } from './inbox';
import { startLocalSchedules } from './schedules';
import { startLocalRuntime } from './runtime';
import { tryExamples } from './tryExamples';
import { recoveredLines, stopOnSignals } from './shutdown';

const DATA_DIR = path.resolve(__dirname, '..', '.local');
/** Local mode's stage: its schedules file is config/schedules.local.yml. */
const LOCAL_STAGE = 'local';

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // On a terminal, one line for people per log entry; piped, one JSON line each stays for tools.
  if (process.stdout.isTTY) process.env.LOG_FORMAT ??= 'pretty';
  // Before anything starts: a schedule that cannot run stops `npm start` with the reason, as it stops a deploy.
  const catchupSchedules = loadCatchupSchedules({ env: process.env, stage: LOCAL_STAGE });
  const runtime = await startLocalRuntime({
    dataDir: DATA_DIR,
    persist: true,
    port: Number(process.env.PORT ?? 3000),
    s3Port: Number(process.env.S3_PORT ?? 4569),
    dynamoPort: Number(process.env.DYNAMODB_PORT ?? 4567),
    eventsPort: Number(process.env.EVENTS_PORT ?? 4010),
  });
  const { config, deps } = runtime;
  const ingestPrefix = ingestPrefixOf(runtime.wiring) ?? '';
  const inboxDir = path.join(DATA_DIR, 'inbox');
  const inbox = watchInbox({
    dir: inboxDir,
    s3: runtime.emulators.s3,
    bucket: config.bucketName,
    prefix: ingestPrefix,
    onUpload: (file, key) => console.log(`inbox: ${path.basename(file)} uploaded as s3://${config.bucketName}/${key}`),
    onError: (file, error) => console.error(`inbox: could not upload ${file}: ${error.message}`),
  });

  const key = config.apiKey ?? '';
  console.log(`vectordb-catchup is running locally

  REST API      ${runtime.apiUrl}   (x-api-key: ${key === 'local-dev-key' ? key : '<API_KEY>'})
  Dashboard     ${runtime.apiUrl}/   (open it in a browser; it asks for the API key)
  S3 (s3rver)   ${runtime.s3Endpoint}   bucket ${config.bucketName}
  DynamoDB      ${runtime.dynamoEndpoint}   table ${config.tableName} (dynalite)
  EventBridge   ${runtime.eventsEndpoint}   PutEvents (npm run publish-event -- event.json), SQS StartMessageMoveTask (DLQ redrive)
  Embeddings    ${deps.embedder.description}
  Vectors       ${deps.vectors.description}, namespace ${config.pinecone.namespace}
  Inbox         ${inboxDir}   (copy a .csv here, or upload it under ${ingestPrefix})
  Data          ${DATA_DIR}

${tryExamples({ apiUrl: runtime.apiUrl, s3Endpoint: runtime.s3Endpoint, apiKey: key, inboxDir, cwd: process.cwd() })}`);
  recoveredLines(runtime.recovered).forEach((line) => console.log(line));
  const schedules = startLocalSchedules(catchupSchedules, deps.events, deps.logger);
  for (const { name, expression, at } of schedules.next())
    console.log(`schedule ${name}: ${expression}, next catch-up ${at?.toISOString() ?? 'never'}`);

  const lastPrinted = new Map<string, number>();
  runtime.onEvent((event) => {
    const detail = event.detail as { taskId?: string };
    if (!detail.taskId) return;
    if (event['detail-type'] === 'TaskRequested') console.log(`task ${detail.taskId}: requested`);
    if (event['detail-type'] === 'TaskCompleted') {
      const done = event.detail as TaskCompleted;
      console.log(
        `task ${done.taskId}: ${done.status} — ${done.records.processed} processed, ${done.records.skipped} skipped, ${done.records.failed} failed of ${done.records.total}${done.errors?.length ? `; first error: ${done.errors[0]}` : ''}`,
      );
    }
    if (event['detail-type'] === 'ChunkEmbedded' && Date.now() - (lastPrinted.get(detail.taskId) ?? 0) > 1000) {
      lastPrinted.set(detail.taskId, Date.now());
      void deps.tasks.get(detail.taskId).then((task) => {
        if (!task) return;
        const view = buildStatusView(task, config.openai.pricePerMillionTokens);
        const total = view.records.total ?? '?';
        const done = view.records.processed + view.records.skipped + view.records.failed;
        console.log(
          `task ${task.taskId}: ${view.progress === null ? '' : `${Math.round(view.progress * 100)}% `}${done}/${total} records, ${view.chunks.completed + view.chunks.failed}/${view.chunks.total ?? '?'} chunks`,
        );
      });
    }
  });

  stopOnSignals(runtime, {
    beforeStop: () => {
      schedules.stop();
      inbox.close();
    },
  });
}

main().catch((error) => {
  console.error(`could not start: ${(error as Error).message}`);
  process.exit(1);
});
