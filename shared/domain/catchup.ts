/**
 * Catch-ups (`start_date=auto`, README › Scheduled catch-ups): which runs share a watermark, and
 * the date a run reads from. The watermark is when the last COMPLETED run of the same source,
 * namespace and dataset started; a catch-up reaches back CATCHUP_OVERLAP_DAYS before it, so that
 * rows dated on the day of that run (or late-arriving ones) are read again — unchanged ones cost
 * nothing (README › Keeping the index in step).
 */
import type { Config } from '../config';
import { dateDaysBefore } from './dates';
import { datasetOf, sourceIdentityOf, type StartDateBasis, type TaskRequest, type Watermark } from './task';

export const AUTO_START_DATE = 'auto';

/** Runs of one source into one namespace (and one dataset, when the request names it) share a watermark. */
export function catchupKeyOf(request: TaskRequest, namespace: string): string {
  return JSON.stringify([sourceIdentityOf(request), namespace, request.dataset ?? null]);
}

/**
 * Full syncs that write (not dry runs) of one dataset in one namespace, whatever their source, go
 * one at a time: two at once would each delete what only the other saw. They claim this entry.
 */
export function fullSyncKeyOf(request: TaskRequest, namespace: string): string | undefined {
  if (request.sync !== 'full' || request.dryRun) return undefined;
  return JSON.stringify(['full-sync', namespace, datasetOf(request)]);
}

export function isAutoStartDate(request: Pick<TaskRequest, 'startDate'>): boolean {
  return request.startDate === AUTO_START_DATE;
}

/** The start date of a catch-up: undefined reads the whole source. */
export function resolveAutoStartDate(
  watermark: Watermark | undefined,
  settings: Config['catchup'],
): { startDate?: string; basis: StartDateBasis } {
  const { overlapDays, initialStartDate } = settings;
  if (watermark)
    return { startDate: dateDaysBefore(watermark.startedAt, overlapDays), basis: { from: 'watermark', watermark, overlapDays } };
  if (initialStartDate) return { startDate: initialStartDate, basis: { from: 'initial', overlapDays } };
  return { basis: { from: 'none', overlapDays } };
}

/** Why a full sync does not start: another one of its dataset is still going. */
export function fullSyncOverlapWarning(request: TaskRequest, namespace: string, running: { taskId: string; status: string }): string {
  return (
    `full sync of dataset "${datasetOf(request)}" in namespace "${namespace}" not started: task ${running.taskId}, ` +
    `a full sync of the same dataset, is still ${running.status}; run it again once that one has ended`
  );
}

/** Why a scheduled run does not start: an earlier run of its source is still going. */
export function overlapWarning(schedule: string, running: { taskId: string; status: string }): string {
  return `scheduled run of "${schedule}" skipped: task ${running.taskId} of the same source is still ${running.status}`;
}
