/**
 * Starting a task a caller asked for by API: its source is checked first (a configured Metabase,
 * an existing non-empty CSV object) so that the caller hears at once what is wrong, instead of
 * reading it later in a FAILED task.
 */
import type { TaskRequest } from '../domain/task';
import { NotConfiguredError, NotFoundError, UnusableInputError } from '../errors';
import type { Dependencies } from '../ports';
import { requestTask, type RequestedTask, type RequestTaskDeps } from './requestTask';

export type StartTaskDeps = RequestTaskDeps & Pick<Dependencies, 'metabase' | 'objects'>;

export async function startTask(request: TaskRequest, deps: StartTaskDeps): Promise<RequestedTask> {
  const { source } = request;
  if (source.type === 'metabase' && !deps.metabase) {
    const message = 'data_source=metabase needs METABASE_URL and METABASE_API_KEY, which this deployment does not have';
    throw new NotConfiguredError(message, 'data_source');
  }
  if (source.type === 's3_csv') {
    const object = await deps.objects.head(source.key);
    if (!object) throw new NotFoundError(`s3_key "${source.key}" does not exist in bucket "${deps.objects.bucket}"`, 's3_key');
    if (object.size === 0)
      throw new UnusableInputError(`s3_key "${source.key}" is an empty file: a CSV needs at least a header row`, 's3_key');
    // The run reads the version that was checked, even if the key is overwritten meanwhile.
    if (object.versionId) return requestTask({ ...request, source: { ...source, versionId: object.versionId } }, deps);
  }
  return requestTask(request, deps);
}
