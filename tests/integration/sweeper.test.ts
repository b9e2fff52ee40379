/**
 * The sweeper through the local runtime, on the real task table: a chunk whose message was lost
 * is announced again from its kept plan and the task completes with exact counts; chunks whose
 * Lambda never runs are announced again MAX_SWEEPS times, then counted failed with the reason, and
 * the task ends. The sweeper is run with its clock moved past STUCK_TASK_MINUTES, not waited for.
 */
import { loadWiring } from '../../infra/wiring';
import type { ChunkPlanned } from '../../shared/events/types';
import { MAX_SWEEPS, sweepStuckTasks } from '../../shared/usecases/sweepTasks';
import { csvOf } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const STUCK_MINUTES = 5;
const rows = [
  { id: 'r-1', formatted_text: 'A lost chunk is announced again' },
  { id: 'r-2', formatted_text: 'from the plan the task table kept' },
  { id: 'r-3', formatted_text: 'and completes with exact counts' },
];

/** Runs the sweeper as if `minutes` had passed since now. */
function sweepAfter(stack: LocalStack, minutes: number) {
  const later = new Date(Date.now() + minutes * 60_000);
  return sweepStuckTasks({ ...stack.runtime.deps, now: () => later });
}

describe('the sweeper revives a task whose chunk message was lost (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ env: { STUCK_TASK_MINUTES: String(STUCK_MINUTES) } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('announces the unrecorded chunk again from its kept plan; the task completes once, every row once', async () => {
    const { deps } = stack.runtime;
    const taskId = 'lost-1';
    const key = `tasks/${taskId}/chunk-000000.jsonl`;
    await stack.putObject(key, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    const head = await deps.objects.head(key);
    const request = { schemaVersion: 1 as const, taskId, source: { type: 's3_csv' as const, key: 'exports/lost.csv' } };
    // A planner that kept the plan and recorded its totals, and a ChunkPlanned that never arrived.
    await deps.tasks.create({ taskId, dataSource: 's3_csv', namespace: NAMESPACE, request }, new Date());
    await deps.tasks.start(taskId, new Date());
    const plan: ChunkPlanned = {
      schemaVersion: 1,
      taskId,
      chunkIndex: 0,
      namespace: NAMESPACE,
      dataSource: 's3_csv',
      recordCount: rows.length,
      firstRecordNumber: 1,
      dataset: 'exports/lost.csv',
      longText: 'split',
      columns: { text: 'formatted_text', id: 'id', date: 'date' },
      source: {
        type: 'jsonl',
        bucket: deps.objects.bucket,
        key,
        etag: head?.etag as string,
        header: ['id', 'formatted_text'],
        sourceUri: 's3://x',
      },
    };
    await deps.plans.save([plan], new Date());
    await deps.tasks.completePlan(taskId, { records: rows.length, chunks: 1 }, new Date());

    // Not stuck yet: nothing is done.
    expect(await sweepAfter(stack, STUCK_MINUTES - 1)).toMatchObject({ reannounced: [], givenUp: [] });
    expect(await sweepAfter(stack, STUCK_MINUTES)).toMatchObject({ reannounced: [taskId], givenUp: [] });
    expect(await stack.waitForTask(taskId)).toMatchObject({
      status: 'COMPLETED',
      records: { total: 3, processed: 3, skipped: 0, failed: 0 },
      chunks: { total: 1, completed: 1, failed: 0 },
    });
    expect(stack.pinecone.dump(NAMESPACE).filter((vector) => vector.id.startsWith('r-')).length).toBe(3);
    // A later sweep finds nothing to do.
    expect(await sweepAfter(stack, 3 * STUCK_MINUTES)).toMatchObject({ reannounced: [], givenUp: [] });
  });
});

describe('the sweeper ends a task whose chunks never run (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // No embedder: every ChunkPlanned goes nowhere, as when its Lambda is killed on every attempt before its own handling runs.
    const wiring = loadWiring();
    delete (wiring.consumers as Partial<typeof wiring.consumers>).embedder;
    stack = await startLocalStack({ env: { STUCK_TASK_MINUTES: String(STUCK_MINUTES), CHUNK_SIZE: '2' }, runtime: { wiring } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it(`announces the missing chunks ${MAX_SWEEPS} times, then counts them failed with the reason: the task ends FAILED, exact`, async () => {
    await stack.putObject('incoming-never/never.csv', csvOf(rows));
    const started = await stack.api('/process?data_source=s3_csv&s3_key=incoming-never/never.csv');
    const taskId = started.body.task_id;
    await stack.runtime.waitForIdle();
    expect((await stack.api(`/status?task_id=${taskId}`)).body).toMatchObject({ status: 'RUNNING', chunks: { total: 2, completed: 0 } });

    for (let sweep = 1; sweep <= MAX_SWEEPS; sweep += 1) {
      expect(await sweepAfter(stack, sweep * STUCK_MINUTES)).toMatchObject({ reannounced: [taskId], givenUp: [] });
      await stack.runtime.waitForIdle();
    }
    // Each sweep counts as activity: one sooner than a full silence after the last finds nothing.
    expect(await sweepAfter(stack, (MAX_SWEEPS + 1) * STUCK_MINUTES - 1)).toMatchObject({ reannounced: [], givenUp: [] });
    expect(await sweepAfter(stack, (MAX_SWEEPS + 1) * STUCK_MINUTES)).toMatchObject({ givenUp: [taskId] });
    const ended = await stack.waitForTask(taskId);
    expect(ended).toMatchObject({
      status: 'FAILED',
      records: { total: 3, processed: 0, skipped: 0, failed: 3 },
      chunks: { total: 2, completed: 0, failed: 2 },
    });
    expect(ended.errors.join('\n')).toMatch(
      /records 1-2 failed: the chunk never completed: no progress for 5 minutes, announced again 2 times/,
    );
    const completed = stack.runtime.bus.published().filter((event) => event['detail-type'] === 'TaskCompleted');
    expect(completed.map((event) => (event.detail as { taskId: string }).taskId)).toEqual([taskId]);
  });

  it('runs as the wired scheduled function too', async () => {
    const sweeper = stack.runtime.scheduled.get('sweeper');
    expect(sweeper).toBeDefined();
    await expect(sweeper?.()).resolves.toBeUndefined();
  });
});
