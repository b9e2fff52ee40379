/** Sends a message that can never succeed straight to the consumer's dead-letter queue. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSink } from '../../ports';

export function createSqsDeadLetterSink(client: SQSClient, queueUrl: string): DeadLetterSink {
  return {
    async send(body, reason) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
        }),
      );
    },
  };
}
