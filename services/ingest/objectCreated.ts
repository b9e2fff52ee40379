/** SQS (S3 ObjectCreated notifications for the ingest prefix) → start a task per CSV object. */
import type { S3Event } from 'aws-lambda';
import { awsConsumerContext } from '../../shared/composition/aws';
import { createSqsConsumer } from '../../shared/edges/sqsConsumer';
import { InvalidMessageError } from '../../shared/errors';
import type { ConsumerContextProvider } from '../../shared/ports';
import { startFromObject, type CreatedObject } from '../../shared/usecases/startFromObject';

export function createHandler(provide: ConsumerContextProvider) {
  return createSqsConsumer(
    {
      name: 'S3 notification',
      parse: createdObjects,
      handle: async (objects, deps) => {
        for (const object of objects) await startFromObject(object, deps);
      },
    },
    provide,
  );
}

function createdObjects(body: string): CreatedObject[] {
  let notification: Partial<S3Event> & { Event?: string };
  try {
    notification = JSON.parse(body);
  } catch {
    throw new InvalidMessageError('S3 notification is not JSON', ['(body) is not JSON']);
  }
  // S3 sends a test message when the notification is configured.
  if (notification.Event === 's3:TestEvent') return [];
  return (notification.Records ?? [])
    .filter((entry) => entry.eventName?.startsWith('ObjectCreated'))
    .map((entry) => ({
      bucket: entry.s3.bucket.name,
      // Keys arrive URL-encoded, with '+' for spaces.
      key: decodeURIComponent(entry.s3.object.key.replace(/\+/g, ' ')),
      etag: entry.s3.object.eTag,
      versionId: entry.s3.object.versionId,
      sequencer: entry.s3.object.sequencer,
    }));
}

export const handler = createHandler(awsConsumerContext);
