/**
 * The aggregator: a chunk's counts go in once, and the chunk that settles its task ends it, once,
 * even when that chunk is delivered twice at the same time.
 */
import type { Task, TerminalStatus } from '../../../../shared/domain/task';
import type { ChunkEmbedded } from '../../../../shared/events/types';
import { recordChunk, type RecordChunkDeps } from '../../../../shared/usecases/recordChunk';
import { aTask, detailsOf, fakeTasks, recordingEvents, recordingLogger, fakeSync, memoryCatchup } from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:10:00.000Z');

function chunkResult(chunkIndex: number, records: Partial<ChunkEmbedded['records']> = {}): ChunkEmbedded {
  return {
    schemaVersion: 1,
    taskId: 'agg-1',
    chunkIndex,
    outcome: 'completed',
    records: { total: 2, processed: 2, skipped: 0, failed: 0, truncated: 0, ...records },
    tokens: 20,
    finishedAt: NOW.toISOString(),
  };
}

/**
 * The task table's behaviour for one task of `chunks` planned chunks: a chunk's counts are added
 * unless its index is in already, and the terminal write succeeds once.
 */
function aggregatorDeps(chunks: number, options: { planned?: boolean } = {}) {
  let task: Task = aTask({ taskId: 'agg-1', planned: options.planned ?? true, chunks: { total: chunks, completed: 0, failed: 0 } });
  const done = new Set<number>();
  const events = recordingEvents();
  const logger = recordingLogger();
  const finishes: TerminalStatus[] = [];
  const deps: RecordChunkDeps = {
    catchup: memoryCatchup(),
    sync: fakeSync(),
    tasks: fakeTasks({
      recordChunk: async (result) => {
        if (done.has(result.chunkIndex)) return { applied: false, task };
        done.add(result.chunkIndex);
        const { records } = task;
        const counter = result.outcome === 'failed' ? 'failed' : 'completed';
        task = {
          ...task,
          records: {
            ...records,
            processed: records.processed + result.records.processed,
            skipped: records.skipped + result.records.skipped,
            failed: records.failed + result.records.failed,
          },
          chunks: { ...task.chunks, [counter]: task.chunks[counter] + 1 },
          tokens: task.tokens + result.tokens,
        };
        return { applied: true, task };
      },
      finish: async (_taskId, status, now) => {
        finishes.push(status);
        if (task.status !== 'RUNNING') return undefined;
        task = { ...task, status, completedAt: now.toISOString() };
        return task;
      },
      markCompletionAnnounced: async () => {
        task = { ...task, completionAnnounced: true };
      },
    }),
    events,
    logger,
    now: () => NOW,
  };
  return { deps, published: events.published, logger, finishes, current: () => task };
}

describe('recordChunk', () => {
  it('adds a chunk that is not the last without ending the task', async () => {
    const { deps, published, current } = aggregatorDeps(2);
    await recordChunk(chunkResult(0), deps);
    expect(current()).toMatchObject({ status: 'RUNNING', chunks: { completed: 1 }, records: { processed: 2 } });
    expect(published).toEqual([]);
  });

  it('ends the task with the last chunk and announces its final counts', async () => {
    const { deps, published, current } = aggregatorDeps(2);
    await recordChunk(chunkResult(0), deps);
    await recordChunk(chunkResult(1, { processed: 1, failed: 1 }), deps);

    expect(current().status).toBe('PARTIAL');
    const completed = detailsOf(published, 'TaskCompleted');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      taskId: 'agg-1',
      status: 'PARTIAL',
      records: { processed: 3, failed: 1 },
      chunks: { total: 2, completed: 2 },
      tokens: 40,
    });
  });

  it('ignores a duplicate delivery: counts and announcement stay as they were', async () => {
    const { deps, published, current, logger, finishes } = aggregatorDeps(1);
    await recordChunk(chunkResult(0), deps);
    await recordChunk(chunkResult(0), deps);

    expect(current()).toMatchObject({ status: 'COMPLETED', records: { processed: 2 }, chunks: { completed: 1 } });
    expect(finishes).toEqual(['COMPLETED']);
    expect(published).toHaveLength(1);
    expect(logger.entries.filter((entry) => entry.message === 'chunk already counted; duplicate ignored')).toHaveLength(1);
  });

  it('announces the end once when two deliveries of the last chunk race', async () => {
    const { deps, published, finishes } = aggregatorDeps(1);
    await Promise.all([recordChunk(chunkResult(0), deps), recordChunk(chunkResult(0), deps)]);

    // Both saw the task settled and tried to end it; the conditional write let one through.
    expect(finishes).toEqual(['COMPLETED', 'COMPLETED']);
    expect(detailsOf(published, 'TaskCompleted')).toHaveLength(1);
  });

  it('does not end a task whose plan is not complete, though every chunk planned so far is in', async () => {
    const { deps, published, finishes } = aggregatorDeps(1, { planned: false });
    await recordChunk(chunkResult(0), deps);
    expect(finishes).toEqual([]);
    expect(published).toEqual([]);
  });
});
