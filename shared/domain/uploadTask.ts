/**
 * The task an upload under the ingest prefix starts. Its id is derived from the object's identity
 * (bucket, key, and version or ETag), so a repeated notification for one upload names the same
 * task, while new content under the same key names a new one; an uploader that knows what it put
 * (the CLI) can name the task without asking for it. Pure: no I/O.
 */
import { createHash } from 'node:crypto';

export interface CreatedObject {
  bucket: string;
  key: string;
  etag?: string;
  versionId?: string;
  sequencer?: string;
}

export function uploadTaskId(object: CreatedObject): string {
  const identity = [object.bucket, object.key, object.versionId ?? object.etag ?? object.sequencer ?? ''].join('\n');
  return `s3-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}
