/**
 * Executions of the local state machine outliving the process: journaled, suspended by a stop
 * without being ended, resumed by the next start from the input their start state last had.
 * The deployed definition runs with stand-in task handlers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteExecutionJournal } from '../../../local/executionJournal';
import { LocalStateMachine, type LocalTaskHandler } from '../../../local/stepFunctions';
import { LARGE_CSV_STATE_MACHINE, loadWiring } from '../../../infra/wiring';
import type { BusEvent } from '../../../shared/ports';
import { deferred, until } from './helpers';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const wiring = loadWiring().stateMachines[LARGE_CSV_STATE_MACHINE];
const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };

let dir: string;
let db: DatabaseSync;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-executions-'));
  db = new DatabaseSync(path.join(dir, 'runtime.sqlite'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Segment {
  taskId: string;
  nextOffset: number;
  done: boolean;
}

function machine(planSegment: LocalTaskHandler, events: BusEvent[] = []) {
  const handlers: Record<string, LocalTaskHandler> = {
    planSegment,
    finishPlan: async (input) => ({ finished: (input as Segment).nextOffset }),
    failPlan: async () => ({ reason: 'failed' }),
  };
  return new LocalStateMachine({
    wiring,
    repoRoot: REPO_ROOT,
    handlers,
    bus: { publish: async (batch) => void events.push(...batch) },
    logger,
    journal: new SqliteExecutionJournal(db, wiring.name),
  });
}

it('a suspended execution is not ended, and the next start resumes it from the segment it was in', async () => {
  const seen: Segment[] = [];
  const held = deferred<Segment>();
  const events: BusEvent[] = [];
  const first = machine(async (input) => {
    const segment = input as Segment;
    seen.push(segment);
    return segment.nextOffset === 0 ? { ...segment, nextOffset: 100, done: false } : held.promise;
  }, events);
  await first.start('task-1', { taskId: 'task-1', nextOffset: 0, done: false } as never);
  await until(() => seen.length === 2);
  expect(first.suspend()).toEqual(['task-1']);
  await first.idle();
  expect(events).toEqual([]);
  held.resolve({ taskId: 'task-1', nextOffset: 200, done: true });

  const resumedWith: Segment[] = [];
  const again = machine(async (input) => {
    resumedWith.push(input as Segment);
    return { ...(input as Segment), nextOffset: 200, done: true };
  }, events);
  expect(again.resume()).toEqual(['task-1']);
  await again.idle();
  expect(resumedWith).toEqual([{ taskId: 'task-1', nextOffset: 100, done: false }]);
  const execution = again.executions.get('task-1')!;
  expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { finished: 200 } });
  // The status change names the execution's own input, not the checkpoint.
  expect(events).toEqual([
    expect.objectContaining({
      detail: expect.objectContaining({ status: 'SUCCEEDED', input: JSON.stringify({ taskId: 'task-1', nextOffset: 0, done: false }) }),
    }),
  ]);
  expect(machine(async () => ({})).resume()).toEqual([]);
});

it('an execution that ends badly is announced and not resumed', async () => {
  const events: BusEvent[] = [];
  const failing = machine(async () => {
    throw new Error('not retried');
  }, events);
  await failing.start('task-2', { taskId: 'task-2', nextOffset: 0, done: false } as never);
  await failing.idle();
  expect(failing.executions.get('task-2')!.status).toBe('FAILED');
  expect(events).toHaveLength(1);
  expect(machine(async () => ({})).resume()).toEqual([]);
});

it('refuses a journal for a definition whose start state reshapes its input (its input would be no checkpoint)', () => {
  const definition = {
    StartAt: 'PlanSegment',
    States: { PlanSegment: { Type: 'Task', Resource: '${PlanSegmentFunctionArn}', Parameters: { 'taskId.$': '$.taskId' }, End: true } },
  };
  writeFileSync(path.join(dir, 'reshaping.asl.json'), JSON.stringify(definition));
  expect(
    () =>
      new LocalStateMachine({
        wiring: { ...wiring, definition: 'reshaping.asl.json' },
        repoRoot: dir,
        handlers: { planSegment: async () => ({}), finishPlan: async () => ({}), failPlan: async () => ({}) },
        bus: { publish: async () => undefined },
        logger,
        journal: new SqliteExecutionJournal(db, wiring.name),
      }),
  ).toThrow(/cannot resume executions: start state PlanSegment reshapes its input/);
});
