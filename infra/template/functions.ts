/**
 * serverless.yml's `functions:`: every wired function with its name, code, size and own role;
 * consumers fed by their queue, HTTP functions behind the REST API (API key required unless the
 * wiring says `apiKey: false`, as the dashboard's data-free shell does), task
 * functions of the state machines invoked by their machine only.
 */
import { LARGE_CSV_STATE_MACHINE, type FunctionWiring, type Wiring } from '../wiring';
import { getAtt, ref } from './cloudFormation';
import { physicalName, type Context } from './context';
import { ids } from './ids';

/** What every function declares, whatever triggers it: its name, code, size, own role and, in a VPC, its subnets. */
function baseFunction(ctx: Context, name: string, fn: FunctionWiring) {
  return {
    name: physicalName(ctx, name),
    description: fn.description,
    handler: fn.handler,
    timeout: fn.timeout,
    memorySize: fn.memorySize,
    role: ids(name).role,
    ...(ctx.vpc ? { vpc: { subnetIds: ctx.vpc.subnetIds, securityGroupIds: ctx.vpc.securityGroupIds } } : {}),
  };
}

export function functions(ctx: Context, wiring: Wiring): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [name, c] of Object.entries(wiring.consumers)) {
    out[name] = {
      ...baseFunction(ctx, name, c),
      ...(ctx.reservedConcurrency === 'wiring' ? { reservedConcurrency: c.reservedConcurrency } : {}),
      environment: {
        MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
        DEAD_LETTER_QUEUE_URL: ref(ids(name).deadLetterQueue),
        // The one machine it may start (stateMachine:start): the large-CSV fan-out.
        ...(c.permissions.includes('stateMachine:start') && wiring.stateMachines[LARGE_CSV_STATE_MACHINE]
          ? { LARGE_CSV_STATE_MACHINE_ARN: ref(ids(LARGE_CSV_STATE_MACHINE).stateMachine) }
          : {}),
      },
      events: [
        {
          sqs: {
            arn: getAtt(ids(name).queue, 'Arn'),
            batchSize: c.batchSize,
            functionResponseType: 'ReportBatchItemFailures',
            maximumConcurrency: c.maximumConcurrency,
          },
        },
      ],
    };
  }
  for (const [name, fn] of Object.entries(wiring.http)) {
    out[name] = {
      ...baseFunction(ctx, name, fn),
      // serverless-esbuild copies these into the function's zip at the same relative path.
      ...(fn.files.length ? { package: { patterns: fn.files } } : {}),
      events: fn.routes.map((route) => ({
        http: { method: route.method.toLowerCase(), path: route.path.replace(/^\//, ''), private: fn.apiKey },
      })),
    };
  }
  // Scheduled functions: an EventBridge rule on the default bus invokes each.
  for (const [name, fn] of Object.entries(wiring.scheduled)) {
    out[name] = { ...baseFunction(ctx, name, fn), events: [{ schedule: { rate: [fn.schedule] } }] };
  }
  // Task functions of the state machines: invoked by their machine only, no event source.
  for (const machine of Object.values(wiring.stateMachines)) {
    for (const [name, fn] of Object.entries(machine.tasks)) {
      out[name] = baseFunction(ctx, name, fn);
    }
  }
  return out;
}
