/** Catch-ups' bookkeeping in the task table, one entry per catch-up key (shared/domain/catchup.ts). */
import type { Watermark } from '../domain/task';

export interface CatchupState {
  /** The last COMPLETED run; undefined before the first. */
  watermark?: Watermark;
  /** Runs that began and whose end is not noted yet; after a crash an ended one may linger, so check its task. */
  running: string[];
  /** Changes with every begin, so that two scheduled runs cannot both claim a free source. */
  version: number;
}

export interface CatchupLedger {
  get(key: string): Promise<CatchupState>;
  /** Notes a run as going (again on a redelivery: a no-op). */
  begin(key: string, taskId: string): Promise<void>;
  /**
   * Notes a scheduled run as the only one going, forgetting the ended ones, if the entry is still
   * at `version` (where its caller found every run in it ended); false when another began meanwhile.
   */
  claim(key: string, taskId: string, version: number): Promise<boolean>;
  /** A run ended: it is no longer going; a COMPLETED one's start becomes the watermark, unless a later one already is. */
  end(key: string, taskId: string, completed?: Watermark): Promise<void>;
}
