/**
 * An SQS consumer of one event type routed by EventBridge: each message is an EventBridge
 * envelope whose detail is validated against the event's JSON Schema (events-schema/). Invalid
 * events go to the dead-letter queue (see sqsConsumer.ts); `onInvalid` gets the raw detail, so
 * that the task an invalid internal event names can still be ended by its caller. Every line
 * logged while an event is handled carries its `event_id`, and the `task_id` and `chunk_index`
 * its detail names.
 */
import type { EventName } from '../../events-schema';
import { InvalidEventError, InvalidMessageError } from '../errors';
import type { EventDetails } from '../events/types';
import { validateEvent } from '../events/validate';
import type { ConsumerContextProvider, Dependencies } from '../ports';
import { createSqsConsumer, type SqsHandler } from './sqsConsumer';

/** What the envelope says besides the detail. */
export interface EventMeta {
  /** EventBridge's id of the event: the same on every delivery of it. */
  eventId: string;
  source: string;
}

export interface EventConsumerOptions<N extends EventName> {
  eventName: N;
  handle: (detail: EventDetails[N], deps: Dependencies, meta: EventMeta) => Promise<void>;
  /** Called with the envelope's raw detail before an invalid event moves to the DLQ. */
  onInvalid?: (detail: unknown, error: InvalidMessageError, deps: Dependencies) => Promise<unknown>;
  /** Called when the last allowed attempt fails, before the message moves to the DLQ. */
  onFinalFailure?: (detail: EventDetails[N], error: Error, deps: Dependencies, meta: EventMeta) => Promise<unknown>;
}

interface ParsedEvent<N extends EventName> {
  detail: EventDetails[N];
  meta: EventMeta;
}

export function createEventConsumer<N extends EventName>(options: EventConsumerOptions<N>, provide: ConsumerContextProvider): SqsHandler {
  const { eventName, handle, onInvalid, onFinalFailure } = options;
  return createSqsConsumer<ParsedEvent<N>>(
    {
      name: eventName,
      parse: (body) => parseEnvelope(body, eventName),
      label: ({ meta }) => `${eventName} ${meta.eventId}`,
      logKeys: ({ detail, meta }) => eventLogKeys(detail, meta),
      handle: ({ detail, meta }, deps) => handle(detail, deps, meta),
      onInvalid: onInvalid && ((body, error, deps) => onInvalid(rawDetail(body), error, deps)),
      onFinalFailure: onFinalFailure && (({ detail, meta }, error, deps) => onFinalFailure(detail, error, deps, meta)),
    },
    provide,
  );
}

function parseEnvelope<N extends EventName>(body: string, eventName: N): ParsedEvent<N> {
  let envelope: { 'detail-type'?: unknown; detail?: unknown; id?: unknown; source?: unknown };
  try {
    envelope = JSON.parse(body);
  } catch {
    throw new InvalidEventError(`${eventName} message is not JSON`, eventName, ['(body) is not JSON']);
  }
  if (envelope?.['detail-type'] !== eventName) {
    const got = JSON.stringify(envelope?.['detail-type']);
    throw new InvalidEventError(`expected a ${eventName} event, got detail-type ${got}`, eventName, ['/detail-type is wrong']);
  }
  const meta = { eventId: String(envelope.id ?? ''), source: String(envelope.source ?? '') };
  return { detail: validateEvent(eventName, envelope.detail), meta };
}

/** The event's id, and the task and chunk its detail names, when it names them. */
function eventLogKeys(detail: object, meta: EventMeta): Record<string, unknown> {
  const { taskId, chunkIndex } = detail as { taskId?: unknown; chunkIndex?: unknown };
  return {
    event_id: meta.eventId,
    ...(taskId !== undefined ? { task_id: taskId } : {}),
    ...(chunkIndex !== undefined ? { chunk_index: chunkIndex } : {}),
  };
}

function rawDetail(body: string): unknown {
  try {
    return JSON.parse(body)?.detail;
  } catch {
    return undefined;
  }
}
