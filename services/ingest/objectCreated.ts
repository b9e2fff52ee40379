/** SQS (S3 ObjectCreated notifications for the ingest prefix) → start a task per CSV object. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { S3Event, SQSRecord } from 'aws-lambda';
import type { ConsumerContextProvider } from '../../shared/dependencies';
import type { SqsHandler } from '../../shared/handlers/eventConsumer';
import { awsConsumerContext } from '../../shared/runtime/aws';
import { startFromObject } from '../../shared/usecases/startFromObject';

export function createHandler(provide: ConsumerContextProvider): SqsHandler {
  return async (event, context) => {
    const { deps, deadLetters } = await provide();
    const consume = async (record: SQSRecord) => {
      let notification: Partial<S3Event> & { Event?: string };
      try {
        notification = JSON.parse(record.body);
      } catch {
        deps.logger.error('S3 notification is not JSON; moved to the dead-letter queue', { messageId: record.messageId });
        return deadLetters.send(record.body, 'S3 notification is not JSON');
      }
      // S3 sends a test message when the notification is configured.
      if (notification.Event === 's3:TestEvent') return;
      for (const entry of notification.Records ?? []) {
        if (!entry.eventName?.startsWith('ObjectCreated')) continue;
        await startFromObject(
          {
            bucket: entry.s3.bucket.name,
            // Keys arrive URL-encoded, with '+' for spaces.
            key: decodeURIComponent(entry.s3.object.key.replace(/\+/g, ' ')),
            etag: entry.s3.object.eTag,
            versionId: entry.s3.object.versionId,
            sequencer: entry.s3.object.sequencer,
          },
          deps,
        );
      }
    };
    return processPartialResponse(event, consume, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
  };
}

export const handler = createHandler(awsConsumerContext);
