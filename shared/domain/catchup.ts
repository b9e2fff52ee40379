/**
 * Catch-ups (`start_date=auto`, README › Scheduled catch-ups): which runs share a watermark, and
 * the date a run reads from. The watermark is when the last COMPLETED run of the same source,
 * namespace and dataset started; a catch-up reaches back CATCHUP_OVERLAP_DAYS before it, so that
 * rows dated on the day of that run (or late-arriving ones) are read again — unchanged ones cost
 * nothing (README › Keeping the index in step).
 */
import type { Config } from '../config';
import { dateDaysBefore } from './dates';
import { sourceIdentityOf, type StartDateBasis, type TaskRequest, type Watermark } from './task';

export const AUTO_START_DATE = 'auto';

/** Runs of one source into one namespace (and one dataset, when the request names it) share a watermark. */
export function catchupKeyOf(request: TaskRequest, namespace: string): string {
  return JSON.stringify([sourceIdentityOf(request), namespace, request.dataset ?? null]);
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

/** Why a scheduled run does not start: an earlier run of its source is still going. */
export function overlapWarning(schedule: string, running: { taskId: string; status: string }): string {
  return `scheduled run of "${schedule}" skipped: task ${running.taskId} of the same source is still ${running.status}`;
}
