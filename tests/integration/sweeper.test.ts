/**
 * The sweeper through the local runtime, on the real task table: a chunk whose message was lost
 * is announced again from its kept plan and the task completes with exact counts; chunks whose
 * Lambda never runs are announced again MAX_SWEEPS times, then counted failed with the reason, and
 * the task ends. The sweeper is run with its clock moved past STUCK_TASK_MINUTES, not waited for.
 */
import { loadWiring } from '../../infra/wiring';
import { MAX_SWEEPS, sweepStuckTasks } from '../../shared/usecases/sweepTasks';
import { csvOf } from '../helpers/csvFixtures';
import { NAMESPACE, plannedOneChunkTask, startLocalStack, type LocalStack } from '../helpers/localStack';

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
    const taskId = 'lost-1';
    // A planner that kept the plan and recorded its totals, and a ChunkPlanned that never arrived.
    const plan = await plannedOneChunkTask(stack, taskId, rows);
    await stack.runtime.deps.plans.save([plan], new Date());

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
