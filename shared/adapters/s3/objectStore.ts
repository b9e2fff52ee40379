/** The task bucket through the AWS SDK: works against S3 and against s3rver locally. */
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectHead, ObjectStore } from '../../ports';
import { SourceError } from '../../errors';

export function createS3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  return {
    bucket,

    async head(key) {
      try {
        const output = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { bucket, key, size: output.ContentLength ?? 0, etag: output.ETag ?? '', versionId: output.VersionId ?? undefined };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },

    async read(key, options = {}) {
      const { start, end, etag } = options;
      // Range ends are inclusive in HTTP; ours are exclusive.
      const range = start !== undefined || end !== undefined ? `bytes=${start ?? 0}-${end !== undefined ? end - 1 : ''}` : undefined;
      try {
        const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, IfMatch: etag }));
        return output.Body as Readable;
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412)
          throw new SourceError(`s3://${bucket}/${key} changed after it was planned (its ETag is no longer ${etag})`, { cause: error });
        if (status === 404) throw new SourceError(`s3://${bucket}/${key} does not exist`, { cause: error });
        throw error;
      }
    },

    async put(key, body) {
      const output = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return {
        bucket,
        key,
        size: Buffer.byteLength(body),
        etag: output.ETag ?? '',
        versionId: output.VersionId ?? undefined,
      } satisfies ObjectHead;
    },
  };
}
