/**
 * A log line for people reading a terminal (`LOG_FORMAT=pretty`, which `npm start` sets when its
 * stdout is one): `01:02:03.456 WARN  Pinecone upsert failed; retrying  task_id=t-1 chunk_index=3
 * attempt=1 reason="HTTP 429"`, with an error's stack indented beneath. It holds what the JSON line
 * holds, in the same order, bar what is the same on every line of the process (service, sampling
 * rate, the Lambda context). Pure: the logger hands it the line's attributes, already redacted.
 */

/** How a level is set off; `util.styleText`'s format names, which it drops where colour is off. */
export type Style = (format: 'red' | 'yellow' | 'gray' | 'bold', text: string) => string;

const SAME_ON_EVERY_LINE = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
]);

const LEVEL_STYLE: Record<string, Parameters<Style>[0] | undefined> = { CRITICAL: 'red', ERROR: 'red', WARN: 'yellow', DEBUG: 'gray' };

const plain: Style = (_format, text) => text;

/** Powertools' shape of a logged error: name, location, message, stack, cause. */
interface LoggedError {
  name: string;
  message: string;
  stack?: string;
}

const isLoggedError = (value: unknown): value is LoggedError =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as LoggedError).name === 'string' &&
  typeof (value as LoggedError).message === 'string';

/** A bare word where it reads unambiguously, else JSON (quoted strings, compact objects). */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (isLoggedError(value)) return JSON.stringify(`${value.name}: ${value.message}`);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function prettyLogLine(attributes: Record<string, unknown>, style: Style = plain): string {
  const level = String(attributes.level ?? '');
  const time = typeof attributes.timestamp === 'string' ? attributes.timestamp.slice(11, 23) : '';
  const levelFormat = LEVEL_STYLE[level];
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (SAME_ON_EVERY_LINE.has(key)) continue;
    fields.push(`${key}=${formatValue(value)}`);
    if (isLoggedError(value) && value.stack) stacks.push(value.stack.replace(/^/gm, '    '));
  }
  const head = [time, levelFormat ? style(levelFormat, level.padEnd(5)) : level.padEnd(5), style('bold', String(attributes.message ?? ''))]
    .filter(Boolean)
    .join(' ');
  return [fields.length ? `${head}  ${fields.join(' ')}` : head, ...stacks].join('\n');
}
