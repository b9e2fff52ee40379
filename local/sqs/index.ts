/**
 * An SQS queue (in memory, or in SQLite to outlive the process) feeding a Lambda-style handler
 * with the deployed semantics: batches of up to batchSize, at most maximumConcurrency invocations,
 * ReportBatchItemFailures, redelivery after a (shortened) visibility timeout, and a dead-letter
 * queue after maxReceiveCount receives.
 *
 *   queue.ts              LocalQueue: send, inspect, consume, stop; ties the parts below together
 *   message.ts            what SendMessage accepts, what a queue keeps of a message
 *   messageStore.ts       the messages waiting, in flight and hidden until a retry (in memory)
 *   sqliteMessageStore.ts the same in SQLite, surviving the process (npm start)
 *   poller.ts             the event source mapping: batches, concurrency, coalesced polls
 *   records.ts            the SQS event a handler gets
 *   lambda.ts             the handler, its settings and the Lambda context of an invocation
 *   invocation.ts         one invocation: the function timeout, a handler that throws
 *   batchItemFailures.ts  the handler's answer, read as ReportBatchItemFailures reads it
 *   redrive.ts            after an invocation: delete, dead-letter, or retry with backoff
 *   deadLetterSink.ts     the DeadLetterSink port on a local dead-letter queue
 *   idle.ts               waiting until queues have nothing left to do
 *   account.ts            the account and region in local ARNs
 */
export { DEFAULT_REGION, LOCAL_ACCOUNT } from './account';
export { LocalDeadLetterSink } from './deadLetterSink';
export { waitForIdle } from './idle';
export { lambdaContext, type ConsumerOptions, type SqsHandler } from './lambda';
export { MAX_MESSAGE_BYTES, type StoredMessage } from './message';
export type { MessageStore } from './messageStore';
export { LocalQueue, type LocalQueueOptions, type QueueStats, type QueueStopReport } from './queue';
export { SqliteMessageStore, SqliteQueueDatabase } from './sqliteMessageStore';
export { defaultRetryDelayMs } from './redrive';
