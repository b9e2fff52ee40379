/**
 * What local mode's in-process services hold, kept on disk so that `npm start` survives a crash:
 * the queues' messages and the state machines' running executions, in one SQLite file
 * (node:sqlite) under the data directory. WAL with synchronous=FULL: every transaction is on the
 * disk before it returns, so neither a SIGKILL nor a power cut loses a message that was sent.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteExecutionJournal, type ExecutionJournal } from './executionJournal';
import { SqliteQueueDatabase, type MessageStore } from './sqs';

export const DURABLE_STATE_FILE = 'runtime.sqlite';

export interface DurableState {
  file: string;
  messageStore(queueName: string, onVisible: () => void): MessageStore;
  executionJournal(machineName: string): ExecutionJournal;
  /** One transaction over every queue: what `change` sends, receives or deletes is kept whole or not at all. */
  atomically<T>(change: () => T): T;
  /** Queues that had messages in flight when the last process stopped, and how many (now visible again). */
  recoveredInFlight(): { queue: string; messages: number }[];
  close(): void;
}

/** synchronous: FULL, unless a benchmark weighs NORMAL (safe from a crash of the process, not from a power cut). */
export function openDurableState(dataDir: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}): DurableState {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, DURABLE_STATE_FILE);
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'};`);
  const queues = new SqliteQueueDatabase(db);
  const recovered: { queue: string; messages: number }[] = [];
  return {
    file,
    messageStore(queueName, onVisible) {
      const store = queues.store(queueName, onVisible);
      if (store.recovered > 0) recovered.push({ queue: queueName, messages: store.recovered });
      return store;
    },
    executionJournal: (machineName) => new SqliteExecutionJournal(db, machineName),
    atomically: (change) => queues.transaction(change),
    recoveredInFlight: () => [...recovered],
    close() {
      queues.close();
      db.close();
    },
  };
}
