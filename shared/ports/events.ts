/** The event bus (EventBridge, the in-process bus locally) and the dead-letter queues. */
import type { EventName } from '../../events-schema';
import type { EventDetails } from '../events/types';

/** An event as the bus carries it: detail-type, source and the JSON detail. */
export interface BusEvent<T = unknown> {
  detailType: string;
  source: string;
  detail: T;
}

/** The bus itself, as its adapters speak it: any detail-type, any source. */
export interface EventPublisher {
  /** Publishes all events or throws; entries the bus rejects are resent, never dropped. */
  publish(events: BusEvent[]): Promise<void>;
}

/**
 * What the use cases publish: the pipeline's own events, typed by their contracts
 * (events-schema/), so a producer that disagrees with its schema does not compile, and validated
 * before they leave, so one that slips through fails the producer and not the next consumer.
 */
export interface PipelineEvents {
  publish<N extends EventName>(name: N, details: readonly EventDetails[N][]): Promise<void>;
}

/** Where a consumer puts a message that must not be retried (it can never be valid). */
export interface DeadLetterSink {
  send(body: string, reason: string): Promise<void>;
}
