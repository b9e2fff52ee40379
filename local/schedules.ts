/**
 * Scheduled catch-ups in local mode: each schedule publishes its TaskRequested on the bus at each
 * firing, as EventBridge Scheduler does on AWS (same schedules, same request, same task ids).
 * Firings missed while `npm start` was not running are not made up: the next one catches up from
 * the same watermark.
 */
import { firingRequest, nextFiring, type CatchupSchedule } from '../infra/catchupSchedules';
import type { Logger, PipelineEvents } from '../shared/ports';

export interface Clock {
  now(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Node timers hold at most 2^31-1 ms (~24.8 days): a later firing is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LocalSchedules {
  /** Each schedule's next firing, for the banner. */
  next(): { name: string; expression: string; at: Date | undefined }[];
  stop(): void;
}

export function startLocalSchedules(
  schedules: CatchupSchedule[],
  events: Pick<PipelineEvents, 'publish'>,
  logger: Pick<Logger, 'info' | 'error'>,
  clock: Clock = systemClock,
): LocalSchedules {
  const timers = new Map<string, unknown>();
  const due = new Map<string, Date | undefined>();
  let stopped = false;

  const arm = (schedule: CatchupSchedule, after: Date) => {
    const at = nextFiring(schedule.expression, after);
    due.set(schedule.name, at);
    if (!at || stopped) return;
    const wait = (until: Date) => {
      const ms = until.getTime() - clock.now().getTime();
      timers.set(
        schedule.name,
        clock.setTimeout(() => (ms > MAX_TIMER_MS ? wait(until) : fire(schedule, until)), Math.min(Math.max(ms, 0), MAX_TIMER_MS)),
      );
    };
    wait(at);
  };

  const fire = (schedule: CatchupSchedule, at: Date) => {
    if (stopped) return;
    // AWS's <aws.scheduler.scheduled-time>: whole seconds, UTC.
    const request = firingRequest(schedule, `${at.toISOString().slice(0, 19)}Z`);
    events.publish('TaskRequested', [request]).then(
      () => logger.info('scheduled catch-up requested', { schedule: schedule.name, taskId: request.taskId }),
      (error: Error) => logger.error('scheduled catch-up could not be requested', { schedule: schedule.name, error }),
    );
    arm(schedule, at);
  };

  for (const schedule of schedules) arm(schedule, clock.now());
  return {
    next: () => schedules.map(({ name, expression }) => ({ name, expression, at: due.get(name) })),
    stop() {
      stopped = true;
      for (const timer of timers.values()) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}
