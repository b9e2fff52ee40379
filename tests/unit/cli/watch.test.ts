import { ApiError, UnreachableError, type ApiClient } from '../../../cli/apiClient';
import type { Output } from '../../../cli/context';
import { barLine, summaryLine } from '../../../cli/progress';
import { followTask } from '../../../cli/watch';
import type { TaskDetailView } from '../../../shared/domain/taskDetail';
import { completed, taskDetail } from './taskFixtures';

/** A client answering GET /tasks/{id} from a script of answers (an Error is thrown), one per poll. */
function scriptedClient(script: (TaskDetailView | Error)[]) {
  const paths: string[] = [];
  const client = {
    get: async (path: string) => {
      paths.push(path);
      const next = script.shift();
      if (!next) throw new Error('polled past the script');
      if (next instanceof Error) throw next;
      return { status: 200, body: next };
    },
    post: async () => {
      throw new Error('no POST while following');
    },
  } as unknown as ApiClient;
  return { client, paths };
}

function output(isTTY: boolean): Output & { text: string } {
  return {
    text: '',
    isTTY,
    columns: 100,
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

describe('followTask', () => {
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  beforeEach(() => sleeps.splice(0));

  const early = taskDetail({ records: { ...taskDetail().records, processed: 1000 }, progress: 0.22, records_per_second: 300 });
  const later = taskDetail();
  const done = completed();

  it('redraws one terminal line in place, then ends it with the summary', async () => {
    const { client, paths } = scriptedClient([early, later, done]);
    const out = output(true);
    expect(await followTask(client, 's3-abc', out, { intervalMs: 250, sleep })).toBe(done);
    expect(out.text).toBe(`\r\x1b[2K${barLine(early, 100)}\r\x1b[2K${barLine(later, 100)}\r\x1b[2K${summaryLine(done)}\n`);
    expect(paths).toEqual(['/tasks/s3-abc', '/tasks/s3-abc', '/tasks/s3-abc']);
    expect(sleeps).toEqual([250, 250]);
  });

  it('prints a log line only when the work moved, and the errors before the summary', async () => {
    const stalled = { ...later, records_per_second: 100, eta_seconds: 30 };
    const partial = completed({ status: 'PARTIAL', errors: ['record 7: too many fields'], error_count: 1 });
    const { client } = scriptedClient([later, stalled, partial]);
    const out = output(false);
    await followTask(client, 's3-abc', out, { intervalMs: 1000, sleep });
    expect(out.text.split('\n')).toEqual([
      'RUNNING 52% 2,600/5,000 records, 412 records/s, ETA 6s',
      '  error: record 7: too many fields',
      summaryLine(partial),
      '',
    ]);
  });

  it('rides out two failed polls in a row, not a third', async () => {
    const blip = () => new UnreachableError('ECONNRESET');
    const { client } = scriptedClient([later, blip(), new ApiError(502, 'bad gateway', undefined), done]);
    await expect(followTask(client, 's3-abc', output(true), { intervalMs: 10, sleep })).resolves.toBe(done);

    const failing = scriptedClient([later, blip(), blip(), blip()]);
    const out = output(true);
    await expect(followTask(failing.client, 's3-abc', out, { intervalMs: 10, sleep })).rejects.toThrow('ECONNRESET');
    expect(out.text.endsWith('\n')).toBe(true);
  });

  it('gives up at once on an answer that will not change (an unknown task)', async () => {
    const { client } = scriptedClient([new ApiError(404, 'GET /tasks/nope: 404 no task', undefined)]);
    await expect(followTask(client, 'nope', output(false), { intervalMs: 10, sleep })).rejects.toThrow('404 no task');
    expect(sleeps).toEqual([]);
  });
});
