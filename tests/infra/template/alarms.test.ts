/**
 * Alarms on errors, long runs and non-empty dead-letter queues.
 */
import { consumers, getAtt, type Json, ofType, pascal, SERVICE, STAGE, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
  const dimension = (alarm: Json) => alarm.Dimensions[0].Value;

  it.each(consumers)('%s: errors > 5 in 10 minutes and a non-empty DLQ raise alarms', (name) => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 600,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${STAGE}-${name}` }],
      }),
    );
    const dlqAlarm = alarms().find(
      (a) =>
        a.Namespace === 'AWS/SQS' && JSON.stringify(dimension(a)) === JSON.stringify(getAtt(`${pascal(name)}DeadLetterQueue`, 'QueueName')),
    );
    expect(dlqAlarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('raises an alarm when the planner runs longer than 14 minutes', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Statistic: 'Maximum',
        Threshold: 840000,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${STAGE}-planner` }],
      }),
    );
  });
});
