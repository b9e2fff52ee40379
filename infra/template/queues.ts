/**
 * Each consumer's SQS queue and dead-letter queue, and what may put messages on the queue: its
 * own EventBridge rule, or the data bucket's notifications (S3-triggered consumers).
 */
import { eventPatternFor } from '../eventPatterns';
import type { ConsumerWiring, Wiring } from '../wiring';
import { getAtt, ref, type Resources, type Statement } from './cloudFormation';
import { physicalName, type Context } from './context';
import { ids, SHARED, stateMachineArns } from './ids';

/** The longest SQS keeps a message: time to inspect and redrive what a consumer gave up on. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** A consumer's queue and its dead-letter queue, after maxReceiveCount receives. */
export function consumerQueues(ctx: Context, name: string, consumer: ConsumerWiring): Resources {
  const id = ids(name);
  const queueName = physicalName(ctx, name);
  return {
    [id.deadLetterQueue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: `${queueName}-dlq`,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
      },
    },
    [id.queue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: consumer.visibilityTimeout,
        RedrivePolicy: { deadLetterTargetArn: getAtt(id.deadLetterQueue, 'Arn'), maxReceiveCount: consumer.maxReceiveCount },
      },
    },
  };
}

/** Built from the name, not GetAtt: the bucket depends on the queue policy that needs its ARN. */
const bucketArnFromName = (ctx: Context) => ({ 'Fn::Sub': ['arn:${AWS::Partition}:s3:::${BucketName}', { BucketName: ctx.bucketName }] });

/**
 * A consumer's EventBridge rule (events and state machine triggers), and the queue policy that
 * lets only that rule, or only our bucket from our account, send to its queue.
 */
export function consumerRouting(ctx: Context, wiring: Wiring, name: string, consumer: ConsumerWiring): Resources {
  const id = ids(name);
  const resources: Resources = {};
  const senders: Statement[] = [];
  const pattern = eventPatternFor(consumer, wiring.eventSource, stateMachineArns(wiring));
  if (pattern) {
    resources[id.rule] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: physicalName(ctx, name),
        Description: consumer.description,
        // Step Functions publishes status changes to the account's default bus (no EventBusName).
        ...('stateMachine' in consumer.trigger ? {} : { EventBusName: ref(SHARED.bus) }),
        EventPattern: pattern,
        State: 'ENABLED',
        Targets: [{ Id: `${name}-queue`, Arn: getAtt(id.queue, 'Arn') }],
      },
    };
    senders.push({
      Sid: 'FromOwnRule',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt(id.queue, 'Arn'),
      Condition: { ArnEquals: { 'aws:SourceArn': getAtt(id.rule, 'Arn') } },
    });
  }
  if ('s3' in consumer.trigger) {
    senders.push({
      Sid: 'FromOwnBucket',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt(id.queue, 'Arn'),
      Condition: {
        ArnEquals: { 'aws:SourceArn': bucketArnFromName(ctx) },
        StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
      },
    });
  }
  resources[id.queuePolicy] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: { Queues: [ref(id.queue)], PolicyDocument: { Version: '2012-10-17', Statement: senders } },
  };
  return resources;
}

const s3Consumers = (wiring: Wiring) =>
  Object.entries(wiring.consumers).flatMap(([name, consumer]) => ('s3' in consumer.trigger ? [{ name, s3: consumer.trigger.s3 }] : []));

/** The data bucket's NotificationConfiguration: each S3-triggered consumer's prefix/suffix to its queue. */
export function bucketNotificationConfiguration(wiring: Wiring) {
  return {
    QueueConfigurations: s3Consumers(wiring).map(({ name, s3 }) => ({
      Event: 's3:ObjectCreated:*',
      Queue: getAtt(ids(name).queue, 'Arn'),
      Filter: {
        S3Key: {
          Rules: [
            { Name: 'prefix', Value: s3.prefix },
            { Name: 'suffix', Value: s3.suffix },
          ],
        },
      },
    })),
  };
}

/** S3 validates the destination when the notification is created: the queue policies must exist first. */
export function bucketNotificationDependsOn(wiring: Wiring): string[] {
  return s3Consumers(wiring).map(({ name }) => ids(name).queuePolicy);
}
