/**
 * `POST /uploads`: stores a CSV file under the ingest prefix, where the S3 trigger starts its task
 * as for any other upload (README › Dashboard). The task is then found by its dataset, the key.
 */
import { randomBytes } from 'node:crypto';
import { checkUploadBody, parseUploadName, uploadKey } from '../domain/upload';
import type { QueryParameters } from '../domain/queryParameters';
import { NotConfiguredError } from '../errors';
import type { Dependencies } from '../ports';

export type UploadCsvDeps = Pick<Dependencies, 'config' | 'objects' | 'now'>;

export async function uploadCsv(params: QueryParameters, body: string, deps: UploadCsvDeps) {
  const { ingest } = deps.config;
  if (!ingest) throw new NotConfiguredError('uploads need the ingest trigger of infra/wiring.yml (INGEST_PREFIX, INGEST_SUFFIX)');
  const name = parseUploadName(params, ingest.suffix);
  checkUploadBody(body);
  const key = uploadKey(ingest.prefix, name, deps.now(), randomBytes(4).toString('hex'));
  const stored = await deps.objects.put(key, body);
  return {
    bucket: stored.bucket,
    key,
    s3_uri: `s3://${stored.bucket}/${key}`,
    bytes: stored.size,
    tasks_url: `/tasks?dataset=${encodeURIComponent(key)}`,
  };
}
