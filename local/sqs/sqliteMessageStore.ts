/**
 * Queues that survive the process: every queue's messages in one SQLite table (node:sqlite, the
 * database opened by the caller), each change of a message one statement, each receive, delete or
 * dead-letter move one transaction. A store opened again after a crash finds its messages as they
 * were, receive counts included; those that were in flight belonged to a consumer that is gone and
 * are visible again at once, and those hidden until a retry become visible when their time is up.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Message } from './message';
import type { MessageStore } from './messageStore';

type State = 'waiting' | 'in_flight' | 'hidden';

interface MessageRow {
  message_id: string;
  body: string;
  attributes: string;
  receive_count: number;
  sent_timestamp: number;
  first_receive_timestamp: number | null;
  dead_letter_source_arn: string | null;
  state: State;
  visible_at: number | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'in_flight', 'hidden')),
    -- Delivery order within the queue: set when a message becomes visible.
    position INTEGER NOT NULL,
    -- When a hidden message becomes visible again (ms since the epoch).
    visible_at INTEGER,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    sent_timestamp INTEGER NOT NULL,
    first_receive_timestamp INTEGER,
    dead_letter_source_arn TEXT,
    -- A message keeps its id in a dead-letter queue, as on SQS.
    PRIMARY KEY (queue, message_id)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, state, position);
`;

/** The queues of one database: opens a store per queue and runs transactions spanning them. */
export class SqliteQueueDatabase {
  private readonly stores: SqliteMessageStore[] = [];

  constructor(private readonly db: DatabaseSync) {
    db.exec(SCHEMA);
  }

  /** The store of one queue; its messages left in flight by a stopped process are visible again. */
  store(queueName: string, onVisible: () => void): SqliteMessageStore {
    const store = new SqliteMessageStore(this.db, queueName, onVisible, (change) => this.transaction(change));
    this.stores.push(store);
    return store;
  }

  /** One transaction; nested calls join the one already open. */
  transaction<T>(change: () => T): T {
    if (this.db.isTransaction) return change();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = change();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      // The counts kept in memory followed the statements that were just undone.
      for (const store of this.stores) store.recount();
      throw error;
    }
  }

  /** Clears every store's retry timers; the hidden messages stay hidden in the database. */
  close(): void {
    for (const store of this.stores) store.clearTimers();
  }
}

export class SqliteMessageStore implements MessageStore {
  /** Messages in flight when this store was opened, now visible again: their consumer had stopped. */
  readonly recovered: number;
  private readonly counts: Record<State, number> = { waiting: 0, in_flight: 0, hidden: 0 };
  private nextPosition: number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly sql: Record<
    'insert' | 'visible' | 'receive' | 'delete' | 'hide' | 'reveal' | 'revealAll' | 'handBack' | 'all' | 'hiddenRows' | 'count',
    StatementSync
  >;

  constructor(
    db: DatabaseSync,
    private readonly queue: string,
    private readonly onVisible: () => void,
    private readonly transaction: <T>(change: () => T) => T,
  ) {
    this.sql = {
      insert: db.prepare(
        `INSERT INTO messages (message_id, queue, state, position, body, attributes, receive_count, sent_timestamp,
           first_receive_timestamp, dead_letter_source_arn) VALUES (?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?)`,
      ),
      visible: db.prepare(`SELECT * FROM messages WHERE queue = ? AND state = 'waiting' ORDER BY position LIMIT ?`),
      receive: db.prepare(
        `UPDATE messages SET state = 'in_flight', receive_count = receive_count + 1,
           first_receive_timestamp = coalesce(first_receive_timestamp, ?) WHERE queue = ? AND message_id = ?`,
      ),
      delete: db.prepare(`DELETE FROM messages WHERE queue = ? AND message_id = ? AND state = 'in_flight'`),
      hide: db.prepare(`UPDATE messages SET state = 'hidden', visible_at = ? WHERE queue = ? AND message_id = ? AND state = 'in_flight'`),
      reveal: db.prepare(
        `UPDATE messages SET state = 'waiting', visible_at = NULL, position = ? WHERE queue = ? AND message_id = ? AND state = 'hidden'`,
      ),
      revealAll: db.prepare(`UPDATE messages SET state = 'waiting', visible_at = NULL WHERE queue = ? AND state = 'hidden'`),
      handBack: db.prepare(`UPDATE messages SET state = 'waiting' WHERE queue = ? AND state = 'in_flight'`),
      all: db.prepare(
        `SELECT * FROM messages WHERE queue = ?
           ORDER BY CASE state WHEN 'waiting' THEN 0 WHEN 'in_flight' THEN 1 ELSE 2 END, position`,
      ),
      hiddenRows: db.prepare(`SELECT message_id, visible_at FROM messages WHERE queue = ? AND state = 'hidden'`),
      count: db.prepare(`SELECT state, count(*) AS n, max(position) AS last FROM messages WHERE queue = ? GROUP BY state`),
    };
    // In flight in a process that is gone: SQS would wait out the visibility timeout; nobody will answer for them.
    this.recovered = Number(this.sql.handBack.run(queue).changes);
    this.nextPosition = this.recount() + 1;
    const now = Date.now();
    for (const row of this.sql.hiddenRows.all(queue) as { message_id: string; visible_at: number }[]) {
      this.revealLater([row.message_id], Math.max(0, row.visible_at - now));
    }
  }

  get waiting(): number {
    return this.counts.waiting;
  }

  get inFlight(): number {
    return this.counts.in_flight;
  }

  get hidden(): number {
    return this.counts.hidden;
  }

  add(message: Message): void {
    this.sql.insert.run(
      message.messageId,
      this.queue,
      this.nextPosition++,
      message.body,
      JSON.stringify(message.messageAttributes),
      message.receiveCount,
      message.sentTimestamp,
      message.firstReceiveTimestamp ?? null,
      message.deadLetterQueueSourceArn ?? null,
    );
    this.counts.waiting += 1;
  }

  receive(max: number, now: number): Message[] {
    return this.transaction(() => {
      const rows = this.sql.visible.all(this.queue, max) as unknown as MessageRow[];
      for (const row of rows) this.sql.receive.run(now, this.queue, row.message_id);
      this.move('waiting', 'in_flight', rows.length);
      return rows.map((row) => ({
        ...messageOf(row),
        receiveCount: row.receive_count + 1,
        firstReceiveTimestamp: row.first_receive_timestamp ?? now,
      }));
    });
  }

  delete(messages: Message[]): void {
    this.transaction(() => {
      const deleted = messages.reduce((sum, message) => sum + Number(this.sql.delete.run(this.queue, message.messageId).changes), 0);
      this.counts.in_flight -= deleted;
    });
  }

  hide(messages: Message[], delayMs: number): void {
    const visibleAt = Date.now() + delayMs;
    const hidden = this.transaction(() =>
      messages.filter((message) => this.sql.hide.run(visibleAt, this.queue, message.messageId).changes > 0),
    );
    this.move('in_flight', 'hidden', hidden.length);
    this.revealLater(
      hidden.map((message) => message.messageId),
      delayMs,
    );
  }

  revealHidden(): void {
    this.clearTimers();
    const revealed = Number(this.sql.revealAll.run(this.queue).changes);
    this.move('hidden', 'waiting', revealed);
  }

  handBack(): number {
    const handed = Number(this.sql.handBack.run(this.queue).changes);
    this.move('in_flight', 'waiting', handed);
    return handed;
  }

  list(): Message[] {
    return (this.sql.all.all(this.queue) as unknown as MessageRow[]).map(messageOf);
  }

  atomically<T>(change: () => T): T {
    return this.transaction(change);
  }

  /** Reads the counts again from the table (after a rollback); returns the last position used. */
  recount(): number {
    this.counts.waiting = this.counts.in_flight = this.counts.hidden = 0;
    let last = 0;
    for (const row of this.sql.count.all(this.queue) as { state: State; n: number; last: number }[]) {
      this.counts[row.state] = row.n;
      last = Math.max(last, row.last);
    }
    return last;
  }

  clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private revealLater(ids: string[], delayMs: number): void {
    if (ids.length === 0) return;
    const timer = setTimeout(() => {
      const revealed = this.transaction(() =>
        ids.reduce((sum, id) => {
          this.timers.delete(id);
          return sum + Number(this.sql.reveal.run(this.nextPosition++, this.queue, id).changes);
        }, 0),
      );
      this.move('hidden', 'waiting', revealed);
      this.onVisible();
    }, delayMs);
    for (const id of ids) this.timers.set(id, timer);
  }

  private move(from: State, to: State, count: number): void {
    this.counts[from] -= count;
    this.counts[to] += count;
  }
}

function messageOf(row: MessageRow): Message {
  return {
    messageId: row.message_id,
    body: row.body,
    messageAttributes: JSON.parse(row.attributes) as Record<string, string>,
    receiveCount: row.receive_count,
    sentTimestamp: row.sent_timestamp,
    ...(row.first_receive_timestamp === null ? {} : { firstReceiveTimestamp: row.first_receive_timestamp }),
    ...(row.dead_letter_source_arn ? { deadLetterQueueSourceArn: row.dead_letter_source_arn } : {}),
  };
}
