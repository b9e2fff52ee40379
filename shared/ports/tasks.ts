/** The task table: each task's state and exact counts (DynamoDB, dynalite locally). */
import type { StartDateBasis, Task, TerminalStatus } from '../domain/task';
import type { ChunkEmbedded } from '../events/types';
import type { RecordedChunk } from './taskQueries';

export type NewTask = Pick<Task, 'taskId' | 'dataSource' | 'namespace' | 'request'>;

export interface ChunkRecordResult {
  /** False when this chunk had already been counted (a duplicate delivery). */
  applied: boolean;
  task: Task;
}

export interface TaskRepository {
  /** Creates the task unless one with its id exists; `created` tells which. */
  create(task: NewTask, now: Date): Promise<{ created: boolean; task: Task }>;
  get(taskId: string, options?: { consistent?: boolean }): Promise<Task | undefined>;
  /** PENDING → RUNNING. Returns the task if it may run (also when already RUNNING), else undefined. */
  start(taskId: string, now: Date): Promise<Task | undefined>;
  /**
   * Settles a start_date=auto request's date on the task's request, once: a redelivered planning
   * reads the date the first one settled. Returns the task as it is after.
   */
  settleStartDate(taskId: string, startDate: string | undefined, basis: StartDateBasis, now: Date): Promise<Task>;
  /**
   * Counts one sweep of a stuck task, only if it is as the sweeper read it (no progress, no other
   * sweep since: same updatedAt and sweep count); false when something moved meanwhile.
   */
  noteSweep(taskId: string, seen: Pick<Task, 'updatedAt' | 'sweeps'>, now: Date): Promise<boolean>;
  /**
   * A retry of a PARTIAL or FAILED task at `attempt` (what its caller read): RUNNING again as
   * attempt + 1, the given chunks' counts taken out (each is counted again when it is recorded by
   * the retry), its errors cleared, completion to be announced again. Undefined when the task was
   * no longer as read.
   */
  reopen(taskId: string, attempt: number, chunks: RecordedChunk[], now: Date): Promise<Task | undefined>;
  /** Records the planner's totals once; later calls return the task unchanged. */
  completePlan(taskId: string, totals: { records: number; chunks: number }, now: Date): Promise<Task>;
  /** Whether a chunk's result has been stored (its counts are then in, or about to be). */
  isChunkRecorded(taskId: string, chunkIndex: number, attempt?: number): Promise<boolean>;
  /** Adds one chunk's counts exactly once. */
  recordChunk(result: ChunkEmbedded, now: Date): Promise<ChunkRecordResult>;
  /** RUNNING/PENDING → a terminal status, once. Returns the task if this call made the change. */
  finish(taskId: string, status: TerminalStatus, now: Date, error?: string): Promise<Task | undefined>;
  markCompletionAnnounced(taskId: string): Promise<void>;
  /** Adds a task-level warning unless the task already has it (a redelivery notes it again). */
  addWarning(taskId: string, warning: string, now: Date): Promise<void>;
}
