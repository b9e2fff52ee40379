/** The Lambda function behind a queue: its handler, its settings and the context of one invocation. */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT } from './account';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** The event source mapping and function settings; a ConsumerWiring fits as it is. */
export interface ConsumerOptions {
  functionName: string;
  batchSize: number;
  maximumConcurrency: number;
  /** Function timeout in seconds (fractions allowed locally, for tests). */
  timeout: number;
  memorySize?: number;
}

/** The Lambda context of one local invocation (the local API uses it too). */
export function lambdaContext(region: string, options: Pick<ConsumerOptions, 'functionName' | 'memorySize'>, deadline: number): Context {
  const requestId = randomUUID();
  const unsupported = (): never => {
    throw new Error('callback-style context methods are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memorySize ?? 128),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
