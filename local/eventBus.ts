/**
 * An in-process EventBridge bus: rules with event patterns, each targeting a queue, and the event
 * envelope exactly as EventBridge writes it into an SQS message body.
 */
import { randomUUID } from 'node:crypto';
import type { PutEventsRequest, PutEventsResponse, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEvent } from 'aws-lambda';
import type { EventPattern, PatternValue } from '../infra/eventPatterns';
import type { BusEvent, EventPublisher } from '../shared/ports';
import { DEFAULT_REGION, LOCAL_ACCOUNT, MAX_MESSAGE_BYTES } from './sqs';

/** Largest PutEvents entry (and request) since 2026-01-29. */
export const MAX_ENTRY_BYTES = 1024 * 1024;
export const MAX_PUT_EVENTS_ENTRIES = 10;

/** What a rule delivers to its target: the SQS message body is this, as JSON. */
export type EventEnvelope = EventBridgeEvent<string, unknown>;

/** A rule target; LocalQueue is one. */
export interface RuleTarget {
  send(body: string): unknown;
}

/** Named like the SDK's error so callers can treat local and AWS rejections alike. */
export class EventBusValidationError extends Error {
  override name = 'ValidationException';
}

export interface LocalEventBusOptions {
  region?: string;
  now?: () => Date;
  /**
   * Runs the deliveries of one call together, whole or not at all (the durable queues'
   * transaction): one call's events survive a crash all or none, at one disk sync.
   */
  atomically?: <T>(deliver: () => T) => T;
}

interface Delivery {
  envelope: EventEnvelope;
  body: string;
  targets: RuleTarget[];
}

interface Entry {
  source: string;
  detailType: string;
  detailJson: string;
  time?: Date;
  resources: string[];
}

export class LocalEventBus implements EventPublisher {
  private readonly rules = new Map<string, { pattern: EventPattern; target: RuleTarget }>();
  private readonly accepted: EventEnvelope[] = [];
  private entriesToFail = 0;
  private readonly region: string;
  private readonly now: () => Date;
  private readonly atomically: <T>(deliver: () => T) => T;

  constructor(options: LocalEventBusOptions = {}) {
    this.region = options.region ?? DEFAULT_REGION;
    this.now = options.now ?? (() => new Date());
    this.atomically = options.atomically ?? ((deliver) => deliver());
  }

  addRule(name: string, pattern: EventPattern, target: RuleTarget): void {
    if (this.rules.has(name)) throw new Error(`rule ${name} already exists`);
    assertSupportedPattern(pattern);
    this.rules.set(name, { pattern, target });
  }

  /** The EventPublisher contract: every event is delivered, or nothing is and this throws. */
  async publish(events: BusEvent[]): Promise<void> {
    const entries = events.map((event) => {
      const { detail } = event;
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
        throw new EventBusValidationError(`detail of ${event.detailType} must be a JSON object`);
      }
      return checkedEntry({
        source: event.source,
        detailType: event.detailType,
        detailJson: JSON.stringify(detail),
        resources: [],
      });
    });
    const deliveries = entries.map((entry) => this.prepare(entry));
    this.atomically(() => deliveries.forEach((delivery) => this.commit(delivery)));
  }

  /**
   * PutEvents as the SDK sees it (at most 10 entries, partial failure in the answer), so the
   * EventBridge adapter can run against this bus through a client stub and its resend logic can
   * be tested with failNextEntries. Malformed entries throw instead of failing one by one.
   */
  async putEvents(request: PutEventsRequest): Promise<PutEventsResponse> {
    const input = request.Entries ?? [];
    if (input.length === 0 || input.length > MAX_PUT_EVENTS_ENTRIES) {
      throw new EventBusValidationError(`PutEvents takes 1 to ${MAX_PUT_EVENTS_ENTRIES} entries, got ${input.length}`);
    }
    const entries = input.map((raw, index) => {
      if (!raw.Source || !raw.DetailType || !raw.Detail) {
        throw new EventBusValidationError(`entry ${index} needs Source, DetailType and Detail`);
      }
      if (!isJsonObject(raw.Detail)) throw new EventBusValidationError(`entry ${index}: Detail is not a JSON object`);
      return checkedEntry({
        source: raw.Source,
        detailType: raw.DetailType,
        detailJson: raw.Detail,
        time: raw.Time,
        resources: raw.Resources ?? [],
      });
    });
    const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (total > MAX_ENTRY_BYTES) {
      throw new EventBusValidationError(`Total size of the entries in the request is over the limit (${total} bytes)`);
    }
    // Injected failures hit the first entries of the call; the rest are delivered.
    const failing = Math.min(this.entriesToFail, entries.length);
    const deliveries = entries.slice(failing).map((entry) => this.prepare(entry));
    this.entriesToFail -= failing;
    this.atomically(() => deliveries.forEach((delivery) => this.commit(delivery)));
    const results: PutEventsResultEntry[] = [
      ...entries.slice(0, failing).map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'Injected by LocalEventBus.failNextEntries' })),
      ...deliveries.map((delivery) => ({ EventId: delivery.envelope.id })),
    ];
    return { FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
  }

  /** Fault hook: the next `count` entries given to putEvents fail (publish is never affected). */
  failNextEntries(count: number): void {
    this.entriesToFail = count;
  }

  /** Every event the bus accepted, routed or not (the stand-in for an archive). */
  published(): EventEnvelope[] {
    return [...this.accepted];
  }

  /**
   * Builds the envelope and finds the targets without side effects, so that a call can be
   * checked whole before any of it is delivered.
   */
  private prepare(entry: Entry): Delivery {
    const envelope: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: LOCAL_ACCOUNT,
      time: (entry.time ?? this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: entry.resources,
      detail: JSON.parse(entry.detailJson),
    };
    const body = JSON.stringify(envelope);
    const targets = [...this.rules.values()].filter(({ pattern }) => matchesPattern(pattern, envelope)).map(({ target }) => target);
    const size = Buffer.byteLength(body, 'utf8');
    // EventBridge would accept this and then fail to deliver it to the queue, losing it quietly
    // (or into a target DLQ); refusing it here makes that loss visible.
    if (targets.length > 0 && size > MAX_MESSAGE_BYTES) {
      throw new EventBusValidationError(
        `${entry.detailType} event is ${size} bytes as an SQS message body; SQS accepts at most ${MAX_MESSAGE_BYTES}`,
      );
    }
    return { envelope, body, targets };
  }

  private commit({ envelope, body, targets }: Delivery): void {
    this.accepted.push(envelope);
    for (const target of targets) target.send(body);
  }
}

/** The part of EventBridge pattern matching we use: exact JSON values and `prefix`, nested. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) =>
    Array.isArray(expected) ? matchesValues(expected, fields[key]) : matchesPattern(expected, fields[key]),
  );
}

/** Rejects patterns using operators this bus does not implement, instead of mis-matching. */
export function assertSupportedPattern(pattern: EventPattern, path = ''): void {
  if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern) || Object.keys(pattern).length === 0) {
    throw new EventBusValidationError(`event pattern ${path || '(top level)'} must be a non-empty object`);
  }
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (!Array.isArray(value)) {
      assertSupportedPattern(value, at);
      continue;
    }
    if (value.length === 0) throw new EventBusValidationError(`event pattern ${at} is an empty list`);
    for (const matcher of value) {
      if (matcher !== null && typeof matcher === 'object' && !isPrefixMatcher(matcher)) {
        throw new EventBusValidationError(`event pattern ${at}: unsupported matcher ${JSON.stringify(matcher)}`);
      }
    }
  }
}

function matchesValues(expected: PatternValue[], actual: unknown): boolean {
  if (actual === undefined) return false;
  // An array field matches when any of its elements does.
  const candidates = Array.isArray(actual) ? actual : [actual];
  return candidates.some((candidate) =>
    expected.some((matcher) =>
      matcher !== null && typeof matcher === 'object'
        ? typeof candidate === 'string' && candidate.startsWith(matcher.prefix)
        : matcher === candidate,
    ),
  );
}

function isPrefixMatcher(matcher: object): boolean {
  const keys = Object.keys(matcher);
  return keys.length === 1 && keys[0] === 'prefix' && typeof (matcher as { prefix: unknown }).prefix === 'string';
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

function checkedEntry(entry: Entry): Entry {
  if (!entry.source || !entry.detailType) throw new EventBusValidationError('an event needs a source and a detail-type');
  const size = entrySize(entry);
  if (size > MAX_ENTRY_BYTES) {
    throw new EventBusValidationError(
      `${entry.detailType} event is ${size} bytes; EventBridge accepts at most ${MAX_ENTRY_BYTES} per entry`,
    );
  }
  return entry;
}

/** EventBridge's entry size: 14 bytes for an explicit Time, plus the UTF-8 of the other fields. */
function entrySize(entry: Entry): number {
  const texts = [entry.source, entry.detailType, entry.detailJson, ...entry.resources];
  return (entry.time ? 14 : 0) + texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
}
