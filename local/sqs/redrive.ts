/** What becomes of a batch once its invocation has settled: deleted, dead-lettered, or retried after a backoff. */
import type { Failures } from './batchItemFailures';
import type { Message } from './message';

/** 50 ms, doubling per receive, at most 5 s: retries stay quick locally yet back off. */
export function defaultRetryDelayMs(receiveCount: number): number {
  return Math.min(50 * 2 ** Math.max(0, receiveCount - 1), 5000);
}

export interface RedrivePolicy {
  /** Receives after which a failed message goes to the dead-letter queue; without it, it is retried forever, as on SQS. */
  maxReceiveCount?: number;
  /** How long a failed message stays hidden: the local stand-in for the visibility timeout. */
  retryDelayMs: (receiveCount: number) => number;
}

export interface Redrive {
  succeeded: Message[];
  deadLettered: Message[];
  /** The failed messages to retry, by how long each stays hidden. */
  retries: Map<number, Message[]>;
}

export function redrive(batch: Message[], failures: Failures, policy: RedrivePolicy): Redrive {
  const outcome: Redrive = { succeeded: [], deadLettered: [], retries: new Map() };
  for (const message of batch) {
    if (failures !== 'all' && !failures.has(message.messageId)) {
      outcome.succeeded.push(message);
      continue;
    }
    if (policy.maxReceiveCount !== undefined && message.receiveCount >= policy.maxReceiveCount) {
      // SQS moves it on the next receive attempt; moving it now only skips a pointless wait.
      outcome.deadLettered.push(message);
      continue;
    }
    const delay = policy.retryDelayMs(message.receiveCount);
    outcome.retries.set(delay, [...(outcome.retries.get(delay) ?? []), message]);
  }
  return outcome;
}
