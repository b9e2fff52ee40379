/**
 * The `/process` parameters (the older system's names, from a query string or a JSON body),
 * validated into a task request. Each problem names its parameter.
 */
import { randomUUID } from 'node:crypto';
import { LONG_TEXT_MODES, type Config, type LongTextMode } from '../config';
import { InvalidInputError } from '../errors';
import type { TaskRequest } from './task';
import { AUTO_START_DATE } from './catchup';
import { isValidDate } from './dates';

const KNOWN_PARAMETERS = [
  'start_date',
  'question_id',
  'data_source',
  's3_key',
  'namespace',
  'task_id',
  'text_column',
  'id_column',
  'date_column',
  'deleted_column',
  'dry_run',
  'force',
  'dataset',
  'sync',
  'allow_mass_delete',
  'long_text',
] as const;
/** A dataset name a caller gives: safe in keys, metadata filters and logs. */
const DATASET_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const SYNC_MODES = ['full'] as const;
const SUPPORTED_SOURCES = ['s3_csv', 'metabase'] as const;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function parseProcessRequest(params: Record<string, unknown>, config: Config, now: Date): TaskRequest {
  const unknown = Object.keys(params).filter((name) => !(KNOWN_PARAMETERS as readonly string[]).includes(name));
  if (unknown.length)
    throw new InvalidInputError(
      `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; accepted: ${KNOWN_PARAMETERS.join(', ')}`,
      unknown[0],
    );
  const value = (name: (typeof KNOWN_PARAMETERS)[number]): string | undefined => {
    const raw = params[name];
    if (raw === undefined || raw === null || raw === '') return undefined;
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new InvalidInputError(`${name} must be a string`, name);
    return String(raw).trim() || undefined;
  };

  const s3Key = value('s3_key');
  const dataSource = value('data_source') ?? (s3Key ? 's3_csv' : 'metabase');
  if (!(SUPPORTED_SOURCES as readonly string[]).includes(dataSource)) {
    throw new InvalidInputError(`data_source must be one of ${SUPPORTED_SOURCES.join(', ')}; got "${dataSource}"`, 'data_source');
  }
  const startDate = value('start_date');
  if (startDate !== undefined && startDate !== AUTO_START_DATE && !isValidDate(startDate))
    throw new InvalidInputError(`start_date must be a real date as YYYY-MM-DD, or auto; got "${startDate}"`, 'start_date');
  const questionId = value('question_id') ?? config.metabase.questionId;
  if (dataSource === 'metabase') {
    if (s3Key) throw new InvalidInputError('s3_key belongs to data_source=s3_csv, not metabase', 's3_key');
    if (questionId === undefined)
      throw new InvalidInputError(
        'question_id is required for data_source=metabase (no METABASE_QUESTION_ID is configured)',
        'question_id',
      );
    if (!/^[1-9]\d{0,9}$/.test(questionId))
      throw new InvalidInputError(`question_id must be a positive whole number; got "${questionId}"`, 'question_id');
  } else if (!s3Key) {
    throw new InvalidInputError('s3_key is required when data_source is s3_csv', 's3_key');
  } else if (value('question_id') !== undefined) {
    throw new InvalidInputError('question_id belongs to data_source=metabase, not s3_csv', 'question_id');
  }

  const taskId = value('task_id') ?? randomUUID();
  if (!TASK_ID.test(taskId))
    throw new InvalidInputError('task_id must be 1-128 letters, digits, or _ . : - (starting with a letter or digit)', 'task_id');
  const namespace = value('namespace');
  if (namespace !== undefined && namespace.length > 512)
    throw new InvalidInputError('namespace must be at most 512 characters', 'namespace');
  const columns = { text: value('text_column'), id: value('id_column'), date: value('date_column'), deleted: value('deleted_column') };
  const flag = (name: 'dry_run' | 'force' | 'allow_mass_delete'): boolean => {
    const raw = params[name];
    if (raw === undefined || raw === null || raw === '' || raw === false || raw === 'false') return false;
    if (raw === true || raw === 'true') return true;
    throw new InvalidInputError(`${name} must be true or false; got ${JSON.stringify(raw)}`, name);
  };

  const dataset = value('dataset');
  if (dataset !== undefined && !DATASET_NAME.test(dataset)) {
    throw new InvalidInputError(`dataset must be 1-100 letters, digits or . _ -; got "${dataset}"`, 'dataset');
  }
  const sync = value('sync');
  if (sync !== undefined && !(SYNC_MODES as readonly string[]).includes(sync)) {
    throw new InvalidInputError(`sync must be one of ${SYNC_MODES.join(', ')}; got "${sync}"`, 'sync');
  }
  const allowMassDelete = flag('allow_mass_delete');
  if (allowMassDelete && sync !== 'full')
    throw new InvalidInputError('allow_mass_delete=true only applies with sync=full', 'allow_mass_delete');
  const longText = value('long_text');
  if (longText !== undefined && !(LONG_TEXT_MODES as readonly string[]).includes(longText)) {
    throw new InvalidInputError(`long_text must be one of ${LONG_TEXT_MODES.join(', ')}; got "${longText}"`, 'long_text');
  }
  const conflict = sync === 'full' ? fullSyncConflict(dataSource, startDate) : undefined;
  if (conflict) throw new InvalidInputError(conflict, 'sync');

  return {
    schemaVersion: 1,
    taskId,
    source:
      dataSource === 'metabase'
        ? { type: 'metabase', questionId: Number(questionId) }
        : { type: 's3_csv', key: bucketKey(s3Key as string, config.bucketName) },
    ...(namespace ? { namespace } : {}),
    ...(startDate ? { startDate } : {}),
    ...(Object.values(columns).some(Boolean) ? { columns: JSON.parse(JSON.stringify(columns)) } : {}),
    ...(flag('dry_run') ? { dryRun: true } : {}),
    ...(flag('force') ? { force: true } : {}),
    ...(dataset ? { dataset } : {}),
    ...(sync === 'full' ? { sync: 'full' as const } : {}),
    ...(allowMassDelete ? { allowMassDelete: true } : {}),
    ...(longText ? { longText: longText as LongTextMode } : {}),
    requestedBy: 'api',
    requestedAt: now.toISOString(),
  };
}

/** Accepts a plain key or an s3:// URL of this deployment's bucket; anything else is foreign. */
function bucketKey(s3Key: string, bucket: string): string {
  let key = s3Key;
  if (/^s3:\/\//i.test(s3Key)) {
    const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(s3Key);
    if (!match) throw new InvalidInputError(`s3_key "${s3Key}" is not an s3://bucket/key URL`, 's3_key');
    if (match[1] !== bucket)
      throw new InvalidInputError(`s3_key names bucket "${match[1]}"; this deployment reads only "${bucket}"`, 's3_key');
    key = match[2];
  } else if (/^[a-z]+:\/\//i.test(s3Key)) {
    throw new InvalidInputError(`s3_key must be a key in bucket "${bucket}", not a URL`, 's3_key');
  }
  key = key.replace(/^\/+/, '');
  if (!key || key.length > 1024) throw new InvalidInputError('s3_key must be 1-1024 characters', 's3_key');
  if (key.split('/').some((part) => part === '..')) throw new InvalidInputError('s3_key may not contain ".." segments', 's3_key');
  return key;
}

/**
 * Why a full sync cannot run as asked, if it cannot: a Metabase question filtered by start_date
 * returns part of the dataset by construction, and a full sync of a part would delete the rest.
 */
export function fullSyncConflict(dataSource: string, startDate: string | undefined): string | undefined {
  if (dataSource !== 'metabase' || !startDate) return undefined;
  return 'sync=full cannot be combined with start_date for data_source=metabase: the question would return only part of the dataset';
}

/**
 * Whether an uploaded object asks for a full sync: keys under the full-sync prefix do, and the
 * next path segment names the dataset (`incoming/full/catalog/2025-06-01.csv` → `catalog`).
 */
export function fullSyncOfKey(key: string, prefix: string): { dataset: string } | { problem: string } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const [dataset, ...rest] = key.slice(prefix.length).split('/');
  if (rest.length === 0)
    return { problem: `${key} is directly under ${prefix}: put it in a folder named after its dataset (${prefix}<dataset>/…)` };
  if (!DATASET_NAME.test(dataset)) return { problem: `${key}: the dataset folder "${dataset}" must be 1-100 letters, digits or . _ -` };
  return { dataset };
}
