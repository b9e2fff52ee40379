/**
 * Routing to the consumers' queues (rules, bucket notifications, queue policies) and the queues themselves.
 */
import { asArray, consumers, getAtt, type Json, ofType, pascal, resource, SERVICE, STAGE, usePackagedTemplate, wiring } from './helpers';

usePackagedTemplate();

describe('routing', () => {
  it('has one rule per event-triggered consumer, on our bus, with the wired pattern and queue', () => {
    const routed = consumers.filter(([, c]) => c.trigger.events);
    // Consumers of a state machine's status changes have their rule on the default bus (see stateMachine.test.ts).
    const ruled = consumers.filter(([, c]) => c.trigger.events || c.trigger.stateMachine);
    // Scheduled functions' rules have no pattern (see schedules.test.ts).
    expect(
      ofType('AWS::Events::Rule')
        .filter(([, rule]) => rule.Properties.ScheduleExpression === undefined)
        .map(([id]) => id)
        .sort(),
    ).toEqual(ruled.map(([n]) => `${pascal(n)}Rule`).sort());
    for (const [name, c] of routed) {
      const expected: Json = { 'detail-type': c.trigger.events };
      if (c.trigger.internal) expected.source = [wiring.eventSource];
      const rule = resource(`${pascal(name)}Rule`).Properties;
      expect(rule.EventPattern).toEqual(expected);
      expect(rule.EventBusName).toEqual({ Ref: 'EventBus' });
      expect(rule.State).toBe('ENABLED');
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: getAtt(`${pascal(name)}Queue`) })]);
    }
    expect(resource('EventBus').Properties.Name).toBe(`${SERVICE}-${STAGE}`);
  });

  it('lets only the own rule (or the own bucket, from our account) send to each queue', () => {
    for (const [name, c] of consumers) {
      const policy = resource(`${pascal(name)}QueuePolicy`).Properties;
      expect(policy.Queues).toEqual([{ Ref: `${pascal(name)}Queue` }]);
      const statements: Json[] = policy.PolicyDocument.Statement;
      const expected: Json[] = [];
      if (c.trigger.events || c.trigger.stateMachine) {
        expected.push(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(`${pascal(name)}Rule`) } },
          }),
        );
      }
      if (c.trigger.s3) {
        expected.push(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: { 'aws:SourceArn': expect.anything() },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        );
      }
      expect(statements).toEqual(expected);
    }
  });

  it('notifies the S3-triggered consumer of created objects under the wired prefix and suffix', () => {
    const bucket = resource('DataBucket');
    const s3Consumers = consumers.filter(([, c]) => c.trigger.s3);
    expect(s3Consumers.length).toBeGreaterThan(0);
    expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual(
      s3Consumers.map(([name, c]) => ({
        Event: 's3:ObjectCreated:*',
        Queue: getAtt(`${pascal(name)}Queue`),
        Filter: {
          S3Key: {
            Rules: [
              { Name: 'prefix', Value: c.trigger.s3!.prefix },
              { Name: 'suffix', Value: c.trigger.s3!.suffix },
            ],
          },
        },
      })),
    );
    // S3 validates the destination on create: the queue policy must already allow it.
    expect(asArray(bucket.DependsOn ?? [])).toEqual(expect.arrayContaining(s3Consumers.map(([n]) => `${pascal(n)}QueuePolicy`)));
  });
});

describe('consumers', () => {
  it.each(consumers)('%s: encrypted queue with a DLQ after >= 5 receives, visibility >= 6 x timeout', (name, c) => {
    const queue = resource(`${pascal(name)}Queue`).Properties;
    const dlq = resource(`${pascal(name)}DeadLetterQueue`).Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt(`${pascal(name)}DeadLetterQueue`),
      maxReceiveCount: c.maxReceiveCount,
    });
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * c.timeout);
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});
