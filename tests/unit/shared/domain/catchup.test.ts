/** Catch-ups: which runs share a watermark, and the date a catch-up reads from. */
import { catchupKeyOf, resolveAutoStartDate } from '../../../../shared/domain/catchup';
import type { TaskRequest } from '../../../../shared/domain/task';

const request: TaskRequest = { schemaVersion: 1, taskId: 't', startDate: 'auto', source: { type: 'metabase', questionId: 7 } };

describe('catchupKeyOf', () => {
  it('is one per source, namespace and named dataset; the task and the request’s other fields play no part', () => {
    const key = catchupKeyOf(request, 'ns');
    expect(catchupKeyOf({ ...request, taskId: 'other', force: true }, 'ns')).toBe(key);
    expect(catchupKeyOf(request, 'other-ns')).not.toBe(key);
    expect(catchupKeyOf({ ...request, dataset: 'crm' }, 'ns')).not.toBe(key);
    expect(catchupKeyOf({ ...request, source: { type: 'metabase', questionId: 8 } }, 'ns')).not.toBe(key);
  });

  it('cannot be confused by separators inside its parts', () => {
    const a = catchupKeyOf({ ...request, source: { type: 's3_csv', key: 'a","b' } }, 'c');
    const b = catchupKeyOf({ ...request, source: { type: 's3_csv', key: 'a' } }, 'b","c');
    expect(a).not.toBe(b);
  });
});

describe('resolveAutoStartDate', () => {
  const watermark = { taskId: 'w', startedAt: '2026-03-01T00:15:00.000Z' };

  it('reaches back the overlap from the UTC day the last completed run started, across month ends', () => {
    expect(resolveAutoStartDate(watermark, { overlapDays: 1 }).startDate).toBe('2026-02-28');
    expect(resolveAutoStartDate(watermark, { overlapDays: 0 }).startDate).toBe('2026-03-01');
  });

  it('prefers the watermark to CATCHUP_INITIAL_START_DATE, which is only for a source’s first catch-up', () => {
    expect(resolveAutoStartDate(watermark, { overlapDays: 1, initialStartDate: '2020-01-01' })).toEqual({
      startDate: '2026-02-28',
      basis: { from: 'watermark', watermark, overlapDays: 1 },
    });
    expect(resolveAutoStartDate(undefined, { overlapDays: 1, initialStartDate: '2020-01-01' })).toEqual({
      startDate: '2020-01-01',
      basis: { from: 'initial', overlapDays: 1 },
    });
    expect(resolveAutoStartDate(undefined, { overlapDays: 1 })).toEqual({ basis: { from: 'none', overlapDays: 1 } });
  });
});
