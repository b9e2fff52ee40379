/** `POST /uploads?name=…` (README › Dashboard): the checks of a CSV file sent through the API, and where it lands. Pure: no I/O. */
import { InvalidInputError, UnusableInputError } from '../errors';
import { rejectUnknown, textParameter, type QueryParameters } from './queryParameters';

export const UPLOAD_PARAMETERS = ['name'] as const;

/**
 * Lambda takes at most 6 MB of request, the body JSON-escaped inside the API Gateway event (a
 * quote or a newline counts twice): 4 MiB of CSV leaves room for that and the headers.
 */
export const UPLOAD_LIMITS = { maxBytes: 4 * 1024 * 1024, maxNameLength: 200 } as const;

/** What a browser names a file: letters and digits of any script, spaces and . _ ( ) -; no path. */
const FILE_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._()-]*$/u;

/** The file name from the query, checked against the suffix the S3 trigger starts tasks on. */
export function parseUploadName(params: QueryParameters, suffix: string): string {
  rejectUnknown(params, UPLOAD_PARAMETERS);
  const name = textParameter(params, 'name');
  if (!name) throw new InvalidInputError(`name is required: the file's name, ending in ${suffix}`, 'name');
  if (!name.endsWith(suffix)) throw new InvalidInputError(`name must end in ${suffix} (only those start a task); got "${name}"`, 'name');
  if (name.length > UPLOAD_LIMITS.maxNameLength || !FILE_NAME.test(name))
    throw new InvalidInputError(
      `name must be at most ${UPLOAD_LIMITS.maxNameLength} letters, digits, spaces or . _ ( ) -, starting with a letter or digit; got "${name}"`,
      'name',
    );
  return name;
}

/** An empty body would start a task that reads nothing: refused before it is stored. */
export function checkUploadBody(body: string): void {
  if (body.length === 0) throw new UnusableInputError('the file is empty');
}

/**
 * Directly under the ingest prefix (never in a folder that FULL_SYNC_PREFIX could make a full
 * sync), and unique per upload, so each upload starts its own task, found by this key: the task's
 * dataset. `20250601T101530Z-<nonce>-people.csv`.
 */
export function uploadKey(prefix: string, name: string, at: Date, nonce: string): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${prefix}${stamp}-${nonce}-${name}`;
}
