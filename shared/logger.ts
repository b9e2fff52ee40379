import { AsyncLocalStorage } from 'node:async_hooks';
import { styleText } from 'node:util';
import { Logger, LogLevelThreshold, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { redactSecrets } from './domain/redaction';
import { ConfigurationError } from './errors';
import { prettyLogLine } from './prettyLogLine';

/**
 * The keys of the work in hand (task_id, chunk_index, event_id…), per async context: the records of
 * one SQS batch are handled at once, so Powertools' appendKeys, one set per logger, would mix them.
 */
const workKeys = new AsyncLocalStorage<LogAttributes>();

/** Runs `work` with `keys` on every line logged within it, by any logger of createLogger, adapters' included; inner keys add to outer ones. */
export function withLogKeys<T>(keys: LogAttributes, work: () => Promise<T>): Promise<T> {
  return workKeys.run({ ...workKeys.getStore(), ...keys }, work);
}

/** Powertools' Logger whose every line carries the keys of the work in hand (a line's own attributes win). */
class WorkKeysLogger extends Logger {
  protected createAndPopulateLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): LogItem {
    const keys = workKeys.getStore();
    // Powertools reads each extra object, or an error or string, the same whichever the mix.
    return super.createAndPopulateLogItem(logLevel, input, keys ? ([keys, ...extraInput] as LogItemExtraInput) : extraInput);
  }

  protected createLogger(options?: ConstructorOptions): Logger {
    return new WorkKeysLogger(options);
  }
}

/** The same lines, each written as one line for people (prettyLogLine), coloured where the stream takes colour. */
class PrettyWorkKeysLogger extends WorkKeysLogger {
  protected printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    // Through the JSON replacer and back, so that the redaction and Powertools' error shape apply as on a JSON line.
    const attributes = JSON.parse(JSON.stringify(log.getAttributes(), this.getJsonReplacer())) as Record<string, unknown>;
    // WARN and above to stderr, as Powertools' own Console sends them.
    const stream = logLevel >= LogLevelThreshold.WARN ? process.stderr : process.stdout;
    stream.write(`${prettyLogLine(attributes, (format, text) => styleText(format, text, { stream }))}\n`);
  }

  protected createLogger(options?: ConstructorOptions): Logger {
    return new PrettyWorkKeysLogger(options);
  }
}

const LOG_FORMATS = ['json', 'pretty'] as const;

/**
 * Structured JSON logs (Powertools); the level comes from POWERTOOLS_LOG_LEVEL, and LOG_FORMAT
 * `pretty` writes each line for people instead (local mode on a terminal). Every string a line
 * carries, error messages, stacks and causes included, goes out with the known secrets
 * (`secrets()`: the keys read so far) and anything shaped like a credential redacted.
 */
export function createLogger(
  secrets: () => readonly (string | undefined)[] = () => [],
  serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'vectordb-catchup',
  format = process.env.LOG_FORMAT || 'json',
): Logger {
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigurationError(`LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}, not ${JSON.stringify(format)}`);
  }
  const Kind = format === 'pretty' ? PrettyWorkKeysLogger : WorkKeysLogger;
  return new Kind({
    serviceName,
    jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redactSecrets(value, secrets()) : value),
  });
}

export type { Logger };
