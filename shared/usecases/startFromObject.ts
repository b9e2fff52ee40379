/**
 * A CSV dropped under the ingest prefix starts a task. The task id is derived from the object's
 * identity (key + version or ETag), so a repeated notification for the same upload does not start
 * a second run, while a new upload of the same key does.
 */
import { createHash } from 'node:crypto';
import type { Dependencies } from '../ports';
import { requestTask, type RequestedTask, type RequestTaskDeps } from './requestTask';

export type StartFromObjectDeps = RequestTaskDeps & Pick<Dependencies, 'objects' | 'logger'>;

export interface CreatedObject {
  bucket: string;
  key: string;
  etag?: string;
  versionId?: string;
  sequencer?: string;
}

export async function startFromObject(object: CreatedObject, deps: StartFromObjectDeps): Promise<RequestedTask | undefined> {
  if (object.bucket !== deps.objects.bucket) {
    deps.logger.warn('object notification for another bucket ignored', { bucket: object.bucket, key: object.key });
    return undefined;
  }
  const identity = [object.bucket, object.key, object.versionId ?? object.etag ?? object.sequencer ?? ''].join('\n');
  const taskId = `s3-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
  const result = await requestTask(
    {
      schemaVersion: 1,
      taskId,
      source: { type: 's3_csv', key: object.key, ...(object.versionId ? { versionId: object.versionId } : {}) },
      requestedBy: 's3',
      requestedAt: deps.now().toISOString(),
    },
    deps,
  );
  deps.logger.info(result.created ? 'task started for uploaded object' : 'repeated notification; task already exists', { taskId, key: object.key });
  return result;
}
