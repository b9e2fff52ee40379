/**
 * Publishes to the EventBridge bus in batches of 10 (the PutEvents limit). A 200 answer can still
 * reject some entries (FailedEntryCount): those are resent with backoff, never dropped.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEvent, EventPublisher } from '../../ports';
import { CatchupError } from '../../errors';

const MAX_ENTRIES_PER_CALL = 10;

export interface PublisherOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function createEventBridgePublisher(client: EventBridgeClient, busName: string, options: PublisherOptions = {}): EventPublisher {
  const { maxAttempts = 8, baseDelayMs = 100, sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)) } = options;

  async function putBatch(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; ; attempt += 1) {
      const output = await client.send(new PutEventsCommand({ Entries: pending }));
      if (!output.FailedEntryCount) return;
      // Entries come back in request order; the failed ones carry an ErrorCode.
      const failed = pending.filter((_, i) => output.Entries?.[i]?.ErrorCode);
      if (attempt >= maxAttempts) {
        const codes = [...new Set(output.Entries?.map((entry) => entry.ErrorCode).filter(Boolean))].join(', ');
        throw new CatchupError(`EventBridge rejected ${failed.length} event(s) after ${attempt} attempts (${codes})`);
      }
      pending = failed;
      await sleep(Math.min(5000, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
    }
  }

  return {
    async publish(events: BusEvent[]) {
      const entries = events.map((event) => ({ EventBusName: busName, Source: event.source, DetailType: event.detailType, Detail: JSON.stringify(event.detail) }));
      for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_CALL) await putBatch(entries.slice(i, i + MAX_ENTRIES_PER_CALL));
    },
  };
}
