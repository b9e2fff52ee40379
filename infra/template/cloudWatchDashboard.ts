/**
 * The CloudWatch dashboard of a stage: the service's own metrics (shared/metrics.ts, namespace
 * VectordbCatchup, summed over its `service` and `function` dimensions by SEARCH, so that no
 * function has to be listed), each consumer's queue depth, oldest message and dead-letter depth,
 * and every function's errors. The body is one Fn::Sub string: queue names and the region are
 * filled in at deploy time.
 */
import { METRICS_NAMESPACE, type MetricName } from '../../shared/metrics';
import type { Wiring } from '../wiring';
import type { Resources } from './cloudFormation';
import { physicalName, type Context } from './context';
import { ids } from './ids';

export const DASHBOARD_ID = 'OperationsDashboard';

const PERIOD_SECONDS = 300;
const WIDTH = 12;
const HEIGHT = 6;

type MetricLine = unknown[];

/** One metric of ours as a SEARCH over its dimensions (one line per function that published it). */
function ours(name: MetricName, statistic: 'Sum' | 'Average' | 'p90', id: string): MetricLine {
  const search = `SEARCH('{${METRICS_NAMESPACE},service,function} MetricName="${name}"', '${statistic}', ${PERIOD_SECONDS})`;
  return [{ expression: search, id, label: `${name} (${statistic})` }];
}

function widget(title: string, metrics: MetricLine[], stat = 'Sum') {
  return {
    type: 'metric',
    width: WIDTH,
    height: HEIGHT,
    properties: { title, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: PERIOD_SECONDS, stat, metrics },
  };
}

export function cloudWatchDashboard(ctx: Context, wiring: Wiring): Resources {
  const consumers = Object.keys(wiring.consumers);
  const queue = (metric: string, queueId: string, label: string): MetricLine => [
    'AWS/SQS',
    metric,
    'QueueName',
    `\${${queueId}.QueueName}`,
    { label },
  ];
  const functions = [
    ...consumers,
    ...Object.keys(wiring.http),
    ...Object.keys(wiring.scheduled),
    ...Object.values(wiring.stateMachines).flatMap((machine) => Object.keys(machine.tasks)),
  ];
  const widgets = [
    widget('Records', [
      ours('RecordsProcessed', 'Sum', 'processed'),
      ours('RecordsSkipped', 'Sum', 'skipped'),
      ours('RecordsFailed', 'Sum', 'failed'),
    ]),
    widget('Embedding tokens and provider 429s', [ours('EmbeddingTokens', 'Sum', 'tokens'), ours('ProviderThrottles', 'Sum', 'throttles')]),
    widget('Embedding and upsert latency (ms)', [ours('EmbeddingLatency', 'p90', 'embedding'), ours('UpsertLatency', 'p90', 'upsert')]),
    widget('Chunk duration and pacer wait (ms)', [ours('ChunkDuration', 'p90', 'chunk'), ours('PacerWait', 'Average', 'pacer')]),
    widget(
      'Queue depth',
      consumers.map((name) => queue('ApproximateNumberOfMessagesVisible', ids(name).queue, name)),
      'Maximum',
    ),
    widget(
      'Oldest message (s)',
      consumers.map((name) => queue('ApproximateAgeOfOldestMessage', ids(name).queue, name)),
      'Maximum',
    ),
    widget(
      'Dead-letter queue depth',
      consumers.map((name) => queue('ApproximateNumberOfMessagesVisible', ids(name).deadLetterQueue, `${name} DLQ`)),
      'Maximum',
    ),
    widget(
      'Lambda errors',
      functions.map((name) => ['AWS/Lambda', 'Errors', 'FunctionName', physicalName(ctx, name), { label: name }]),
    ),
  ];
  return {
    [DASHBOARD_ID]: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `${ctx.service}-${ctx.stage}`,
        DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
      },
    },
  };
}
