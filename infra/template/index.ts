/**
 * The template compiler: infra/wiring.yml (read by infra/wiring.ts, the one parser, which local
 * mode uses too) compiled into what serverless.yml includes through infra/serverless-wiring.js:
 *
 *   functions: ${file(./infra/serverless-wiring.js):functions}           functions.ts
 *   resources:
 *     - ${file(./infra/serverless-wiring.js):resources}                  everything below
 *   TasksTable keys: ...:tasksTable.AttributeDefinitions / .KeySchema    ../tasksTable.ts
 *   provider.environment: ...:environment.EMBEDDER_CONCURRENCY etc.      ../wiring.ts
 *   provider.apiGateway.usagePlan: ...:usagePlan                         usagePlan.ts
 *   DataBucket NotificationConfiguration / DependsOn:
 *     ...:bucketNotification / ...:bucketDependsOn                       queues.ts
 *
 * Serverless v3 calls an exported function with `{ options, resolveVariable }` and uses what it
 * resolves to; the service, stage, bucket name, secret name and the stage settings of the
 * deployment's shape come from serverless.yml (context.ts); vpc.ts adds a VPC's endpoints.
 */
import { environmentFromWiring, loadWiring } from '../wiring';
import { deadLetterAlarm, functionAlarms } from './alarms';
import type { Resources } from './cloudFormation';
import { cloudWatchDashboard } from './cloudWatchDashboard';
import { readContext, type ResolveVariable } from './context';
import { functions as wiredFunctions } from './functions';
import { functionRole } from './iam';
import { bucketNotificationConfiguration, bucketNotificationDependsOn, consumerQueues, consumerRouting } from './queues';
import { scheduleResources, stageSchedules } from './schedules';
import { schemaRegistry } from './schemaRegistry';
import { stateMachineResources } from './stateMachines';
import { readUsagePlan } from './usagePlan';
import { vpcEndpoints } from './vpc';

export { TASKS_TABLE_KEYS as tasksTable } from '../tasksTable';

/** serverless.yml's wiring-derived `provider.environment` entries (…:environment.EMBEDDER_CONCURRENCY and so on). */
export const environment = environmentFromWiring(loadWiring());

interface Input {
  resolveVariable: ResolveVariable;
}

/** serverless.yml's `functions:`. */
export async function functions({ resolveVariable }: Input) {
  return wiredFunctions(await readContext(resolveVariable), loadWiring());
}

/** Every resource the wiring implies, in this order. */
export async function resources({ resolveVariable }: Input): Promise<{ Resources: Resources }> {
  const ctx = await readContext(resolveVariable);
  const wiring = loadWiring();
  const Resources: Resources = {};
  // Consumers: queue and DLQ, own role, alarms, and what may send to the queue.
  for (const [name, consumer] of Object.entries(wiring.consumers)) {
    Object.assign(
      Resources,
      consumerQueues(ctx, name, consumer),
      functionRole(ctx, wiring, name, consumer.permissions, true),
      functionAlarms(ctx, name, consumer.timeout),
      deadLetterAlarm(ctx, name),
      consumerRouting(ctx, wiring, name, consumer),
    );
  }
  // HTTP functions (serverless.yml's provider.apiGateway builds the REST API): own role, alarms.
  for (const [name, fn] of Object.entries(wiring.http)) {
    Object.assign(Resources, functionRole(ctx, wiring, name, fn.permissions, false), functionAlarms(ctx, name, fn.timeout));
  }
  // Scheduled functions: own role, alarms.
  for (const [name, fn] of Object.entries(wiring.scheduled)) {
    Object.assign(Resources, functionRole(ctx, wiring, name, fn.permissions, false), functionAlarms(ctx, name, fn.timeout));
  }
  // State machines: each task function's own role and alarms, then the machine, its role and alarms.
  for (const [machineName, machine] of Object.entries(wiring.stateMachines)) {
    for (const [name, fn] of Object.entries(machine.tasks)) {
      Object.assign(Resources, functionRole(ctx, wiring, name, fn.permissions, false), functionAlarms(ctx, name, fn.timeout));
    }
    Object.assign(Resources, stateMachineResources(ctx, machineName, machine));
  }
  // The event contracts.
  Object.assign(Resources, schemaRegistry(ctx));
  // What an operator looks at: our metrics, the queues, the DLQs and the functions' errors.
  Object.assign(Resources, cloudWatchDashboard(ctx, wiring));
  // Scheduled catch-ups, when the stage has any.
  Object.assign(Resources, scheduleResources(ctx, await stageSchedules(ctx, resolveVariable), wiring.eventSource));
  // In a VPC: the endpoints of the AWS services the roles above let the functions call.
  Object.assign(Resources, vpcEndpoints(ctx, Resources));
  return { Resources };
}

/** serverless.yml's `provider.apiGateway.usagePlan`: the stage's throttle and quota. */
export async function usagePlan({ resolveVariable }: Input) {
  return readUsagePlan(resolveVariable);
}

/** The data bucket's NotificationConfiguration: S3-triggered consumers' queues. */
export async function bucketNotification() {
  return bucketNotificationConfiguration(loadWiring());
}

/** The data bucket's DependsOn: those queues' policies. */
export async function bucketDependsOn() {
  return bucketNotificationDependsOn(loadWiring());
}
