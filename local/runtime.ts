/**
 * Local mode: the whole product in one process. The same handler modules as on AWS, wired by
 * the same infra/wiring.yml: EventBridge rules and SQS queues emulated in process, DynamoDB and
 * S3 emulated over HTTP, the REST API on a local port, and CSV uploads under the ingest prefix
 * (or files copied into the inbox folder) starting tasks.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { PutEventsRequest } from '@aws-sdk/client-eventbridge';
import type { StartMessageMoveTaskRequest } from '@aws-sdk/client-sqs';
import { eventNames } from '../events-schema';
import { loadConfig, type Config } from '../shared/config';
import type { ConsumerContextProvider, Dependencies, DependencyProvider, Embedder, Logger, VectorStore } from '../shared/ports';
import { startLocalApi, type ApiHandler, type LocalApi } from './api';
import { localDependencies } from './dependencies';
import { openDurableState, type DurableState } from './durableState';
import { startEmulators, type Emulators, type S3Notification } from './emulators';
import { startAwsApi } from './awsApi';
import { LocalEventBus, type EventEnvelope } from './eventBus';
import { LocalDeadLetterSink, LocalQueue, waitForIdle, type QueueStopReport, type SqsHandler } from './sqs';
import { startTimers } from './schedules';
import { LocalStateMachine, type LocalTaskHandler } from './stepFunctions';
import type { ScheduledHandler } from '../shared/edges/scheduled';
import {
  environmentFromWiring,
  eventPatternFor,
  LARGE_CSV_STATE_MACHINE,
  loadWiring,
  parseHandler,
  type ConsumerWiring,
  type Wiring,
} from '../infra/wiring';

const REPO_ROOT = path.resolve(__dirname, '..');

export interface LocalRuntimeOptions {
  /** Environment to read configuration from (defaults: process.env plus local defaults). */
  env?: Record<string, string | undefined>;
  /** Where DynamoDB, S3 and the vector store persist. */
  dataDir?: string;
  /**
   * Persist on disk (npm start) rather than in memory (tests): DynamoDB, and the queues' messages
   * and running executions (runtime.sqlite), so that a restart carries on where a crash stopped.
   */
  persist?: boolean;
  port?: number;
  s3Port?: number;
  dynamoPort?: number;
  /** PutEvents over HTTP for other processes (npm run publish-event). */
  eventsPort?: number;
  /** Replace the embedder or vector store chosen from the configuration (tests, benchmarks). */
  embedder?: Embedder;
  vectors?: VectorStore;
  /** Local stand-in for the visibility timeout before a failed message is retried. */
  retryDelayMs?: (receiveCount: number) => number;
  wiring?: Wiring;
  /**
   * Emulators started elsewhere, with the configured table and bucket; the benchmark runs them in
   * a child process so that its memory figures are the pipeline's alone. The runtime takes them
   * over: stop() closes them. dataDir, persist, s3Port and dynamoPort then play no part in them.
   */
  emulators?: Emulators;
}

export interface LocalRuntime {
  apiUrl: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  eventsEndpoint: string;
  config: Config;
  /** The wiring the runtime emulates (the deployed one unless a test gave another). */
  wiring: Wiring;
  deps: Dependencies;
  bus: LocalEventBus;
  emulators: Emulators;
  queues: Map<string, { queue: LocalQueue; deadLetters: LocalQueue; wiring: ConsumerWiring }>;
  /** The wired state machines (the large-CSV fan-out), run by aws-local-stepfunctions. */
  stateMachines: Map<string, LocalStateMachine>;
  /** The wired scheduled functions by name (the sweeper), which also run on their schedules' timers. */
  scheduled: Map<string, ScheduledHandler>;
  /** Resolves when no message is waiting, running or due for a retry anywhere. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** What this start took over from the last process (persist only): messages it left in flight, executions it left running. */
  recovered: { inFlight: { queue: string; messages: number }[]; executions: string[] };
  /** Listens to every event on the bus (for progress displays and tests). */
  onEvent(listener: (event: EventEnvelope) => void): void;
  /**
   * Stops taking requests and receiving messages, waits for running handlers (at most graceMs;
   * by default as long as they take), hands back what is still in flight and suspends running
   * executions: with persist, the next start delivers and resumes them.
   */
  stop(options?: { graceMs?: number }): Promise<RuntimeStopReport>;
}

export interface RuntimeStopReport {
  /** Queues that had messages in flight when the stop began. */
  queues: ({ queue: string } & QueueStopReport)[];
  /** Executions stopped while running (resumed by the next start when persisted). */
  suspendedExecutions: string[];
}

/** Local defaults: the bucket and table names the README documents, and the well-known local API key. */
export function localEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ...env,
    API_KEY: env.API_KEY ?? 'local-dev-key',
    S3_BUCKET_NAME: env.S3_BUCKET_NAME ?? 'vectordb-catchup-local',
    DYNAMODB_TABLE_NAME: env.DYNAMODB_TABLE_NAME ?? 'vectordb-tasks-local',
  };
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const wiring = options.wiring ?? loadWiring();
  // No CloudWatch reads the metrics here: their EMF lines would only crowd the console (README › Logs and metrics).
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // As serverless.yml does; the environment may still override them, as a --param would.
  const config = loadConfig({ ...environmentFromWiring(wiring), ...localEnvironment(options.env ?? process.env) });
  const dataDir = options.dataDir ?? path.join(REPO_ROOT, '.local');
  const emulators =
    options.emulators ??
    (await startEmulators({
      dataDir,
      persist: options.persist ?? false,
      region: config.region,
      tableName: config.tableName,
      bucketName: config.bucketName,
      dynamoPort: options.dynamoPort ?? 0,
      s3Port: options.s3Port ?? 0,
    }));
  const durable: DurableState | undefined = options.persist ? openDurableState(dataDir) : undefined;
  const bus = new LocalEventBus({ region: config.region, atomically: durable?.atomically });
  const deps: Dependencies = {
    ...localDependencies(config, emulators, bus, dataDir),
    ...(options.embedder ? { embedder: options.embedder } : {}),
    ...(options.vectors ? { vectors: options.vectors } : {}),
  };
  const provide: DependencyProvider = async () => deps;

  // Step Functions: the deployed definition, its Task states mapped to the same handler modules.
  const stateMachines = new Map<string, LocalStateMachine>();
  for (const machine of Object.values(wiring.stateMachines)) {
    const handlers = Object.fromEntries(
      Object.values(machine.tasks).map((task) => [task.name, loadHandler<LocalTaskHandler>(task.handler, provide)]),
    );
    stateMachines.set(
      machine.name,
      new LocalStateMachine({
        wiring: machine,
        repoRoot: REPO_ROOT,
        handlers,
        bus,
        logger: deps.logger,
        journal: durable?.executionJournal(machine.name),
      }),
    );
  }
  // The planner starts the large-CSV machine (the one wired machine) as it would on AWS.
  const largeCsv = stateMachines.get(LARGE_CSV_STATE_MACHINE);
  if (largeCsv) deps.largeCsv = largeCsv;

  const queues: LocalRuntime['queues'] = new Map();
  for (const consumer of Object.values(wiring.consumers)) {
    const messageStore = (name: string) => durable && ((onVisible: () => void) => durable.messageStore(name, onVisible));
    const deadLetters = new LocalQueue({ name: `${consumer.name}-dlq`, messageStore: messageStore(`${consumer.name}-dlq`) });
    const queue = new LocalQueue({
      name: consumer.name,
      deadLetter: { queue: deadLetters, maxReceiveCount: consumer.maxReceiveCount },
      retryDelayMs: options.retryDelayMs,
      messageStore: messageStore(consumer.name),
    });
    const consumerContext: ConsumerContextProvider = async () => ({
      deps,
      maxReceiveCount: consumer.maxReceiveCount,
      deadLetters: new LocalDeadLetterSink(deadLetters),
    });
    const handler = loadHandler<SqsHandler>(consumer.handler, consumerContext);
    queue.consume(handler, {
      functionName: consumer.name,
      batchSize: consumer.batchSize,
      maximumConcurrency: consumer.maximumConcurrency,
      timeout: consumer.timeout,
      memorySize: consumer.memorySize,
    });
    const pattern = eventPatternFor(consumer, wiring.eventSource);
    if (pattern) {
      bus.addRule(`${consumer.name}-rule`, pattern, queue);
    } else if ('s3' in consumer.trigger) {
      const { prefix, suffix } = consumer.trigger.s3;
      emulators.onObjectCreated((notification: S3Notification) => {
        const records = notification.Records.filter(
          ({ s3 }) =>
            s3.bucket.name === config.bucketName &&
            decodeKey(s3.object.key).startsWith(prefix) &&
            decodeKey(s3.object.key).endsWith(suffix),
        );
        if (records.length) queue.send(JSON.stringify({ Records: records }));
      });
    }
    queues.set(consumer.name, { queue, deadLetters, wiring: consumer });
  }

  const listeners: ((event: EventEnvelope) => void)[] = [];
  bus.addRule(
    'observer',
    { 'detail-type': [...eventNames] },
    { send: (body: string) => listeners.forEach((listener) => listener(JSON.parse(body))) },
  );
  // Every rule is in place before anything recovered runs: the pollers start on the next
  // microtask, the executions only publish after their first await.
  const recovered = {
    inFlight: durable?.recoveredInFlight() ?? [],
    executions: [...stateMachines.values()].flatMap((machine) => machine.resume()),
  };

  const api: LocalApi = await startLocalApi(
    Object.values(wiring.http).map((route) => ({ wiring: route, handler: loadHandler<ApiHandler>(route.handler, provide) })),
    options.port ?? 0,
    config.region,
  );

  const eventsApi = await startAwsApi(
    {
      'AWSEvents.PutEvents': (request) => bus.putEvents(request as PutEventsRequest),
      'AmazonSQS.StartMessageMoveTask': (request) => startMessageMoveTask(queues, request as StartMessageMoveTaskRequest, deps.logger),
    },
    options.eventsPort ?? 0,
  );

  // Scheduled functions (the sweeper): the same handler modules, on a timer instead of a rule.
  const scheduled = new Map(
    Object.values(wiring.scheduled).map((fn) => [fn.name, loadHandler<ScheduledHandler>(fn.handler, provide)] as const),
  );
  const timers = startTimers(
    Object.values(wiring.scheduled).map((fn) => ({
      name: fn.name,
      expression: fn.schedule,
      run: () => (scheduled.get(fn.name) as ScheduledHandler)(),
    })),
    deps.logger,
  );

  const allQueues = () => [...queues.values()].map(({ queue }) => queue);
  const machinesRunning = () => [...stateMachines.values()].reduce((sum, machine) => sum + machine.running(), 0);
  return {
    apiUrl: api.url,
    s3Endpoint: emulators.s3Endpoint,
    dynamoEndpoint: emulators.dynamoEndpoint,
    eventsEndpoint: eventsApi.url,
    config,
    wiring,
    deps,
    bus,
    emulators,
    queues,
    stateMachines,
    scheduled,
    // Executions put messages on queues and queues start executions: idle means neither has work.
    async waitForIdle(timeoutMs) {
      do {
        await Promise.all([...stateMachines.values()].map((machine) => machine.idle()));
        await waitForIdle(allQueues(), { timeoutMs });
      } while (machinesRunning() > 0);
    },
    recovered,
    onEvent: (listener) => listeners.push(listener),
    async stop({ graceMs } = {}) {
      timers.stop();
      await api.close();
      await eventsApi.close();
      const suspendedExecutions = [...stateMachines.values()].flatMap((machine) => machine.suspend());
      await Promise.all([...stateMachines.values()].map((machine) => machine.idle()));
      const everyQueue = [...queues.values()].flatMap(({ queue, deadLetters }) => [queue, deadLetters]);
      const reports = await Promise.all(everyQueue.map(async (queue) => ({ queue: queue.name, ...(await queue.stop({ graceMs })) })));
      durable?.close();
      await emulators.close();
      return { queues: reports.filter((report) => report.inFlight > 0), suspendedExecutions };
    },
  };
}

/**
 * SQS StartMessageMoveTask on a consumer's dead-letter queue: its messages go back to the queue
 * they came from (or DestinationArn), at once rather than at a rate, as one move.
 */
function startMessageMoveTask(
  queues: LocalRuntime['queues'],
  request: StartMessageMoveTaskRequest,
  logger: Pick<Logger, 'info'>,
): { TaskHandle: string } {
  const entries = [...queues.values()];
  const source = entries.find(({ deadLetters }) => deadLetters.arn === request.SourceArn);
  if (!source) throw awsError('ResourceNotFoundException', `${request.SourceArn} is not a dead-letter queue of this runtime`);
  const destination = request.DestinationArn ? entries.find(({ queue }) => queue.arn === request.DestinationArn)?.queue : source.queue;
  if (!destination) throw awsError('ResourceNotFoundException', `${request.DestinationArn} is not a queue of this runtime`);
  const moved = source.deadLetters.moveMessagesTo(destination);
  logger.info('dead-letter queue redriven', { source: source.deadLetters.name, destination: destination.name, moved });
  return { TaskHandle: `local-${randomUUID()}` };
}

function awsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: code });
}

/** S3 notification keys are URL-encoded with '+' for spaces. */
function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** Loads `services/x/y.handler` and builds it with local dependencies through its createHandler. */
function loadHandler<T>(handler: string, provide: unknown): T {
  const { modulePath } = parseHandler(handler);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(path.join(REPO_ROOT, modulePath)) as { createHandler?: (provide: unknown) => T };
  if (typeof module.createHandler !== 'function') throw new Error(`${modulePath} does not export createHandler(provider)`);
  return module.createHandler(provide);
}
