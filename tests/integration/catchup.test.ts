/**
 * Catch-ups through the local runtime: start_date=auto reads a source whole until a run of it
 * completes, then from the day before that run started; a scheduled run does not start while
 * another run of its source is going, and says so; a schedule expression `npm start` cannot run
 * stops it with the reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { catchupKeyOf } from '../../shared/domain/catchup';
import { dateDaysBefore } from '../../shared/domain/dates';
import type { TaskRequest } from '../../shared/domain/task';
import { csvOf } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const ROOT = path.resolve(__dirname, '../..');
const KEY = 'exports/orders.csv';
/** Twelve orders, one a day up to today (UTC). */
const today = new Date().toISOString();
const orders = Array.from({ length: 12 }, (_, i) => ({
  id: `order-${i + 1}`,
  formatted_text: `Order ${i + 1}: ${i + 2} boxes of green tea for the shop in Lyon`,
  created_at: dateDaysBefore(today, 11 - i),
}));

describe('catch-ups (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
    await stack.putObject(KEY, csvOf(orders));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function catchUp(): Promise<any> {
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=${KEY}&start_date=auto`);
    expect(started.status).toBe(202);
    return stack.waitForTask(started.body.task_id);
  }

  it('reads the whole source the first time, then from the day before the last completed run started', async () => {
    const first = await catchUp();
    expect(first).toMatchObject({
      status: 'COMPLETED',
      start_date: null,
      start_date_auto: { from: 'none', overlap_days: 1, watermark: null },
      records: { total: 12, processed: 12, skipped: 0 },
    });

    const second = await catchUp();
    const startDate = dateDaysBefore(first.started_at, 1);
    const before = orders.filter((order) => order.created_at < startDate).length;
    expect(second).toMatchObject({
      status: 'COMPLETED',
      start_date: startDate,
      start_date_auto: { from: 'watermark', overlap_days: 1, watermark: { task_id: first.task_id, started_at: first.started_at } },
      // The rows read again are unchanged: skipped as such, nothing embedded twice.
      records: { total: 12, processed: 0, skipped: 12, skipped_reasons: { before_start_date: before, unchanged: 12 - before } },
      embedding_tokens: 0,
    });
  });

  it('skips a scheduled run while another run of its source is going, and runs the next firing once it has ended', async () => {
    const { deps } = stack.runtime;
    const source = { type: 's3_csv' as const, key: KEY };
    const going: TaskRequest = { schemaVersion: 1, taskId: 'manual-going', source };
    await deps.tasks.create({ taskId: going.taskId, dataSource: 's3_csv', namespace: NAMESPACE, request: going }, new Date());
    await deps.tasks.start(going.taskId, new Date());
    await deps.catchup.begin(catchupKeyOf(going, NAMESPACE), going.taskId);

    const firing = (time: string): TaskRequest => ({
      schemaVersion: 1,
      taskId: `schedule-nightly-${time}`,
      source,
      startDate: 'auto',
      schedule: 'nightly',
      requestedBy: 'schedule:nightly',
      requestedAt: time,
    });
    await deps.events.publish('TaskRequested', [firing('2026-12-02T03:00:00Z')]);
    const skipped = await stack.waitForTask('schedule-nightly-2026-12-02T03:00:00Z');
    expect(skipped).toMatchObject({
      status: 'CANCELLED',
      warnings: ['scheduled run of "nightly" skipped: task manual-going of the same source is still RUNNING'],
      records: { processed: 0 },
    });
    const listed = await stack.api('/tasks?status=CANCELLED');
    expect(listed.body.tasks.map((task: { task_id: string }) => task.task_id)).toContain(skipped.task_id);

    await deps.tasks.finish(going.taskId, 'FAILED', new Date(), 'ended by the test');
    await deps.events.publish('TaskRequested', [firing('2026-12-03T03:00:00Z')]);
    expect(await stack.waitForTask('schedule-nightly-2026-12-03T03:00:00Z')).toMatchObject({ status: 'COMPLETED', records: { total: 12 } });
  });

  it('stops npm start at once when a schedule expression cannot run, naming it', () => {
    const run = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['local/start.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH, CATCHUP_SCHEDULE: 'rate(1 dya)', LOCAL_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'start-')) },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('could not start: CATCHUP_SCHEDULE: "rate(1 dya)" is not a schedule expression');
  });
});
