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
  /** Each job's next run, for the banner. */
  next(): { name: string; expression: string; at: Date | undefined }[];
  stop(): void;
}

/** Something run at each time a schedule expression names; `at` is the firing's scheduled time. */
export interface TimedJob {
  name: string;
  expression: string;
  run(at: Date): Promise<unknown>;
}

/** Runs each job at its expression's times (a rate counts from now), until stopped; a run's failure is logged, the next run still comes. */
export function startTimers(jobs: TimedJob[], logger: Pick<Logger, 'error'>, clock: Clock = systemClock): LocalSchedules {
  const timers = new Map<string, unknown>();
  const due = new Map<string, Date | undefined>();
  let stopped = false;

  const arm = (job: TimedJob, after: Date) => {
    const at = nextFiring(job.expression, after);
    due.set(job.name, at);
    if (!at || stopped) return;
    const wait = (until: Date) => {
      const ms = until.getTime() - clock.now().getTime();
      timers.set(
        job.name,
        clock.setTimeout(() => (ms > MAX_TIMER_MS ? wait(until) : fire(job, until)), Math.min(Math.max(ms, 0), MAX_TIMER_MS)),
      );
    };
    wait(at);
  };

  const fire = (job: TimedJob, at: Date) => {
    if (stopped) return;
    job.run(at).catch((error: Error) => logger.error('scheduled run failed', { job: job.name, error }));
    arm(job, at);
  };

  for (const job of jobs) arm(job, clock.now());
  return {
    next: () => jobs.map(({ name, expression }) => ({ name, expression, at: due.get(name) })),
    stop() {
      stopped = true;
      for (const timer of timers.values()) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}

/** The catch-up schedules: each firing publishes its TaskRequested, as EventBridge Scheduler does. */
export function startLocalSchedules(
  schedules: CatchupSchedule[],
  events: Pick<PipelineEvents, 'publish'>,
  logger: Pick<Logger, 'info' | 'error'>,
  clock: Clock = systemClock,
): LocalSchedules {
  const jobs = schedules.map((schedule): TimedJob => ({
    name: schedule.name,
    expression: schedule.expression,
    async run(at) {
      // AWS's <aws.scheduler.scheduled-time>: whole seconds, UTC.
      const request = firingRequest(schedule, `${at.toISOString().slice(0, 19)}Z`);
      await events.publish('TaskRequested', [request]);
      logger.info('scheduled catch-up requested', { schedule: schedule.name, task_id: request.taskId });
    },
  }));
  return startTimers(jobs, logger, clock);
}
