/**
 * CloudWatch alarms, all of one shape (one breach of a threshold in one period raises it; no data
 * is no breach): errors and long runs of each function, a non-empty dead-letter queue of each
 * consumer, failed and timed-out executions of each state machine.
 */
import { getAtt, ref, type Json, type Resource, type Resources } from './cloudFormation';
import { physicalName, type Context } from './context';
import { ids } from './ids';

/** Alarm thresholds of the old system: errors > 5 in 10 minutes, duration > 14 minutes. */
const ERROR_ALARM = { threshold: 5, periodSeconds: 600 };
const DURATION_ALARM_MS = 14 * 60 * 1000;

interface AlarmSpec {
  name: string;
  description: string;
  namespace: 'AWS/Lambda' | 'AWS/SQS' | 'AWS/States';
  metric: string;
  dimension: { Name: string; Value: Json };
  statistic: 'Sum' | 'Maximum';
  periodSeconds: number;
  /** Alarms when the statistic is greater than this in one period. */
  threshold: number;
}

/** The one alarm shape. */
function alarm(spec: AlarmSpec): Resource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: spec.name,
      AlarmDescription: spec.description,
      Namespace: spec.namespace,
      MetricName: spec.metric,
      Dimensions: [spec.dimension],
      Statistic: spec.statistic,
      Period: spec.periodSeconds,
      EvaluationPeriods: 1,
      Threshold: spec.threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  };
}

/** Alarms for every function: errors; and duration for those allowed to run past 14 minutes. */
export function functionAlarms(ctx: Context, name: string, timeoutSeconds: number): Resources {
  const id = ids(name);
  const lambda = { namespace: 'AWS/Lambda', dimension: { Name: 'FunctionName', Value: physicalName(ctx, name) } } as const;
  const alarms: Resources = {
    [id.errorsAlarm]: alarm({
      ...lambda,
      name: `${physicalName(ctx, name)}-errors`,
      description: `More than ${ERROR_ALARM.threshold} errors in ${ERROR_ALARM.periodSeconds / 60} minutes`,
      metric: 'Errors',
      statistic: 'Sum',
      periodSeconds: ERROR_ALARM.periodSeconds,
      threshold: ERROR_ALARM.threshold,
    }),
  };
  if (timeoutSeconds * 1000 > DURATION_ALARM_MS) {
    alarms[id.durationAlarm] = alarm({
      ...lambda,
      name: `${physicalName(ctx, name)}-duration`,
      description: 'An invocation ran longer than 14 minutes, close to the 15-minute Lambda limit',
      metric: 'Duration',
      statistic: 'Maximum',
      periodSeconds: 300,
      threshold: DURATION_ALARM_MS,
    });
  }
  return alarms;
}

/** A consumer's dead-letter queue holds a message: one it gave up on. */
export function deadLetterAlarm(ctx: Context, name: string): Resources {
  const id = ids(name);
  return {
    [id.deadLetterAlarm]: alarm({
      name: `${physicalName(ctx, name)}-dlq-not-empty`,
      description: `Messages the ${name} consumer gave up on`,
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dimension: { Name: 'QueueName', Value: getAtt(id.deadLetterQueue, 'QueueName') },
      statistic: 'Maximum',
      periodSeconds: 300,
      threshold: 0,
    }),
  };
}

/** Any failed or timed-out execution of a state machine (its task is marked FAILED). */
export function stateMachineAlarms(ctx: Context, name: string): Resources {
  const id = ids(name);
  const executions = (metric: 'ExecutionsFailed' | 'ExecutionsTimedOut', description: string) =>
    alarm({
      name: `${physicalName(ctx, name)}-${metric.replace(/^Executions/, '').toLowerCase()}`,
      description,
      namespace: 'AWS/States',
      metric,
      dimension: { Name: 'StateMachineArn', Value: ref(id.stateMachine) },
      statistic: 'Sum',
      periodSeconds: 300,
      threshold: 0,
    });
  return {
    [id.executionsFailedAlarm]: executions('ExecutionsFailed', `A ${name} execution failed (its task is marked FAILED)`),
    [id.executionsTimedOutAlarm]: executions('ExecutionsTimedOut', `A ${name} execution timed out (its task is marked FAILED)`),
  };
}
