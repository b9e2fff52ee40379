/**
 * Catch-up schedules: CATCHUP_SCHEDULE and the per-stage file become TaskRequested templates with start_date=auto; every
 * expression EventBridge would refuse, and every bad entry, is refused naming where it is.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firingRequest, loadCatchupSchedules, nextFiring, scheduleExpressionProblem } from '../../../infra/catchupSchedules';

function schedulesFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'schedules-')), 'schedules.yml');
  writeFileSync(file, text);
  return file;
}

describe('scheduleExpressionProblem', () => {
  it.each([
    'rate(1 day)',
    'rate(5 minutes)',
    'rate(12 hours)',
    'cron(0 3 * * ? *)',
    'cron(0/15 8-18 ? * MON-FRI *)',
    'cron(0 4 L * ? *)',
    'cron(0 9 ? * 2#1 *)',
  ])('accepts %s', (expression) => expect(scheduleExpressionProblem(expression)).toBeUndefined());

  it.each([
    ['rate(1 days)', /1 day/],
    ['rate(2 hour)', /2 hours/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(1 week)', /use rate/],
    ['every day', /use rate/],
    ['at(2026-12-24T09:00:00)', /use rate/],
    ['cron(0 3 * * *)', /6 fields/],
    ['cron(0 3 * * * *)', /exactly one of day-of-month/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month/],
    ['cron(0 25 * * ? *)', /between 0 and 23/],
    ['cron(0 3 * * ? 2020)', /never fires/],
    ['cron(0 3 $ * ? *)', /field 3/],
  ])('refuses %s', (expression, reason) => expect(scheduleExpressionProblem(expression)).toMatch(reason));
});

describe('nextFiring', () => {
  const after = new Date('2026-12-01T21:30:00.000Z');
  it('counts a rate from the moment given, and finds a cron expression’s next UTC time after it', () => {
    expect(nextFiring('rate(2 hours)', after)).toEqual(new Date('2026-12-01T23:30:00.000Z'));
    expect(nextFiring('cron(0 3 * * ? *)', after)).toEqual(new Date('2026-12-02T03:00:00.000Z'));
    expect(nextFiring('cron(30 21 * * ? *)', after)).toEqual(new Date('2026-12-02T21:30:00.000Z'));
  });
});

describe('loadCatchupSchedules', () => {
  const env = { METABASE_QUESTION_ID: '42' };

  it('has none when nothing is configured', () => {
    expect(loadCatchupSchedules({ env, stage: 'nowhere' })).toEqual([]);
  });

  it('makes CATCHUP_SCHEDULE one schedule of the default question, or of CATCHUP_QUESTION_ID, into CATCHUP_NAMESPACE', () => {
    const [schedule] = loadCatchupSchedules({
      env: { ...env, CATCHUP_SCHEDULE: 'rate(1 day)', CATCHUP_QUESTION_ID: '7', CATCHUP_NAMESPACE: 'crm' },
      stage: 'nowhere',
    });
    expect(schedule).toEqual({
      name: 'catchup',
      expression: 'rate(1 day)',
      request: {
        schemaVersion: 1,
        source: { type: 'metabase', questionId: 7 },
        namespace: 'crm',
        startDate: 'auto',
        requestedBy: 'schedule:catchup',
        schedule: 'catchup',
      },
    });
    expect(loadCatchupSchedules({ env: { ...env, CATCHUP_SCHEDULE: 'rate(1 day)' }, stage: 'nowhere' })[0].request.source).toEqual({
      type: 'metabase',
      questionId: 42,
    });
  });

  it('adds the entries of a schedules file: questions and CSV keys, namespaces and datasets', () => {
    const file = schedulesFile(`schedules:
  - name: nightly-crm
    schedule: cron(0 3 * * ? *)
    question_id: 7
    namespace: crm
  - name: hourly-catalog
    schedule: rate(1 hour)
    s3_key: exports/catalog.csv
    dataset: catalog
`);
    const schedules = loadCatchupSchedules({ env: { ...env, CATCHUP_SCHEDULE: 'rate(1 day)' }, stage: 'x', file });
    expect(schedules.map(({ name, expression }) => [name, expression])).toEqual([
      ['catchup', 'rate(1 day)'],
      ['nightly-crm', 'cron(0 3 * * ? *)'],
      ['hourly-catalog', 'rate(1 hour)'],
    ]);
    expect(schedules[2].request).toMatchObject({
      source: { type: 's3_csv', key: 'exports/catalog.csv' },
      dataset: 'catalog',
      startDate: 'auto',
    });
  });

  it.each([
    ['schedules:\n  - name: a\n    schedule: rate(1 days)\n', /schedules\[0\] \(a\): "rate\(1 days\)" is not a schedule expression/],
    ['schedules:\n  - name: a b\n    schedule: rate(1 day)\n', /schedules\[0\]: name must be/],
    ['schedules:\n  - name: a\n    schedule: rate(1 day)\n    start_date: 2020-01-01\n', /unknown field start_date/],
    ['schedules:\n  - name: a\n    schedule: rate(1 day)\n    question_id: x\n', /\(a\): question_id must be a positive whole number/],
    [
      'schedules:\n  - name: a\n    schedule: rate(1 day)\n  - name: a\n    schedule: rate(2 days)\n',
      /two catch-up schedules are named "a"/,
    ],
    ['nightly: rate(1 day)\n', /must hold a list under "schedules:"/],
  ])('refuses a file holding %j, naming the entry', (text, message) => {
    expect(() => loadCatchupSchedules({ env, stage: 'x', file: schedulesFile(text) })).toThrow(message);
  });

  it('reads the documented example file as it stands', () => {
    const schedules = loadCatchupSchedules({ env, stage: 'x', file: 'config/schedules.example.yml' });
    expect(schedules.map(({ name }) => name)).toEqual(['nightly-crm', 'hourly-catalog']);
  });

  it('names CATCHUP_SCHEDULE when its expression is wrong, and a schedules file that is missing', () => {
    expect(() => loadCatchupSchedules({ env: { ...env, CATCHUP_SCHEDULE: 'daily' }, stage: 'x' })).toThrow(/^CATCHUP_SCHEDULE: "daily"/);
    expect(() => loadCatchupSchedules({ env, stage: 'x', file: 'config/none.yml' })).toThrow(/config\/none.yml does not exist/);
  });
});

describe('firingRequest', () => {
  it('names the task after the schedule and its scheduled time, so that a retried firing starts nothing new', () => {
    const [schedule] = loadCatchupSchedules({ env: { METABASE_QUESTION_ID: '42', CATCHUP_SCHEDULE: 'rate(1 day)' }, stage: 'x' });
    expect(firingRequest(schedule, '2026-12-02T03:00:00Z')).toMatchObject({
      taskId: 'schedule-catchup-2026-12-02T03:00:00Z',
      requestedAt: '2026-12-02T03:00:00Z',
      startDate: 'auto',
      schedule: 'catchup',
    });
  });
});
