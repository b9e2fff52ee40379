import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools); the level comes from POWERTOOLS_LOG_LEVEL. */
export function createLogger(serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'vectordb-catchup'): Logger {
  return new Logger({ serviceName });
}

export type { Logger };
