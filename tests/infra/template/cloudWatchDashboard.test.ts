/**
 * The stage's CloudWatch dashboard: our namespace and every metric we publish, each consumer's
 * queue and dead-letter queue, and every function's errors.
 */
import { METRIC_UNITS } from '../../../shared/metrics';
import { allFunctions, consumers, ofType, pascal, SERVICE, STAGE, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('the CloudWatch dashboard', () => {
  const dashboards = () => ofType('AWS::CloudWatch::Dashboard').map(([, r]) => r.Properties);
  const body = (): string => dashboards()[0].DashboardBody['Fn::Sub'];

  it('is one dashboard of the stage, a valid JSON body once substituted', () => {
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0].DashboardName).toBe(`${SERVICE}-${STAGE}`);
    const widgets = JSON.parse(body()).widgets;
    expect(widgets.length).toBeGreaterThan(0);
    for (const widget of widgets) expect(widget.properties.region).toBe('${AWS::Region}');
  });

  it('reads every metric of the namespace VectordbCatchup', () => {
    for (const name of Object.keys(METRIC_UNITS)) {
      expect(body()).toContain(`SEARCH('{VectordbCatchup,service,function} MetricName=\\"${name}\\"'`);
    }
  });

  it.each(consumers)('%s: shows its queue depth and age and its dead-letter depth', (name) => {
    const lines = JSON.parse(body()).widgets.flatMap((widget: { properties: { metrics: unknown[][] } }) => widget.properties.metrics);
    const queueLine = (metric: string, queueId: string) => ['AWS/SQS', metric, 'QueueName', `\${${queueId}.QueueName}`];
    const has = (line: unknown[]) => lines.some((candidate: unknown[]) => JSON.stringify(candidate.slice(0, 4)) === JSON.stringify(line));
    expect(has(queueLine('ApproximateNumberOfMessagesVisible', `${pascal(name)}Queue`))).toBe(true);
    expect(has(queueLine('ApproximateAgeOfOldestMessage', `${pascal(name)}Queue`))).toBe(true);
    expect(has(queueLine('ApproximateNumberOfMessagesVisible', `${pascal(name)}DeadLetterQueue`))).toBe(true);
  });

  it.each(allFunctions)("%s: shows the function's errors", (name) => {
    expect(body()).toContain(JSON.stringify(['AWS/Lambda', 'Errors', 'FunctionName', `${SERVICE}-${STAGE}-${name}`]).slice(1, -1));
  });
});
