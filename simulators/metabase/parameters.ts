/**
 * A query request's `parameters`: from a JSON body `{"parameters": [...]}` (a list, or on the
 * export endpoints also a JSON string), or from the form field `parameters=<json>` the export
 * endpoints also read (what Metabase's own download buttons send).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, parseJson } from '../http';
import type { MetabaseParameter } from './types';

/** Export endpoints: a JSON body whose `parameters` is a list or a JSON string, or a form field holding the JSON. */
export function exportParameters(req: IncomingMessage, raw: Buffer): MetabaseParameter[] | undefined {
  if (isForm(req)) {
    const field = new URLSearchParams(raw.toString('utf8')).get('parameters');
    return field === null || field === '' ? undefined : parameterList(parseJson(field, invalidJson('parameters')));
  }
  const body = raw.length === 0 ? {} : parseJson(raw.toString('utf8'), invalidJson('body'));
  const value = (body as { parameters?: unknown }).parameters;
  if (value === undefined || value === null) return undefined;
  return parameterList(typeof value === 'string' ? parseJson(value, invalidJson('parameters')) : value);
}

/** The non-export endpoint: a JSON body only. */
export function jsonParameters(req: IncomingMessage, raw: Buffer): MetabaseParameter[] | undefined {
  if (raw.length === 0 || isForm(req)) return undefined;
  const value = (parseJson(raw.toString('utf8'), invalidJson('body')) as { parameters?: unknown }).parameters;
  return value === undefined || value === null ? undefined : parameterList(value);
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

function invalidJson(field: string): () => HttpError {
  return () => new HttpError(400, { errors: { [field]: 'value must be a valid JSON string.' } });
}

function parameterList(value: unknown): MetabaseParameter[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) {
    throw new HttpError(400, { errors: { parameters: 'nullable sequence of map' } });
  }
  // Current Metabase normalises request parameters with the card-parameter schema, where `id` is required.
  const missing = value.findIndex((item) => typeof item.id !== 'string' || item.id === '');
  if (missing >= 0) throw new HttpError(400, { message: `parameters[${missing}].id: missing required key, received: nil` });
  return value as MetabaseParameter[];
}
