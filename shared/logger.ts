import { Logger } from '@aws-lambda-powertools/logger';
import { redactSecrets } from './domain/redaction';

/**
 * Structured JSON logs (Powertools); the level comes from POWERTOOLS_LOG_LEVEL. Every string a
 * line carries, error messages, stacks and causes included, goes out with the known secrets
 * (`secrets()`: the keys read so far) and anything shaped like a credential redacted.
 */
export function createLogger(
  secrets: () => readonly (string | undefined)[] = () => [],
  serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'vectordb-catchup',
): Logger {
  return new Logger({
    serviceName,
    jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redactSecrets(value, secrets()) : value),
  });
}

export type { Logger };
