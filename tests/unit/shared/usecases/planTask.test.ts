/**
 * The planner: rows (inline or from Metabase) become JSON Lines chunk objects, a CSV becomes byte
 * ranges of its own object, each chunk is announced and the totals recorded; a source that cannot
 * be planned fails the task with the reason; a CSV over the threshold goes to the large-CSV loop.
 */
import { Readable } from 'node:stream';
import { catchupKeyOf, fullSyncKeyOf } from '../../../../shared/domain/catchup';
import type { StartDateBasis, Task, TaskRequest, TerminalStatus } from '../../../../shared/domain/task';
import type { ChunkPlanned } from '../../../../shared/events/types';
import type { LargeCsvPlanner, LargeCsvPlanState, NewTask, ObjectStore, QuestionSource } from '../../../../shared/ports';
import { planTask, type PlanTaskDeps } from '../../../../shared/usecases/planTask';
import {
  aTask,
  configWith,
  detailsOf,
  fakeObjects,
  fakeTasks,
  memoryObjects,
  recordingEvents,
  silentLogger,
  fakeSync,
  memoryCatchup,
  memoryPlans,
} from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const COLUMNS = { text: 'formatted_text', id: 'id', date: 'date' };
const CRM_ROWS: [object, ...object[]] = [
  { id: 'c-1', formatted_text: '<p>Asks about red running shoes</p>', tier: 'gold' },
  { id: 'c-2', formatted_text: 'Returned a blue hat', tier: 'silver' },
  { id: 'c-3', formatted_text: 'Wants green socks', tier: 'gold' },
];
const inlineRequest: TaskRequest = {
  schemaVersion: 1,
  taskId: 'in-1',
  namespace: 'crm',
  source: { type: 'inline', name: 'crm', records: CRM_ROWS },
};

/** The task table for one task: created PENDING unless `existing` is given, started while open, planned once, ended once. */
function plannerTasks(existing?: Task, others: Task[] = []) {
  let task = existing;
  const settled: { startDate?: string; basis: StartDateBasis }[] = [];
  const created: NewTask[] = [];
  const warnings: string[] = [];
  const plans: { records: number; chunks: number }[] = [];
  const finishes: { status: TerminalStatus; error?: string }[] = [];
  const tasks = fakeTasks({
    create: async (newTask) => {
      created.push(newTask);
      if (task) return { created: false, task };
      task = aTask({ ...newTask, status: 'PENDING' });
      return { created: true, task };
    },
    start: async () => {
      if (!task || (task.status !== 'PENDING' && task.status !== 'RUNNING')) return undefined;
      task = { ...task, status: 'RUNNING', startedAt: NOW.toISOString() };
      return task;
    },
    completePlan: async (_taskId, totals) => {
      plans.push(totals);
      if (!task) throw new Error('completePlan of a task that does not exist');
      const chunks = { total: totals.chunks, completed: 0, failed: 0 };
      task = { ...task, planned: true, records: { ...task.records, total: totals.records }, chunks };
      return task;
    },
    finish: async (_taskId, status, now, error) => {
      finishes.push({ status, error });
      if (!task || (task.status !== 'PENDING' && task.status !== 'RUNNING')) return undefined;
      task = { ...task, status, completedAt: now.toISOString(), errors: error ? [error, ...task.errors] : task.errors };
      return task;
    },
    markCompletionAnnounced: async () => undefined,
    get: async (taskId) => (taskId === task?.taskId ? task : others.find((other) => other.taskId === taskId)),
    settleStartDate: async (_taskId, startDate, basis) => {
      if (!task) throw new Error('settleStartDate of a task that does not exist');
      if (task.request.startDate !== 'auto') return task;
      settled.push({ ...(startDate ? { startDate } : {}), basis });
      const request = { ...task.request, startDate };
      if (!startDate) delete request.startDate;
      task = { ...task, request, startDateBasis: basis };
      return task;
    },
    addWarning: async (_taskId, warning) => {
      warnings.push(warning);
      if (task && !task.warnings?.includes(warning)) task = { ...task, warnings: [...(task.warnings ?? []), warning] };
    },
  });
  return { tasks, created, plans, finishes, warnings, settled, current: () => task };
}

function plannerDeps(
  parts: {
    objects?: ObjectStore;
    env?: Record<string, string>;
    existing?: Task;
    metabase?: QuestionSource;
    largeCsv?: LargeCsvPlanner;
    others?: Task[];
  } = {},
) {
  const table = plannerTasks(parts.existing, parts.others);
  const events = recordingEvents();
  const deps: PlanTaskDeps = {
    catchup: memoryCatchup(),
    plans: memoryPlans(),
    sync: fakeSync(),
    config: configWith({ CHUNK_SIZE: '2', ...parts.env }),
    tasks: table.tasks,
    events,
    logger: silentLogger,
    now: () => NOW,
    objects: parts.objects ?? memoryObjects(),
    ...(parts.metabase ? { metabase: parts.metabase } : {}),
    ...(parts.largeCsv ? { largeCsv: parts.largeCsv } : {}),
  };
  return { deps, published: events.published, ...table };
}

function recordingLargeCsv(): LargeCsvPlanner & { starts: { taskId: string; input: LargeCsvPlanState }[] } {
  const starts: { taskId: string; input: LargeCsvPlanState }[] = [];
  return {
    starts,
    async start(taskId, input) {
      starts.push({ taskId, input });
      return { started: true, executionName: taskId };
    },
  };
}

const refusingLargeCsv: LargeCsvPlanner = {
  start: async () => {
    throw new Error('the test did not expect largeCsv.start to be called');
  },
};

const jsonLines = (rows: object[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

describe('planTask: rows carried inline', () => {
  it('writes JSON Lines chunk objects, announces each and records the totals', async () => {
    const objects = memoryObjects();
    const { deps, published, created, plans } = plannerDeps({ objects });
    await planTask(inlineRequest, deps);

    // The task keeps no copy of the records: they travel in the event only.
    const storedRequest = { ...inlineRequest, source: { type: 'inline', name: 'crm', records: [] } };
    expect(created).toEqual([{ taskId: 'in-1', dataSource: 'inline', namespace: 'crm', request: storedRequest }]);
    expect([...objects.files.keys()]).toEqual(['tasks/in-1/chunk-000000.jsonl', 'tasks/in-1/chunk-000001.jsonl']);
    expect(objects.files.get('tasks/in-1/chunk-000000.jsonl')?.toString()).toBe(jsonLines(CRM_ROWS.slice(0, 2)));
    expect(objects.files.get('tasks/in-1/chunk-000001.jsonl')?.toString()).toBe(jsonLines(CRM_ROWS.slice(2)));

    const heads = await Promise.all(['tasks/in-1/chunk-000000.jsonl', 'tasks/in-1/chunk-000001.jsonl'].map((key) => objects.head(key)));
    // toMatchObject: the contract may grow fields this test does not cover.
    expect(detailsOf(published, 'ChunkPlanned')).toMatchObject(
      heads.map((head, chunkIndex): Partial<ChunkPlanned> => ({
        schemaVersion: 1,
        taskId: 'in-1',
        namespace: 'crm',
        dataSource: 'inline',
        columns: COLUMNS,
        chunkIndex,
        recordCount: chunkIndex === 0 ? 2 : 1,
        firstRecordNumber: chunkIndex === 0 ? 1 : 3,
        source: {
          type: 'jsonl',
          bucket: 'test-bucket',
          key: head?.key as string,
          etag: head?.etag as string,
          header: ['id', 'formatted_text', 'tier'],
          sourceUri: 'inline://crm',
        },
      })),
    );
    expect(published).toHaveLength(2);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
  });

  it('fails the task with the reason when the rows have no text column, writing and announcing no chunk', async () => {
    const objects = memoryObjects();
    const { deps, published, plans, finishes } = plannerDeps({ objects });
    await planTask({ ...inlineRequest, source: { type: 'inline', records: [{ id: '1', body: 'hello' }] } }, deps);

    const reason = 'the inline records has no column "formatted_text"; its columns are: id, body';
    expect(finishes).toEqual([{ status: 'FAILED', error: reason }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ taskId: 'in-1', status: 'FAILED', errors: [reason] }),
    ]);
    expect(published).toHaveLength(1);
    expect(objects.files.size).toBe(0);
    expect(plans).toEqual([]);
  });

  it('plans rows without any date column whole when start_date is given, with a warning on the task', async () => {
    const { deps, published, finishes, plans, warnings } = plannerDeps();
    await planTask({ ...inlineRequest, startDate: '2025-01-01' }, deps);
    const chunks = detailsOf(published, 'ChunkPlanned');
    expect(chunks).toHaveLength(2);
    for (const chunk of chunks) expect(chunk).not.toHaveProperty('startDate');
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
    expect(finishes).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^start_date 2025-01-01 was not applied: the inline records has no date column/)]);
  });

  it('filters rows by their created_at column when start_date is given and no date column is named', async () => {
    const { deps, published, warnings } = plannerDeps();
    const records: [object, ...object[]] = [
      { id: 'c-1', formatted_text: 'old', created_at: '2024-12-31' },
      { id: 'c-2', formatted_text: 'new', created_at: '2025-02-01' },
    ];
    await planTask({ ...inlineRequest, startDate: '2025-01-01', source: { type: 'inline', name: 'crm', records } }, deps);
    expect(detailsOf(published, 'ChunkPlanned')).toMatchObject([{ startDate: '2025-01-01', columns: { ...COLUMNS, date: 'created_at' } }]);
    expect(warnings).toEqual([]);
  });

  it('fails the task when start_date is given and the rows lack the date column named', async () => {
    const { deps, finishes, published } = plannerDeps();
    await planTask({ ...inlineRequest, startDate: '2025-01-01', columns: { date: 'published' } }, deps);
    const reason = 'start_date was given but the inline records has no date column "published"; its columns are: id, formatted_text, tier';
    expect(finishes).toEqual([{ status: 'FAILED', error: reason }]);
    expect(detailsOf(published, 'ChunkPlanned')).toEqual([]);
  });

  it('plans nothing again for a redelivered request of a task already planned', async () => {
    const planned = aTask({ taskId: 'in-1', dataSource: 'inline', planned: true, chunks: { total: 2, completed: 1, failed: 0 } });
    const { deps, published, plans } = plannerDeps({ existing: planned, objects: fakeObjects({}) });
    await planTask(inlineRequest, deps);
    expect(plans).toEqual([]);
    expect(published).toEqual([]);
  });

  it('plans nothing for a task that can no longer run (cancelled before planning)', async () => {
    const cancelled = aTask({ taskId: 'in-1', dataSource: 'inline', status: 'CANCELLED', completionAnnounced: true });
    const { deps, published, plans } = plannerDeps({ existing: cancelled, objects: fakeObjects({}) });
    await planTask(inlineRequest, deps);
    expect(plans).toEqual([]);
    expect(published).toEqual([]);
  });
});

describe('planTask: a Metabase question', () => {
  it('streams the rows into chunk objects, leaving the date filter to the question', async () => {
    const asked: { questionId: number; startDate?: string }[] = [];
    const metabase: QuestionSource = {
      description: 'fake metabase',
      async *rows(questionId, { startDate }) {
        asked.push({ questionId, startDate });
        yield* CRM_ROWS as Record<string, unknown>[];
      },
    };
    const { deps, published, plans } = plannerDeps({ metabase });
    await planTask({ schemaVersion: 1, taskId: 'mb-1', startDate: '2025-01-01', source: { type: 'metabase', questionId: 232 } }, deps);

    expect(asked).toEqual([{ questionId: 232, startDate: '2025-01-01' }]);
    const chunks = detailsOf(published, 'ChunkPlanned');
    expect(chunks.map((chunk) => chunk.source)).toEqual([
      expect.objectContaining({ type: 'jsonl', key: 'tasks/mb-1/chunk-000000.jsonl', sourceUri: 'metabase://question/232' }),
      expect.objectContaining({ type: 'jsonl', key: 'tasks/mb-1/chunk-000001.jsonl', sourceUri: 'metabase://question/232' }),
    ]);
    expect(chunks.every((chunk) => chunk.startDate === undefined && chunk.namespace === '__default__')).toBe(true);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
  });

  it('fails the task when no Metabase is configured', async () => {
    const { deps, finishes } = plannerDeps();
    await planTask({ schemaVersion: 1, taskId: 'mb-1', source: { type: 'metabase', questionId: 232 } }, deps);
    expect(finishes).toEqual([{ status: 'FAILED', error: expect.stringMatching(/^data_source metabase needs METABASE_URL/) }]);
  });
});

describe('planTask: a CSV object', () => {
  const KEY = 'uploads/people.csv';
  const CSV = 'id,formatted_text\n1,alpha\n2,bravo\n3,charlie\n';
  const csvRequest: TaskRequest = { schemaVersion: 1, taskId: 'csv-1', source: { type: 's3_csv', key: KEY } };

  it('announces byte ranges of the object itself and records the totals, under the large-CSV threshold', async () => {
    const objects = memoryObjects({ [KEY]: CSV });
    const env = { LARGE_CSV_THRESHOLD_BYTES: String(CSV.length) };
    const { deps, published, plans } = plannerDeps({ objects, largeCsv: refusingLargeCsv, env });
    await planTask(csvRequest, deps);

    const head = await objects.head(KEY);
    const range = (byteStart: number, byteEnd: number) => ({
      type: 'csv_range',
      bucket: 'test-bucket',
      key: KEY,
      etag: head?.etag,
      byteStart,
      byteEnd,
      header: ['id', 'formatted_text'],
      delimiter: ',',
    });
    const sources = detailsOf(published, 'ChunkPlanned').map((chunk) => chunk.source);
    expect(sources).toEqual([range(CSV.indexOf('1,'), CSV.indexOf('3,')), range(CSV.indexOf('3,'), CSV.length)]);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
    // No chunk objects: the embedder reads the ranges of the CSV.
    expect([...objects.files.keys()]).toEqual([KEY]);
  });

  it('hands a CSV over the threshold to the large-CSV planner, planning nothing itself', async () => {
    const objects = memoryObjects({ [KEY]: CSV });
    const largeCsv = recordingLargeCsv();
    const env = { LARGE_CSV_THRESHOLD_BYTES: String(CSV.length - 1) };
    const { deps, published, plans } = plannerDeps({ objects, largeCsv, env });
    await planTask(csvRequest, deps);

    const head = await objects.head(KEY);
    const input = { taskId: 'csv-1', key: KEY, etag: head?.etag, size: CSV.length, nextOffset: 0, chunkIndex: 0, recordsSoFar: 0 };
    expect(largeCsv.starts).toEqual([{ taskId: 'csv-1', input: { ...input, segments: 0, done: false } }]);
    expect(objects.reads).toEqual([]);
    expect(published).toEqual([]);
    // The loop records the totals itself when it is done.
    expect(plans).toEqual([]);
  });

  /** A bucket that keeps versions: v1 (the pinned upload) and v2 (a later upload of the same key, what the key holds now). */
  function versionedObjects() {
    const versions: Record<string, string> = { v1: CSV, v2: 'id,formatted_text\n9,uploaded later\n' };
    const reads: { versionId?: string; etag?: string }[] = [];
    const headOf = (versionId: string) => ({
      bucket: 'test-bucket',
      key: KEY,
      size: versions[versionId].length,
      etag: `"etag-of-${versionId}"`,
      versionId,
    });
    const objects = fakeObjects({
      head: async (_key, { versionId = 'v2' } = {}) => (versions[versionId] ? headOf(versionId) : undefined),
      read: async (_key, { versionId = 'v2', etag } = {}) => {
        reads.push({ versionId, etag });
        return Readable.from([Buffer.from(versions[versionId])]);
      },
    });
    return { objects, reads };
  }

  it('plans only the version the request was pinned to, not a later upload of the same key', async () => {
    const { objects, reads } = versionedObjects();
    const { deps, published, plans } = plannerDeps({ objects });
    await planTask({ ...csvRequest, source: { type: 's3_csv', key: KEY, versionId: 'v1' } }, deps);

    const ranges = detailsOf(published, 'ChunkPlanned').map((chunk) => chunk.source);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((source) => source.type === 'csv_range' && source.versionId === 'v1' && source.etag === '"etag-of-v1"')).toBe(true);
    expect(reads).toEqual([{ versionId: 'v1', etag: '"etag-of-v1"' }]);
    expect(plans).toEqual([{ records: 3, chunks: ranges.length }]);
  });

  it('fails a pinned task, naming the version, when the bucket answers another version or none', async () => {
    const later = 'id,formatted_text\n9,uploaded later\n';
    const unversioned = fakeObjects({
      head: async (key) => ({ bucket: 'test-bucket', key, size: later.length, etag: '"etag"' }),
      read: async () => Readable.from([Buffer.from(later)]),
    });
    const { deps, published, finishes } = plannerDeps({ objects: unversioned });
    await planTask({ ...csvRequest, source: { type: 's3_csv', key: KEY, versionId: 'v1' } }, deps);

    expect(detailsOf(published, 'ChunkPlanned')).toEqual([]);
    expect(finishes).toEqual([
      {
        status: 'FAILED',
        error: `version v1 of s3://test-bucket/${KEY} cannot be read: the bucket answered an object without versions instead`,
      },
    ]);
  });

  it('fails a pinned task whose version is gone', async () => {
    const { objects } = versionedObjects();
    const { deps, finishes } = plannerDeps({ objects });
    await planTask({ ...csvRequest, source: { type: 's3_csv', key: KEY, versionId: 'v0' } }, deps);
    expect(finishes).toEqual([{ status: 'FAILED', error: `version v0 of s3://test-bucket/${KEY} does not exist` }]);
  });

  it('hands the pinned version to the large-CSV planner', async () => {
    const { objects } = versionedObjects();
    const largeCsv = recordingLargeCsv();
    const { deps } = plannerDeps({ objects, largeCsv, env: { LARGE_CSV_THRESHOLD_BYTES: '10' } });
    await planTask({ ...csvRequest, source: { type: 's3_csv', key: KEY, versionId: 'v1' } }, deps);
    expect(largeCsv.starts).toEqual([{ taskId: 'csv-1', input: expect.objectContaining({ versionId: 'v1', etag: '"etag-of-v1"' }) }]);
  });

  it('fails the task when the object does not exist', async () => {
    const { deps, finishes } = plannerDeps({ objects: memoryObjects() });
    await planTask(csvRequest, deps);
    expect(finishes).toEqual([{ status: 'FAILED', error: 's3://test-bucket/uploads/people.csv does not exist' }]);
  });
});

describe('planTask: start_date=auto', () => {
  /** A Metabase question that answers two rows and notes the start date it was asked for. */
  function question() {
    const asked: (string | undefined)[] = [];
    const metabase: QuestionSource = {
      description: 'fake metabase',
      async *rows(_questionId, { startDate }) {
        asked.push(startDate);
        yield* CRM_ROWS.slice(0, 2) as Record<string, unknown>[];
      },
    };
    return { metabase, asked };
  }
  const autoRequest: TaskRequest = { schemaVersion: 1, taskId: 'auto-1', startDate: 'auto', source: { type: 'metabase', questionId: 232 } };

  it('reads the whole source when no run of it has completed, and says so', async () => {
    const { metabase, asked } = question();
    const { deps, settled, current } = plannerDeps({ metabase });
    await planTask(autoRequest, deps);
    expect(asked).toEqual([undefined]);
    expect(settled).toEqual([{ basis: { from: 'none', overlapDays: 1 } }]);
    expect(current()?.request.startDate).toBeUndefined();
  });

  it('starts CATCHUP_INITIAL_START_DATE when no run has completed and it is set', async () => {
    const { metabase, asked } = question();
    const { deps } = plannerDeps({ metabase, env: { CATCHUP_INITIAL_START_DATE: '2024-06-01' } });
    await planTask(autoRequest, deps);
    expect(asked).toEqual(['2024-06-01']);
  });

  it('starts CATCHUP_OVERLAP_DAYS before the day the last completed run of the same source and namespace started', async () => {
    const { metabase, asked } = question();
    const { deps, current } = plannerDeps({ metabase, env: { CATCHUP_OVERLAP_DAYS: '2' } });
    const key = catchupKeyOf(autoRequest, deps.config.pinecone.namespace);
    await deps.catchup.end(key, 'earlier', { taskId: 'earlier', startedAt: '2026-11-20T00:30:00.000Z' });
    await planTask(autoRequest, deps);
    expect(asked).toEqual(['2026-11-18']);
    expect(current()).toMatchObject({
      request: { startDate: '2026-11-18' },
      startDateBasis: { from: 'watermark', overlapDays: 2, watermark: { taskId: 'earlier', startedAt: '2026-11-20T00:30:00.000Z' } },
    });
  });

  it('keeps apart the watermarks of other namespaces and datasets of the same question', async () => {
    const { metabase, asked } = question();
    const { deps } = plannerDeps({ metabase });
    const watermark = { taskId: 'other', startedAt: '2026-11-20T00:30:00.000Z' };
    await deps.catchup.end(catchupKeyOf({ ...autoRequest, namespace: 'elsewhere' }, 'elsewhere'), 'other', watermark);
    await deps.catchup.end(catchupKeyOf({ ...autoRequest, dataset: 'crm' }, deps.config.pinecone.namespace), 'other', watermark);
    await planTask(autoRequest, deps);
    expect(asked).toEqual([undefined]);
  });

  it('plans a redelivery with the date the first delivery settled, even if the watermark moved since', async () => {
    const { metabase, asked } = question();
    const settledTask = aTask({
      taskId: 'auto-1',
      dataSource: 'metabase',
      request: { ...autoRequest, startDate: '2026-11-10' },
      startDateBasis: { from: 'watermark', overlapDays: 1, watermark: { taskId: 'a', startedAt: '2026-11-11T00:00:00.000Z' } },
    });
    const { deps, settled } = plannerDeps({ metabase, existing: settledTask });
    await deps.catchup.end(catchupKeyOf(autoRequest, 'ns'), 'b', { taskId: 'b', startedAt: '2026-11-27T00:00:00.000Z' });
    await planTask(autoRequest, deps);
    expect(asked).toEqual(['2026-11-10']);
    expect(settled).toEqual([]);
  });

  it('notes every run as going, so that a scheduled run of the same source waits for it', async () => {
    const { deps } = plannerDeps({ objects: memoryObjects() });
    await planTask(inlineRequest, deps);
    const state = await deps.catchup.get(catchupKeyOf(inlineRequest, 'crm'));
    expect(state.running).toEqual(['in-1']);
  });
});

describe('planTask: scheduled runs', () => {
  const scheduled: TaskRequest = { ...inlineRequest, taskId: 'sched-1', schedule: 'nightly', startDate: 'auto' };
  const key = catchupKeyOf(scheduled, 'crm');

  it('skips a scheduled run while an earlier run of the same source is going: CANCELLED at once, with the reason', async () => {
    const going = aTask({ taskId: 'manual-1', status: 'RUNNING', request: inlineRequest });
    const { deps, published, plans, finishes, warnings } = plannerDeps({ others: [going] });
    await deps.catchup.begin(key, 'manual-1');
    await planTask(scheduled, deps);
    expect(plans).toEqual([]);
    expect(detailsOf(published, 'ChunkPlanned')).toEqual([]);
    expect(warnings).toEqual(['scheduled run of "nightly" skipped: task manual-1 of the same source is still RUNNING']);
    expect(finishes).toEqual([{ status: 'CANCELLED' }]);
    expect(detailsOf(published, 'TaskCompleted')).toEqual([
      expect.objectContaining({ taskId: 'sched-1', status: 'CANCELLED', warnings: [warnings[0]] }),
    ]);
    // The run that is going stays noted; the skipped one never was.
    expect((await deps.catchup.get(key)).running).toEqual(['manual-1']);
  });

  it('claims the source when the runs noted as going have ended (one lingering after a crash included)', async () => {
    const ended = aTask({ taskId: 'old-1', status: 'COMPLETED', request: inlineRequest });
    const { deps, plans } = plannerDeps({ others: [ended] });
    await deps.catchup.begin(key, 'old-1');
    await planTask(scheduled, deps);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
    expect((await deps.catchup.get(key)).running).toEqual(['sched-1']);
  });

  it('plans a redelivered scheduled run that already holds its claim', async () => {
    const { deps, plans } = plannerDeps({
      existing: aTask({ taskId: 'sched-1', status: 'RUNNING', namespace: 'crm', request: scheduled }),
    });
    await deps.catchup.begin(key, 'sched-1');
    await planTask(scheduled, deps);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
  });

  it('tries again when another run began between its read and its claim', async () => {
    const { deps, plans } = plannerDeps();
    const claim = deps.catchup.claim.bind(deps.catchup);
    let raced = false;
    deps.catchup.claim = async (...args) => {
      if (!raced) {
        raced = true;
        // A run that begins and ends meanwhile: the claim read a version that is gone.
        await deps.catchup.begin(key, 'quick-1');
        await deps.catchup.end(key, 'quick-1');
      }
      return claim(...args);
    };
    await planTask(scheduled, deps);
    expect(raced).toBe(true);
    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
  });
});

describe('planTask: one full sync of a dataset at a time', () => {
  const fullSync: TaskRequest = { ...inlineRequest, taskId: 'full-2', sync: 'full', dataset: 'people' };
  /** Another source, the same dataset and namespace: its full sync deletes what this one did not see. */
  const other: TaskRequest = { ...fullSync, taskId: 'full-1', source: { type: 's3_csv', key: 'exports/people.csv' } };
  const key = fullSyncKeyOf(fullSync, 'crm') as string;

  it('does not start a full sync while another of the same dataset is going: CANCELLED at once, naming it', async () => {
    const going = aTask({ taskId: 'full-1', status: 'RUNNING', namespace: 'crm', request: other });
    const { deps, published, plans, finishes, warnings } = plannerDeps({ others: [going] });
    await deps.catchup.claim(fullSyncKeyOf(other, 'crm') as string, 'full-1', 0);

    await planTask(fullSync, deps);

    expect(plans).toEqual([]);
    expect(detailsOf(published, 'ChunkPlanned')).toEqual([]);
    expect(warnings).toEqual([
      'full sync of dataset "people" in namespace "crm" not started: task full-1, a full sync of the same dataset, is still RUNNING; ' +
        'run it again once that one has ended',
    ]);
    expect(finishes).toEqual([{ status: 'CANCELLED' }]);
    expect((await deps.catchup.get(key)).running).toEqual(['full-1']);
  });

  it('starts once the full sync noted as going has ended, and holds the dataset', async () => {
    const ended = aTask({ taskId: 'full-1', status: 'PARTIAL', namespace: 'crm', request: other });
    const { deps, plans } = plannerDeps({ others: [ended] });
    await deps.catchup.claim(key, 'full-1', 0);

    await planTask(fullSync, deps);

    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
    expect((await deps.catchup.get(key)).running).toEqual(['full-2']);
  });

  it('lets a dry run go beside a full sync (it deletes nothing) and holds nothing itself', async () => {
    const going = aTask({ taskId: 'full-1', status: 'RUNNING', namespace: 'crm', request: other });
    const { deps, plans } = plannerDeps({ others: [going] });
    await deps.catchup.claim(key, 'full-1', 0);

    await planTask({ ...fullSync, dryRun: true }, deps);

    expect(plans).toEqual([{ records: 3, chunks: 2 }]);
    expect(fullSyncKeyOf({ ...fullSync, dryRun: true }, 'crm')).toBeUndefined();
  });

  it('keys datasets by namespace: the same dataset name elsewhere is another dataset', () => {
    expect(fullSyncKeyOf(fullSync, 'crm')).toBe(fullSyncKeyOf(other, 'crm'));
    expect(fullSyncKeyOf(fullSync, 'shop')).not.toBe(key);
    expect(fullSyncKeyOf({ ...fullSync, sync: undefined }, 'crm')).toBeUndefined();
  });
});
