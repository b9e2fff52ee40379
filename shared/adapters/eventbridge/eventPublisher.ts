/**
 * Publishes to the EventBridge bus in batches of 10 (the PutEvents limit). A 200 answer can still
 * reject some entries (FailedEntryCount): those are resent with backoff, never dropped.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEvent, EventPublisher, Logger } from '../../ports';
import { ProviderUnavailableError } from '../../errors';
import { retry, warnBeforeRetry } from '../retry';

const MAX_ENTRIES_PER_CALL = 10;

/** Eight attempts, backing off from 100 ms to at most 5 s: rejected entries get up to 11.3 s of waiting to pass. */
const EVENTBRIDGE_RETRY = { attempts: 8, baseMs: 100, capMs: 5_000 } as const;

export interface PublisherOptions {
  /** Attempts per batch, the first included (default `EVENTBRIDGE_RETRY.attempts`). */
  maxAttempts?: number;
  /** First backoff (default `EVENTBRIDGE_RETRY.baseMs`). */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Where a batch about to be sent again for its rejected entries is one WARN line. */
  logger?: Pick<Logger, 'warn'>;
}

export function createEventBridgePublisher(client: EventBridgeClient, busName: string, options: PublisherOptions = {}): EventPublisher {
  const { sleep, logger } = options;
  const budget = {
    ...EVENTBRIDGE_RETRY,
    attempts: options.maxAttempts ?? EVENTBRIDGE_RETRY.attempts,
    baseMs: options.baseDelayMs ?? EVENTBRIDGE_RETRY.baseMs,
  };

  async function putBatch(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    // Only rejected entries are retried: an error the client throws (after its own retries) goes up as it is.
    await retry(
      async (attempt) => {
        const output = await client.send(new PutEventsCommand({ Entries: pending }));
        if (!output.FailedEntryCount) return;
        // Entries come back in request order; the failed ones carry an ErrorCode.
        const codes = [...new Set(output.Entries?.map((entry) => entry.ErrorCode).filter(Boolean))].join(', ');
        pending = pending.filter((_, i) => output.Entries?.[i]?.ErrorCode);
        throw new ProviderUnavailableError(`EventBridge rejected ${pending.length} event(s) after ${attempt} attempts (${codes})`, {
          provider: 'eventbridge',
          code: codes,
          attempts: attempt,
        });
      },
      budget,
      { retryable: (error) => error instanceof ProviderUnavailableError, sleep, onRetry: warnBeforeRetry(logger, 'EventBridge PutEvents') },
    );
  }

  return {
    async publish(events: BusEvent[]) {
      const entries = events.map((event) => ({
        EventBusName: busName,
        Source: event.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
      }));
      for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_CALL) await putBatch(entries.slice(i, i + MAX_ENTRIES_PER_CALL));
    },
  };
}
