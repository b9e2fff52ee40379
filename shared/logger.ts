import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { redactSecrets } from './domain/redaction';

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

/**
 * Structured JSON logs (Powertools); the level comes from POWERTOOLS_LOG_LEVEL. Every string a
 * line carries, error messages, stacks and causes included, goes out with the known secrets
 * (`secrets()`: the keys read so far) and anything shaped like a credential redacted.
 */
export function createLogger(
  secrets: () => readonly (string | undefined)[] = () => [],
  serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'vectordb-catchup',
): Logger {
  return new WorkKeysLogger({
    serviceName,
    jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redactSecrets(value, secrets()) : value),
  });
}

export type { Logger };
