/** The SQS event a handler gets for a batch, record by record as the event source mapping builds it. */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { LOCAL_ACCOUNT } from './account';
import type { Message } from './message';

export function sqsEvent(batch: Message[], queue: { arn: string; region: string }): SQSEvent {
  return { Records: batch.map((message) => sqsRecord(message, queue)) };
}

/** Every receive gets a new receipt handle; the message id stays. */
function sqsRecord(message: Message, queue: { arn: string; region: string }): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: Buffer.from(`${message.messageId}:${randomUUID()}`).toString('base64'),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: LOCAL_ACCOUNT,
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
      ...(message.deadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
    },
    messageAttributes: lambdaAttributes(message.messageAttributes),
    md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: queue.region,
  };
}

function lambdaAttributes(attributes: Record<string, string>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
    ]),
  );
}
