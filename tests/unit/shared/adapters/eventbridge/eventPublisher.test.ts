/** PutEvents partial failures are resent, never dropped; batches never exceed 10 entries. */
import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createEventBridgePublisher } from '../../../../../shared/adapters/eventbridge/eventPublisher';
import { LocalEventBus } from '../../../../../local/eventBus';
import { ProviderUnavailableError } from '../../../../../shared/errors';
import type { BusEvent } from '../../../../../shared/ports';
import { recordingLogger } from '../../../../helpers/fakes';

function busClient(bus: LocalEventBus, calls: number[]): EventBridgeClient {
  return {
    send: async (command: PutEventsCommand) => {
      calls.push(command.input.Entries?.length ?? 0);
      return bus.putEvents(command.input);
    },
  } as unknown as EventBridgeClient;
}

const events = (count: number): BusEvent[] =>
  Array.from({ length: count }, (_, i) => ({ detailType: 'Thing', source: 'test', detail: { i } }));

describe('EventBridge publisher', () => {
  it('sends at most 10 entries per call and resends exactly the failed entries', async () => {
    const bus = new LocalEventBus();
    const calls: number[] = [];
    bus.failNextEntries(3);
    await createEventBridgePublisher(busClient(bus, calls), 'bus', { sleep: async () => undefined }).publish(events(23));
    expect(calls).toEqual([10, 3, 10, 3]);
    expect(
      bus
        .published()
        .map((event) => (event.detail as { i: number }).i)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('gives up with the error codes after its attempts, rather than reporting success', async () => {
    const bus = new LocalEventBus();
    bus.failNextEntries(1000);
    const logger = recordingLogger();
    const publisher = createEventBridgePublisher(busClient(bus, []), 'bus', { maxAttempts: 3, sleep: async () => undefined, logger });
    const publishing = publisher.publish(events(2));
    await expect(publishing).rejects.toThrow('EventBridge rejected 2 event(s) after 3 attempts (InternalFailure)');
    await expect(publishing).rejects.toBeInstanceOf(ProviderUnavailableError);
    // One WARN line per resend; the last failure is the caller's to report.
    expect(logger.entries).toEqual(
      [1, 2].map((attempt) => ({
        level: 'warn',
        message: 'EventBridge PutEvents failed; retrying',
        extra: [
          expect.objectContaining({
            attempt,
            attempts: 3,
            reason: `EventBridge rejected 2 event(s) after ${attempt} attempts (InternalFailure)`,
          }),
        ],
      })),
    );
  });
});
