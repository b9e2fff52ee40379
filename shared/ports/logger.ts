import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';

/** Structured logs (Powertools' Logger on Lambda and locally); the few methods the code uses. */
export type Logger = Pick<PowertoolsLogger, 'debug' | 'info' | 'warn' | 'error'>;
