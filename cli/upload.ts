/** Putting a local CSV into the bucket: s3rver for the local runtime, AWS with the user's own credentials for a stage. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { uploadTaskId } from '../shared/domain/uploadTask';
import { ApiError, UnreachableError } from './apiClient';
import { UsageError } from './commandLine';
import { LOCAL_RUNTIME, type S3Settings } from './settings';

/** The most one PutObject takes; a larger file needs a multipart upload (`aws s3 cp`). */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH']);

export interface Upload {
  bucket: string;
  key: string;
  bytes: number;
  /** The task the upload trigger starts for this object, if the key is under the ingest prefix. */
  taskId: string;
}

function s3Client(settings: S3Settings): S3Client {
  if (!settings.endpoint) return new S3Client({});
  // s3rver checks signatures against its fixed credentials, and stores aws-chunked bodies as they are: send plain ones.
  return new S3Client({
    endpoint: settings.endpoint,
    region: LOCAL_RUNTIME.region,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function uploadFile(file: string, key: string, settings: S3Settings): Promise<Upload> {
  const { size } = await stat(file);
  const target = `s3://${settings.bucket}/${key}`;
  if (size > MAX_PUT_BYTES)
    throw new UsageError(`${file} is over 5 GiB, more than one PUT takes: copy it with \`aws s3 cp\`, then ingest ${target}`, 'ingest');
  const client = s3Client(settings);
  try {
    const answer = await client.send(
      new PutObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: size,
        ContentType: 'text/csv',
      }),
    );
    // The notification carries the ETag unquoted.
    const etag = answer.ETag?.replace(/"/g, '');
    return {
      bucket: settings.bucket,
      key,
      bytes: size,
      taskId: uploadTaskId({ bucket: settings.bucket, key, etag, versionId: answer.VersionId }),
    };
  } catch (error) {
    throw uploadError(error as Error & { code?: string; $metadata?: { httpStatusCode?: number } }, target, settings);
  } finally {
    client.destroy();
  }
}

function uploadError(
  error: Error & { code?: string; $metadata?: { httpStatusCode?: number } },
  target: string,
  settings: S3Settings,
): Error {
  const status = error.$metadata?.httpStatusCode;
  if (status) return new ApiError(status, `upload to ${target}: ${status} ${error.name}: ${error.message}`, undefined);
  if (error.code && NETWORK_CODES.has(error.code)) {
    const where = settings.endpoint ?? 'S3';
    const advice = settings.endpoint ? 'is the local runtime running? Start it with `npm start` in the repository' : 'check your network';
    return new UnreachableError(`cannot reach ${where} (${error.code}) to upload to ${target}: ${advice}`);
  }
  if (error.name === 'CredentialsProviderError')
    return new UsageError(
      `no AWS credentials to upload to ${target} (${error.message}): set AWS_PROFILE or AWS_ACCESS_KEY_ID, or ingest an s3:// object already in the bucket`,
      'ingest',
    );
  return error;
}
