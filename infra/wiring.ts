/**
 * Loads infra/wiring.yml, the one description of which event goes to which queue and handler, into
 * typed objects. Validation is strict (unknown keys, wrong types, out-of-range AWS settings all
 * throw with the offending path) because a typo here would silently change what is deployed.
 * The one parser: the template compiler (infra/template/) and the local runtime (local/) both
 * read the wiring through it, so a wiring that local mode rejects cannot be deployed either.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { scheduleExpressionProblem } from './catchupSchedules';
import { eventPatternFor } from './eventPatterns';
import type { EventsTrigger, S3Trigger, StateMachineTrigger } from './eventPatterns';
import { ConfigurationError } from '../shared/errors';

export { eventPatternFor };
export type { EventPattern, EventsTrigger, PatternValue, S3Trigger, StateMachineTrigger } from './eventPatterns';

export const DEFAULT_WIRING_PATH = resolve(__dirname, 'wiring.yml');

/** Capabilities a function may be granted; the template compiler (infra/template/iam.ts) maps each to IAM statements. */
export const PERMISSIONS = [
  'tasks:read',
  'tasks:write',
  // Query on the byCreated index only: tasks newest first, for GET /tasks.
  'tasks:list',
  'hashes:write',
  // Query on the dataset index: a full sync pages through a dataset's fingerprints.
  'hashes:scan',
  'events:put',
  'bucket:read',
  'bucket:write',
  // s3:PutObject under the ingest prefix only: uploads that start tasks through the S3 trigger.
  'bucket:upload',
  // sqs:SendMessage to the function's own DLQ: consumers only, the others have no queue.
  'deadLetter:send',
  'secrets:read',
  // states:StartExecution on the wired state machines (the planner, for large CSV files).
  'stateMachine:start',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** AWS guidance for SQS -> Lambda: the message stays hidden while any retry of the function runs. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** What every wired function has, whatever triggers it. */
export interface FunctionWiring {
  name: string;
  description: string;
  /** `path/to/module.exportName`, relative to the repository root. */
  handler: string;
  /** Seconds. */
  timeout: number;
  memorySize: number;
  permissions: Permission[];
}

/** `internal` is always present after loading (default false). */
export type ConsumerTrigger = Required<EventsTrigger> | S3Trigger | StateMachineTrigger;

export interface ConsumerWiring extends FunctionWiring {
  trigger: ConsumerTrigger;
  batchSize: number;
  reservedConcurrency: number;
  maximumConcurrency: number;
  maxReceiveCount: number;
  /** Seconds; derived, VISIBILITY_TIMEOUT_FACTOR x timeout. */
  visibilityTimeout: number;
}

export interface HttpRoute {
  method: HttpMethod;
  path: string;
}

export interface HttpWiring extends FunctionWiring {
  routes: HttpRoute[];
  /**
   * False only for a page that carries no data (the dashboard's shell): API Gateway serves its
   * routes without the key, and the wiring gives its function no permissions. Default true.
   */
  apiKey: boolean;
  /** Files the handler reads at run time (repository-relative globs), packaged beside its bundle. */
  files: string[];
}

/** A Lambda that a state machine invokes as a Task (no queue, no trigger of its own). */
export type StateMachineTaskWiring = FunctionWiring;

export interface StateMachineWiring {
  name: string;
  description: string;
  /** Path of the ASL definition, relative to the repository root. */
  definition: string;
  /** Task functions by name; the definition names each as `${<Name>FunctionArn}` (taskArnVariable). */
  tasks: Record<string, StateMachineTaskWiring>;
}

/** The state machine the planner starts for CSV objects over LARGE_CSV_THRESHOLD_BYTES (stateMachine:start). */
export const LARGE_CSV_STATE_MACHINE = 'largeCsv';

/**
 * `planSegment` → `PlanSegmentFunctionArn`: the DefinitionSubstitutions variable by which a state
 * machine's definition names the ARN of its task function (`"Resource": "${PlanSegmentFunctionArn}"`).
 */
export function taskArnVariable(task: string): string {
  return `${task[0].toUpperCase()}${task.slice(1)}FunctionArn`;
}

/** `PlanSegmentFunctionArn` → `planSegment`; undefined for a variable that names no task function. */
export function taskOfArnVariable(variable: string): string | undefined {
  const match = /^([A-Z][A-Za-z0-9]*)FunctionArn$/.exec(variable);
  return match ? `${match[1][0].toLowerCase()}${match[1].slice(1)}` : undefined;
}

/** A function run on a schedule (an EventBridge rule on AWS, a timer locally), such as the sweeper. */
export interface ScheduledWiring extends FunctionWiring {
  /** An EventBridge schedule expression: rate(…) or cron(…), UTC. */
  schedule: string;
}

export interface Wiring {
  eventSource: string;
  consumers: Record<string, ConsumerWiring>;
  http: Record<string, HttpWiring>;
  stateMachines: Record<string, StateMachineWiring>;
  scheduled: Record<string, ScheduledWiring>;
}

export function loadWiring(path: string = DEFAULT_WIRING_PATH): Wiring {
  return parseWiring(readFileSync(path, 'utf8'), path);
}

/** Parses and validates wiring YAML; `origin` names the source in error messages. */
export function parseWiring(text: string, origin = 'wiring.yml'): Wiring {
  let document: unknown;
  try {
    document = parse(text); // rejects duplicate keys too
  } catch (error) {
    throw new ConfigurationError(`${origin}: invalid YAML: ${(error as Error).message}`, { cause: error });
  }
  const at = new Reader(origin);
  const top = at.object(document, '', ['eventSource', 'consumers', 'http'], ['stateMachines', 'scheduled']);
  // EventBridge reserves the aws. prefix for AWS services.
  const eventSource = at.string(top.eventSource, 'eventSource', /^(?!aws\.)[A-Za-z0-9._-]{1,256}$/);
  const consumers = mapEntries(at.object(top.consumers, 'consumers'), (name, value) => consumerWiring(at, name, value));
  const http = mapEntries(at.object(top.http, 'http'), (name, value) => httpWiring(at, name, value));
  const stateMachines =
    top.stateMachines === undefined
      ? {}
      : mapEntries(at.object(top.stateMachines, 'stateMachines'), (name, value) => stateMachineWiring(at, name, value));

  const scheduled =
    top.scheduled === undefined ? {} : mapEntries(at.object(top.scheduled, 'scheduled'), (name, value) => scheduledWiring(at, name, value));

  for (const name of Object.keys(http)) {
    if (name in consumers) at.fail(`http.${name}`, 'a consumer has the same name (function names must be unique)');
  }
  for (const name of Object.keys(scheduled)) {
    if (name in consumers || name in http)
      at.fail(`scheduled.${name}`, 'another function has the same name (function names must be unique)');
  }
  for (const machine of Object.values(stateMachines)) {
    for (const name of Object.keys(machine.tasks)) {
      if (name in consumers || name in http || name in scheduled)
        at.fail(`stateMachines.${machine.name}.tasks.${name}`, 'another function has the same name (function names must be unique)');
    }
  }
  for (const consumer of Object.values(consumers)) {
    if ('stateMachine' in consumer.trigger && !(consumer.trigger.stateMachine in stateMachines)) {
      at.fail(`consumers.${consumer.name}.trigger.stateMachine`, `no state machine "${consumer.trigger.stateMachine}" in stateMachines`);
    }
  }
  const routes = new Set<string>();
  for (const entry of Object.values(http)) {
    for (const { method, path } of entry.routes) {
      const route = `${method} ${path}`;
      if (routes.has(route)) at.fail(`http.${entry.name}.routes`, `"${route}" is declared twice`);
      routes.add(route);
    }
  }
  return { eventSource, consumers, http, stateMachines, scheduled };
}

function scheduledWiring(at: Reader, name: string, value: unknown): ScheduledWiring {
  const path = `scheduled.${name}`;
  const raw = at.object(value, path, ['description', 'handler', 'schedule', 'timeout', 'memorySize', 'permissions']);
  const schedule = at.string(raw.schedule, `${path}.schedule`);
  const problem = scheduleExpressionProblem(schedule);
  if (problem) at.fail(`${path}.schedule`, `"${schedule}" is not a schedule expression: ${problem}`);
  return { ...functionWiring(at, name, raw, path, 900, false), schedule };
}

function stateMachineWiring(at: Reader, name: string, value: unknown): StateMachineWiring {
  const path = `stateMachines.${name}`;
  if (!/^[a-z][A-Za-z0-9]{0,39}$/.test(name)) at.fail(path, 'name must be camelCase letters and digits');
  const raw = at.object(value, path, ['description', 'definition', 'tasks']);
  const tasks = mapEntries(at.object(raw.tasks, `${path}.tasks`), (task, entry) => {
    const taskPath = `${path}.tasks.${task}`;
    return functionWiring(
      at,
      task,
      at.object(entry, taskPath, ['description', 'handler', 'timeout', 'memorySize', 'permissions']),
      taskPath,
      900,
      false,
    );
  });
  return {
    name,
    description: at.string(raw.description, `${path}.description`),
    definition: at.string(raw.definition, `${path}.definition`, /^[A-Za-z0-9_./-]+\.(json|ya?ml)$/),
    tasks,
  };
}

/** Splits `services/api/status.handler` into the module path and the exported name. */
export function parseHandler(handler: string): { modulePath: string; exportName: string } {
  const match = /^((?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+)\.([A-Za-z_$][\w$]*)$/.exec(handler);
  if (!match) throw new ConfigurationError(`handler "${handler}" is not "path/to/module.exportName"`);
  return { modulePath: match[1], exportName: match[2] };
}

const CONSUMER_KEYS = [
  'description',
  'handler',
  'trigger',
  'timeout',
  'memorySize',
  'batchSize',
  'reservedConcurrency',
  'maximumConcurrency',
  'maxReceiveCount',
  'permissions',
];

function consumerWiring(at: Reader, name: string, value: unknown): ConsumerWiring {
  const path = `consumers.${name}`;
  const raw = at.object(value, path, CONSUMER_KEYS);
  const common = functionWiring(at, name, raw, path, 900, true);
  const reservedConcurrency = at.integer(raw.reservedConcurrency, `${path}.reservedConcurrency`, 1, 1000);
  // ScalingConfig.MaximumConcurrency accepts 2-1000; above the reserved concurrency the pollers
  // would be throttled and good messages would burn receives towards the DLQ.
  const maximumConcurrency = at.integer(raw.maximumConcurrency, `${path}.maximumConcurrency`, 2, 1000);
  if (maximumConcurrency > reservedConcurrency) {
    at.fail(`${path}.maximumConcurrency`, `must not exceed reservedConcurrency (${reservedConcurrency})`);
  }
  return {
    ...common,
    trigger: trigger(at, raw.trigger, `${path}.trigger`),
    // Above 10 SQS needs a batching window, which the wiring does not model.
    batchSize: at.integer(raw.batchSize, `${path}.batchSize`, 1, 10),
    reservedConcurrency,
    maximumConcurrency,
    // AWS guidance: at least 5, so a throttled or crashed attempt does not dead-letter a good message.
    maxReceiveCount: at.integer(raw.maxReceiveCount, `${path}.maxReceiveCount`, 5, 1000),
    visibilityTimeout: VISIBILITY_TIMEOUT_FACTOR * common.timeout,
  };
}

function httpWiring(at: Reader, name: string, value: unknown): HttpWiring {
  const path = `http.${name}`;
  const raw = at.object(value, path, ['description', 'handler', 'routes', 'timeout', 'memorySize', 'permissions'], ['apiKey', 'files']);
  const apiKey = raw.apiKey === undefined ? true : raw.apiKey;
  if (typeof apiKey !== 'boolean') at.fail(`${path}.apiKey`, 'must be true or false');
  // Nothing of ours may be reached without the key: a function that skips it gets no permissions.
  if (!apiKey && !(Array.isArray(raw.permissions) && raw.permissions.length === 0))
    at.fail(`${path}.permissions`, 'must be [] when apiKey is false (a route without the key reaches nothing of ours)');
  const files =
    raw.files === undefined
      ? []
      : unique(at, raw.files, `${path}.files`, (entry, entryPath) => at.string(entry, entryPath, /^(?!\/)(?!.*\.\.)[A-Za-z0-9_.*/-]+$/));
  const routes = at.list(raw.routes, `${path}.routes`).map((entry, index) => {
    const route = at.string(entry, `${path}.routes[${index}]`, /^[A-Z]+ \/[A-Za-z0-9_.{}/-]*$/);
    const [method, routePath] = route.split(' ');
    if (!(HTTP_METHODS as readonly string[]).includes(method)) {
      at.fail(`${path}.routes[${index}]`, `unknown method ${method} (expected one of ${HTTP_METHODS.join(', ')})`);
    }
    return { method: method as HttpMethod, path: routePath };
  });
  // API Gateway REST integrations time out at 29 s.
  return { ...functionWiring(at, name, raw, path, 29, false, !apiKey), routes, apiKey, files };
}

function functionWiring(
  at: Reader,
  name: string,
  raw: Record<string, unknown>,
  path: string,
  maxTimeout: number,
  hasDeadLetterQueue: boolean,
  /** True for a function without the API key, whose `permissions: []` its caller has checked. */
  noPermissions = false,
): FunctionWiring {
  if (!/^[a-z][A-Za-z0-9]{0,39}$/.test(name)) at.fail(path, 'name must be camelCase letters and digits');
  const handler = at.string(raw.handler, `${path}.handler`);
  try {
    parseHandler(handler);
  } catch (error) {
    at.fail(`${path}.handler`, (error as Error).message);
  }
  return {
    name,
    description: at.string(raw.description, `${path}.description`),
    handler,
    timeout: at.integer(raw.timeout, `${path}.timeout`, 1, maxTimeout),
    memorySize: at.integer(raw.memorySize, `${path}.memorySize`, 128, 10240),
    permissions: noPermissions ? [] : permissions(at, raw.permissions, `${path}.permissions`, hasDeadLetterQueue),
  };
}

function trigger(at: Reader, value: unknown, path: string): ConsumerTrigger {
  const raw = at.object(value, path, [], ['events', 'internal', 's3', 'stateMachine']);
  if (raw.stateMachine !== undefined) {
    if (raw.events !== undefined || raw.internal !== undefined || raw.s3 !== undefined) at.fail(path, 'stateMachine goes alone');
    return { stateMachine: at.string(raw.stateMachine, `${path}.stateMachine`) };
  }
  if (raw.s3 !== undefined) {
    if (raw.events !== undefined || raw.internal !== undefined) at.fail(path, 'has both s3 and events');
    const s3 = at.object(raw.s3, `${path}.s3`, ['prefix', 'suffix']);
    return {
      s3: { prefix: at.string(s3.prefix, `${path}.s3.prefix`), suffix: at.string(s3.suffix, `${path}.s3.suffix`) },
    };
  }
  if (raw.events === undefined) at.fail(path, 'needs events, s3 or stateMachine');
  const events = unique(at, raw.events, `${path}.events`, (entry, entryPath) => at.string(entry, entryPath, /^[A-Z][A-Za-z0-9]{0,127}$/));
  const internal = raw.internal === undefined ? false : raw.internal;
  if (typeof internal !== 'boolean') at.fail(`${path}.internal`, 'must be true or false');
  return { events, internal };
}

function permissions(at: Reader, value: unknown, path: string, hasDeadLetterQueue: boolean): Permission[] {
  return unique(at, value, path, (entry, entryPath) => {
    const permission = at.string(entry, entryPath);
    if (!(PERMISSIONS as readonly string[]).includes(permission)) {
      at.fail(entryPath, `unknown permission "${permission}" (expected one of ${PERMISSIONS.join(', ')})`);
    }
    if (permission === 'deadLetter:send' && !hasDeadLetterQueue)
      at.fail(entryPath, 'deadLetter:send is for consumers only (no dead-letter queue here)');
    return permission as Permission;
  });
}

function unique<T>(at: Reader, value: unknown, path: string, read: (entry: unknown, path: string) => T): T[] {
  const items = at.list(value, path).map((entry, index) => read(entry, `${path}[${index}]`));
  if (new Set(items).size !== items.length) at.fail(path, 'has duplicates');
  return items;
}

function mapEntries<T>(raw: Record<string, unknown>, map: (name: string, value: unknown) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, map(name, value)]));
}

/** Type checks that throw ConfigurationError naming the file and the path of the bad value. */
class Reader {
  constructor(private readonly origin: string) {}

  fail(path: string, problem: string): never {
    throw new ConfigurationError(`${this.origin}: ${path || '(top level)'}: ${problem}`);
  }

  /**
   * A mapping. With `required`, keys outside `required` and `optional` are errors; without it,
   * the keys are free (a map of names).
   */
  object(value: unknown, path: string, required?: string[], optional: string[] = []): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    const raw = value as Record<string, unknown>;
    if (!required) return raw;
    const allowed = [...required, ...optional];
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) this.fail(join(path, key), `unknown key (expected one of ${allowed.join(', ')})`);
    }
    for (const key of required) {
      if (raw[key] === undefined || raw[key] === null) this.fail(join(path, key), 'is required');
    }
    return raw;
  }

  list(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(path, 'must be a non-empty list');
    return value;
  }

  string(value: unknown, path: string, pattern?: RegExp): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(path, 'must be a non-empty string');
    if (pattern && !pattern.test(value)) this.fail(path, `"${value}" does not match ${pattern}`);
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * The settings the functions derive from the wiring, as environment variables: serverless.yml
 * gives them to every function and local mode to its configuration, from this one place. The
 * planner sizes chunks by the embedder's concurrency and timeout.
 */
export function environmentFromWiring(wiring: Wiring): Record<string, string> {
  const { embedder } = wiring.consumers;
  const ingest = ingestTriggerOf(wiring);
  return {
    EVENT_SOURCE: wiring.eventSource,
    ...(embedder ? { EMBEDDER_CONCURRENCY: String(embedder.maximumConcurrency), EMBEDDER_TIMEOUT_SECONDS: String(embedder.timeout) } : {}),
    // POST /uploads writes where the S3 trigger starts tasks.
    ...(ingest ? { INGEST_PREFIX: ingest.prefix, INGEST_SUFFIX: ingest.suffix } : {}),
  };
}

/** Where uploaded CSV objects start tasks: the ingest consumer's S3 prefix. */
export function ingestPrefixOf(wiring: Wiring): string | undefined {
  return ingestTriggerOf(wiring)?.prefix;
}

/** The S3 trigger (prefix and suffix) of the consumer that starts tasks from uploads. */
export function ingestTriggerOf(wiring: Wiring): S3Trigger['s3'] | undefined {
  const ingest = Object.values(wiring.consumers).find((consumer) => 's3' in consumer.trigger);
  return ingest && 's3' in ingest.trigger ? ingest.trigger.s3 : undefined;
}
