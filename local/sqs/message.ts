/** What SendMessage accepts, and what a queue keeps of each message. */
import { randomUUID } from 'node:crypto';

/** Largest SQS message (body plus attributes) since 2026-01-29. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A message as it sits in a queue, for inspection (a DLQ's contents, say). */
export interface StoredMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, string>;
  receiveCount: number;
  sentTimestamp: number;
  /** Set on messages moved here by a redrive policy. */
  deadLetterQueueSourceArn?: string;
}

export interface Message extends StoredMessage {
  firstReceiveTimestamp?: number;
}

/** A new message, or an error naming the queue: the body must be non-empty and fit MAX_MESSAGE_BYTES with its attributes. */
export function newMessage(queueName: string, body: string, attributes: Record<string, string>): Message {
  if (typeof body !== 'string' || body.length === 0) {
    throw new Error(`${queueName}: message body must be a non-empty string`);
  }
  const size = [body, ...Object.entries(attributes).flatMap(([name, value]) => [name, 'String', value])].reduce(
    (sum, text) => sum + Buffer.byteLength(text, 'utf8'),
    0,
  );
  if (size > MAX_MESSAGE_BYTES) {
    throw new Error(`${queueName}: message is ${size} bytes; SQS accepts at most ${MAX_MESSAGE_BYTES}`);
  }
  return { messageId: randomUUID(), body, messageAttributes: { ...attributes }, receiveCount: 0, sentTimestamp: Date.now() };
}

/** A copy to hand out, so inspecting a queue cannot change it. */
export function snapshot(message: Message): StoredMessage {
  return {
    messageId: message.messageId,
    body: message.body,
    messageAttributes: { ...message.messageAttributes },
    receiveCount: message.receiveCount,
    sentTimestamp: message.sentTimestamp,
    ...(message.deadLetterQueueSourceArn ? { deadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
  };
}
