/**
 * A CSV upload starts a task whose id is the object's identity: the same upload notified twice is
 * one task, a new upload of the same key is another; a notification for another bucket starts nothing.
 */
import type { TaskRequest } from '../../../../shared/domain/task';
import { startFromObject, type CreatedObject, type StartFromObjectDeps } from '../../../../shared/usecases/startFromObject';
import {
  aTask,
  configWith,
  detailsOf,
  fakeObjects,
  fakeTasks,
  recordingEvents,
  recordingLogger,
  memoryCatchup,
} from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const upload: CreatedObject = { bucket: 'test-bucket', key: 'incoming/people.csv', etag: 'abc123', sequencer: '0055AED6DCD90281E5' };

/** A task repository that creates each id once, as the conditional put does. */
function ingestDeps() {
  const requests = new Map<string, TaskRequest>();
  const events = recordingEvents();
  const logger = recordingLogger();
  const deps: StartFromObjectDeps = {
    catchup: memoryCatchup(),
    config: configWith(),
    tasks: fakeTasks({
      create: async (task) => {
        const known = requests.get(task.taskId);
        if (!known) requests.set(task.taskId, task.request);
        const stored = aTask({ taskId: task.taskId, status: 'PENDING', request: known ?? task.request, createdAt: NOW.toISOString() });
        return { created: !known, task: stored };
      },
    }),
    events,
    objects: fakeObjects({}),
    logger,
    now: () => NOW,
  };
  return { deps, published: events.published, logger, requests };
}

describe('startFromObject', () => {
  it('starts one s3_csv task for an upload, requested by s3', async () => {
    const { deps, published } = ingestDeps();
    const result = await startFromObject(upload, deps);

    expect(result?.created).toBe(true);
    expect(result?.task.taskId).toMatch(/^s3-[0-9a-f]{32}$/);
    expect(detailsOf(published, 'TaskRequested')).toEqual([
      {
        schemaVersion: 1,
        taskId: result?.task.taskId,
        source: { type: 's3_csv', key: 'incoming/people.csv' },
        requestedBy: 's3',
        requestedAt: NOW.toISOString(),
      },
    ]);
  });

  it('gives a repeated notification of the same upload the same task, announced once', async () => {
    const { deps, published, requests } = ingestDeps();
    const first = await startFromObject(upload, deps);
    const second = await startFromObject({ ...upload }, deps);

    expect(second?.created).toBe(false);
    expect(second?.task.taskId).toBe(first?.task.taskId);
    expect(requests.size).toBe(1);
    expect(published).toHaveLength(1);
  });

  it('starts a new task for a new upload of the same key', async () => {
    const { deps, requests } = ingestDeps();
    const first = await startFromObject(upload, deps);
    const second = await startFromObject({ ...upload, etag: 'def456' }, deps);

    expect(second?.created).toBe(true);
    expect(second?.task.taskId).not.toBe(first?.task.taskId);
    expect(requests.size).toBe(2);
  });

  it('identifies a versioned upload by its version, and reads that version', async () => {
    const { deps, published } = ingestDeps();
    const first = await startFromObject({ ...upload, versionId: 'v1' }, deps);
    // The same version notified again, whatever else the notification says.
    const again = await startFromObject({ ...upload, versionId: 'v1', etag: 'other', sequencer: 'other' }, deps);

    expect(again?.task.taskId).toBe(first?.task.taskId);
    expect(again?.created).toBe(false);
    const sources = detailsOf(published, 'TaskRequested').map((request) => request.source);
    expect(sources).toEqual([{ type: 's3_csv', key: 'incoming/people.csv', versionId: 'v1' }]);
  });

  it('ignores a notification for another bucket: no task, a warning', async () => {
    const { deps, published, logger, requests } = ingestDeps();
    const result = await startFromObject({ ...upload, bucket: 'someone-elses-bucket' }, deps);

    expect(result).toBeUndefined();
    expect(requests.size).toBe(0);
    expect(published).toEqual([]);
    expect(logger.entries.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: 'warn', message: 'object notification for another bucket ignored' },
    ]);
  });
});
