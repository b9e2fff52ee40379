/**
 * The local state machines' running executions, kept in SQLite so that a restart resumes them:
 * each execution's name, its input (for the status-change event) and its checkpoint, the input
 * its start state was last entered with. The large-CSV loop re-enters its start state once per
 * segment, so a resumed execution re-plans at most the segment it was in.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

export interface JournaledExecution {
  name: string;
  input: unknown;
  checkpoint: unknown;
}

export interface ExecutionJournal {
  /** Notes the execution as running from `checkpoint` (its input when it starts). */
  record(execution: JournaledExecution): void;
  /** Moves its checkpoint on, as its start state is entered again. */
  checkpoint(name: string, checkpoint: unknown): void;
  /** It has ended and its end was announced: nothing to resume. */
  remove(name: string): void;
  /** Executions running when the last process stopped, oldest first. */
  pending(): JournaledExecution[];
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS executions (
    machine TEXT NOT NULL,
    name TEXT NOT NULL,
    input TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    started INTEGER NOT NULL,
    PRIMARY KEY (machine, name)
  ) STRICT;
`;

export class SqliteExecutionJournal implements ExecutionJournal {
  private readonly sql: Record<'record' | 'checkpoint' | 'remove' | 'pending', StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly machine: string,
  ) {
    db.exec(SCHEMA);
    this.sql = {
      record: db.prepare(`INSERT OR REPLACE INTO executions (machine, name, input, checkpoint, started) VALUES (?, ?, ?, ?, ?)`),
      checkpoint: db.prepare(`UPDATE executions SET checkpoint = ? WHERE machine = ? AND name = ?`),
      remove: db.prepare(`DELETE FROM executions WHERE machine = ? AND name = ?`),
      pending: db.prepare(`SELECT name, input, checkpoint FROM executions WHERE machine = ? ORDER BY started, name`),
    };
  }

  record({ name, input, checkpoint }: JournaledExecution): void {
    this.sql.record.run(this.machine, name, JSON.stringify(input), JSON.stringify(checkpoint), Date.now());
  }

  checkpoint(name: string, checkpoint: unknown): void {
    this.sql.checkpoint.run(JSON.stringify(checkpoint), this.machine, name);
  }

  remove(name: string): void {
    this.sql.remove.run(this.machine, name);
  }

  pending(): JournaledExecution[] {
    return (this.sql.pending.all(this.machine) as { name: string; input: string; checkpoint: string }[]).map((row) => ({
      name: row.name,
      input: JSON.parse(row.input),
      checkpoint: JSON.parse(row.checkpoint),
    }));
  }
}
