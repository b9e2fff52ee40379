/** A full sync's bookkeeping in the task table: its place on the task item, and the pages it scanned. */
import type { SyncPhase, Task } from '../domain/task';

/** One scanned page of a dataset: the ids the run did not see, and where the next page starts. */
export interface SyncPage {
  unseenIds: string[];
  /** Rows of split records the run did not see: they go with their pieces, but are no vectors. */
  unseenRowIds?: string[];
  scanned: number;
  /** Absent on the last page. */
  cursor?: string;
}

export interface SyncStepPosition {
  phase: SyncPhase;
  page: number;
}

export interface SyncAdvance {
  scanned?: number;
  unseen?: number;
  deleted?: number;
  /** Replaces the sample of unseen ids. */
  sampleIds?: string[];
  /** Pages the scan found, set when it ends. */
  pages?: number;
  skippedReason?: string;
}

export interface SyncLedger {
  /** Starts the sync of a RUNNING task once; the task as begun, or undefined when it had begun (or ended). */
  begin(taskId: string, now: Date): Promise<Task | undefined>;
  /** Ends a sync that never began (a run that read nothing), with the reason. */
  skip(taskId: string, reason: string, now: Date): Promise<void>;
  /** Stores a scanned page unless one is stored under its number; returns the one stored, so every retry sees the same page. */
  savePage(taskId: string, page: number, content: SyncPage, now: Date): Promise<SyncPage>;
  page(taskId: string, page: number): Promise<SyncPage | undefined>;
  /** Moves the sync from one step to the next, adding its counts, once; the task then, or undefined when that step was taken already. */
  advance(taskId: string, from: SyncStepPosition, to: SyncStepPosition, add: SyncAdvance, now: Date): Promise<Task | undefined>;
}
