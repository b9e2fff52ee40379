/** The task bucket through the AWS SDK: works against S3 and against s3rver locally. */
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectHead, ObjectStore } from '../../ports';
import { SourceError } from '../../errors';

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export function createS3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  const describe = (key: string, versionId: string | undefined) => `${versionId ? `version ${versionId} of ` : ''}s3://${bucket}/${key}`;
  return {
    bucket,

    async head(key, { versionId } = {}) {
      try {
        const output = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
        return { bucket, key, size: output.ContentLength ?? 0, etag: output.ETag ?? '', versionId: output.VersionId ?? undefined };
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || (error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return undefined;
        // S3 answers 400 to a version id it cannot have issued (an unversioned bucket's objects have none but "null").
        if (status === 400 && versionId !== undefined)
          throw new SourceError(`${describe(key, versionId)} cannot be read: S3 refused the version id`, { cause: error });
        throw error;
      }
    },

    async read(key, options = {}) {
      const { start, end, etag, versionId } = options;
      // Range ends are inclusive in HTTP; ours are exclusive.
      const range = start !== undefined || end !== undefined ? `bytes=${start ?? 0}-${end !== undefined ? end - 1 : ''}` : undefined;
      const changed = (cause?: unknown) =>
        new SourceError(`${describe(key, versionId)} changed after it was planned (its ETag is no longer ${etag})`, { cause });
      let output;
      try {
        output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, IfMatch: etag, VersionId: versionId }));
      } catch (error) {
        const status = statusOf(error);
        if (status === 412) throw changed(error);
        if (status === 404) throw new SourceError(`${describe(key, versionId)} does not exist`, { cause: error });
        throw error;
      }
      // S3 refuses a changed object itself (412); a server that ignores If-Match (s3rver) still says which ETag it sent.
      if (etag !== undefined && output.ETag !== undefined && output.ETag !== etag) {
        (output.Body as Readable).destroy();
        throw changed();
      }
      return output.Body as Readable;
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
