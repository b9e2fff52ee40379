/** The DeadLetterSink port on a local dead-letter queue. */
import type { DeadLetterSink } from '../../shared/ports';
import type { LocalQueue } from './queue';

/** Writes a message that can never succeed straight to a dead-letter queue, with the reason. */
export class LocalDeadLetterSink implements DeadLetterSink {
  constructor(private readonly deadLetterQueue: LocalQueue) {}

  async send(body: string, reason: string): Promise<void> {
    this.deadLetterQueue.send(body, { reason });
  }
}
