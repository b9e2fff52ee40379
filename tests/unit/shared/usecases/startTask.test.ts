/**
 * Starting a task by API: a source that cannot work is refused at once, naming the parameter at
 * fault, and no task is created; a versioned CSV object is pinned to the version checked.
 */
import type { TaskRequest } from '../../../../shared/domain/task';
import { NotConfiguredError, NotFoundError, RequestError, UnusableInputError } from '../../../../shared/errors';
import type { ObjectHead, ObjectStore, QuestionSource } from '../../../../shared/ports';
import { startTask, type StartTaskDeps } from '../../../../shared/usecases/startTask';
import { aTask, configWith, detailsOf, fakeObjects, fakeTasks, recordingEvents } from '../../../helpers/fakes';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const csvRequest: TaskRequest = { schemaVersion: 1, taskId: 'start-1', source: { type: 's3_csv', key: 'uploads/people.csv' } };

const metabase: QuestionSource = {
  description: 'fake metabase',
  rows: () => {
    throw new Error('the test did not expect metabase.rows to be called');
  },
};

function headOf(size: number, versionId?: string): ObjectHead {
  return { bucket: 'test-bucket', key: 'uploads/people.csv', size, etag: '"e1"', ...(versionId ? { versionId } : {}) };
}

/** Deps whose task repository creates every task it is given; `objects` answers head as the test says. */
function depsWith(parts: { objects?: ObjectStore; metabase?: QuestionSource }) {
  const events = recordingEvents();
  const created: TaskRequest[] = [];
  const deps: StartTaskDeps = {
    config: configWith(),
    tasks: fakeTasks({
      create: async (task) => {
        created.push(task.request);
        return { created: true, task: aTask({ taskId: task.taskId, status: 'PENDING', request: task.request }) };
      },
    }),
    events,
    now: () => NOW,
    objects: parts.objects ?? fakeObjects({}),
    ...(parts.metabase ? { metabase: parts.metabase } : {}),
  };
  return { deps, published: events.published, created };
}

async function refusal(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof RequestError)) throw new Error(`expected a RequestError, got ${String(error)}`);
  return error;
}

describe('startTask', () => {
  it('refuses data_source=metabase when no Metabase is configured, creating nothing', async () => {
    const { deps, published } = depsWith({});
    const error = await refusal(startTask({ schemaVersion: 1, taskId: 'mb-1', source: { type: 'metabase', questionId: 232 } }, deps));
    expect(error).toBeInstanceOf(NotConfiguredError);
    expect(error.field).toBe('data_source');
    expect(error.message).toMatch(/METABASE_URL/);
    expect(published).toEqual([]);
  });

  it('starts a metabase task when a Metabase is configured, without reading the question yet', async () => {
    const { deps, published, created } = depsWith({ metabase });
    const request: TaskRequest = { schemaVersion: 1, taskId: 'mb-1', source: { type: 'metabase', questionId: 232 } };
    const result = await startTask(request, deps);
    expect(result.created).toBe(true);
    expect(created).toEqual([request]);
    expect(detailsOf(published, 'TaskRequested')).toEqual([request]);
  });

  it('refuses an s3_key that does not exist with NotFoundError on s3_key', async () => {
    const { deps, published } = depsWith({ objects: fakeObjects({ head: async () => undefined }) });
    const error = await refusal(startTask(csvRequest, deps));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.field).toBe('s3_key');
    expect(error.message).toBe('s3_key "uploads/people.csv" does not exist in bucket "test-bucket"');
    expect(published).toEqual([]);
  });

  it('refuses an empty CSV object with UnusableInputError on s3_key', async () => {
    const { deps, published } = depsWith({ objects: fakeObjects({ head: async () => headOf(0) }) });
    const error = await refusal(startTask(csvRequest, deps));
    expect(error).toBeInstanceOf(UnusableInputError);
    expect(error.field).toBe('s3_key');
    expect(error.message).toMatch(/empty file/);
    expect(published).toEqual([]);
  });

  it('pins the run to the version of the object it checked', async () => {
    const { deps, published, created } = depsWith({ objects: fakeObjects({ head: async () => headOf(120, 'v-42') }) });
    const result = await startTask(csvRequest, deps);

    const pinned = { ...csvRequest, source: { type: 's3_csv', key: 'uploads/people.csv', versionId: 'v-42' } };
    expect(result.task.request).toEqual(pinned);
    expect(created).toEqual([pinned]);
    expect(detailsOf(published, 'TaskRequested')).toEqual([pinned]);
  });

  it('passes the request on as it is for an unversioned object', async () => {
    const { deps, published, created } = depsWith({ objects: fakeObjects({ head: async () => headOf(120) }) });
    await startTask(csvRequest, deps);
    expect(created).toEqual([csvRequest]);
    expect(detailsOf(published, 'TaskRequested')).toEqual([csvRequest]);
  });

  it('starts inline records without looking at the bucket', async () => {
    const { deps, published } = depsWith({});
    const records: [object] = [{ id: '1', formatted_text: 'hi' }];
    const request: TaskRequest = { schemaVersion: 1, taskId: 'in-1', source: { type: 'inline', records } };
    expect((await startTask(request, deps)).created).toBe(true);
    expect(detailsOf(published, 'TaskRequested')).toEqual([request]);
  });
});
