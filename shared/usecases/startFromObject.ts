/**
 * A CSV dropped under the ingest prefix starts a task, named after the object's identity
 * (uploadTaskId), so a repeated notification for the same upload does not start a second run,
 * while a new upload of the same key does.
 */
import type { Dependencies } from '../ports';
import { fullSyncOfKey } from '../domain/processRequest';
import type { TaskRequest } from '../domain/task';
import { uploadTaskId, type CreatedObject } from '../domain/uploadTask';
import { finishTask, type FinishTaskDeps } from './finishTask';
import { requestTask, type RequestedTask, type RequestTaskDeps } from './requestTask';

export type StartFromObjectDeps = RequestTaskDeps & FinishTaskDeps & Pick<Dependencies, 'objects'>;

export type { CreatedObject };

export async function startFromObject(object: CreatedObject, deps: StartFromObjectDeps): Promise<RequestedTask | undefined> {
  if (object.bucket !== deps.objects.bucket) {
    deps.logger.warn('object notification for another bucket ignored', { bucket: object.bucket, key: object.key });
    return undefined;
  }
  const taskId = uploadTaskId(object);
  const sync = fullSyncOfKey(object.key, deps.config.sync.fullSyncPrefix);
  const request: TaskRequest = {
    schemaVersion: 1,
    taskId,
    source: { type: 's3_csv', key: object.key, ...(object.versionId ? { versionId: object.versionId } : {}) },
    ...(sync && 'dataset' in sync ? { sync: 'full', dataset: sync.dataset } : {}),
    requestedBy: 's3',
    requestedAt: deps.now().toISOString(),
  };
  if (sync && 'problem' in sync) return refuse(request, sync.problem, deps);
  const result = await requestTask(request, deps);
  deps.logger.info(result.created ? 'task started for uploaded object' : 'repeated notification; task already exists', {
    task_id: taskId,
    key: object.key,
  });
  return result;
}

/** A drop that cannot run as its key asks: the task exists, FAILED with the reason, so the uploader can read why. */
async function refuse(request: TaskRequest, problem: string, deps: StartFromObjectDeps): Promise<RequestedTask> {
  const { created } = await deps.tasks.create(
    { taskId: request.taskId, dataSource: 's3_csv', namespace: deps.config.pinecone.namespace, request },
    deps.now(),
  );
  const task = (await finishTask(request.taskId, 'FAILED', deps, problem)) ?? (await deps.tasks.get(request.taskId));
  deps.logger.warn('uploaded object refused', {
    task_id: request.taskId,
    key: request.source.type === 's3_csv' ? request.source.key : undefined,
    problem,
  });
  return { created, task: task as NonNullable<typeof task> };
}
