/** Local catch-up schedules, on a virtual clock: each firing publishes the schedule's TaskRequested, then the next is armed. */
import { loadCatchupSchedules } from '../../../infra/catchupSchedules';
import { startLocalSchedules, type Clock } from '../../../local/schedules';
import { recordingEvents, silentLogger, detailsOf } from '../../helpers/fakes';

/** Timers that run only when the test moves time on. */
function virtualClock(start: string): Clock & { advance(ms: number): Promise<void>; pending(): number } {
  let now = Date.parse(start);
  let timers: { at: number; callback: () => void; id: number }[] = [];
  let ids = 0;
  return {
    now: () => new Date(now),
    setTimeout(callback, ms) {
      ids += 1;
      timers.push({ at: now + ms, callback, id: ids });
      return ids;
    },
    clearTimeout(id) {
      timers = timers.filter((timer) => timer.id !== id);
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers = timers.filter((timer) => timer !== next);
        now = next.at;
        next.callback();
        await Promise.resolve();
      }
      now = until;
    },
    pending: () => timers.length,
  };
}

const schedules = loadCatchupSchedules({ env: { METABASE_QUESTION_ID: '42', CATCHUP_SCHEDULE: 'cron(0 3 * * ? *)' }, stage: 'none' });

describe('startLocalSchedules', () => {
  it('publishes a scheduled catch-up at each firing, named after its scheduled time', async () => {
    const clock = virtualClock('2026-12-01T21:30:00.000Z');
    const events = recordingEvents();
    const local = startLocalSchedules(schedules, events, silentLogger, clock);
    expect(local.next()).toEqual([{ name: 'catchup', expression: 'cron(0 3 * * ? *)', at: new Date('2026-12-02T03:00:00.000Z') }]);

    await clock.advance(5.5 * 3600 * 1000 - 1);
    expect(detailsOf(events.published, 'TaskRequested')).toEqual([]);
    await clock.advance(1);
    await clock.advance(24 * 3600 * 1000);
    expect(detailsOf(events.published, 'TaskRequested')).toEqual([
      expect.objectContaining({ taskId: 'schedule-catchup-2026-12-02T03:00:00Z', startDate: 'auto', schedule: 'catchup' }),
      expect.objectContaining({ taskId: 'schedule-catchup-2026-12-03T03:00:00Z', requestedAt: '2026-12-03T03:00:00Z' }),
    ]);
    local.stop();
    expect(clock.pending()).toBe(0);
  });

  it('reaches a firing further off than one timer holds, in steps', async () => {
    const clock = virtualClock('2026-12-01T00:00:00.000Z');
    const events = recordingEvents();
    const yearly = loadCatchupSchedules({ env: { METABASE_QUESTION_ID: '42', CATCHUP_SCHEDULE: 'cron(0 0 1 6 ? *)' }, stage: 'none' });
    startLocalSchedules(yearly, events, silentLogger, clock).next();
    await clock.advance(182 * 24 * 3600 * 1000);
    expect(detailsOf(events.published, 'TaskRequested').map((request) => request.taskId)).toEqual([
      'schedule-catchup-2027-06-01T00:00:00Z',
    ]);
  });

  it('publishes nothing once stopped', async () => {
    const clock = virtualClock('2026-12-01T21:30:00.000Z');
    const events = recordingEvents();
    startLocalSchedules(schedules, events, silentLogger, clock).stop();
    await clock.advance(48 * 3600 * 1000);
    expect(events.published).toEqual([]);
  });
});
