/**
 * The CLI as a user runs it: a subprocess (cli/vectordb-catchup.cjs, as `npx vectordb-catchup`
 * starts it) against the local runtime as `npm start` runs it without keys (offline embedder,
 * LanceDB), told where the runtime is by the environment. The banner's example commands run as
 * printed; exit codes say how tasks ended.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT } from '../../cli/exitCodes';
import { createOfflineEmbedder } from '../../local/adapters/offlineEmbedder';
import { cliExamples, SAMPLE_CSV } from '../../local/tryExamples';
import { startLocalStack, TEST_API_KEY, type LocalStack } from '../helpers/localStack';

/** A port that was free a moment ago, and is closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'cli/vectordb-catchup.cjs');
const SAMPLE_ROWS = 40;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lastLine: string;
}

describe('CLI (subprocess) against the local runtime', () => {
  let stack: LocalStack;
  let scratch: string;

  /** Async, so that the runtime in this process keeps serving while the CLI waits for it. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, [ENTRY, ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmpdir(),
          VECTORDB_CATCHUP_API_URL: stack.runtime.apiUrl,
          VECTORDB_CATCHUP_API_KEY: TEST_API_KEY,
          VECTORDB_CATCHUP_S3_ENDPOINT: stack.runtime.s3Endpoint,
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, lastLine: stdout.trimEnd().split('\n').at(-1) ?? '' }));
    });
  const FAST = ['--interval', '0.1'];

  const csvFile = (name: string, text: string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, text);
    return file;
  };

  beforeAll(async () => {
    stack = await startLocalStack({ vectorStore: 'lancedb', runtime: { embedder: createOfflineEmbedder() } });
    scratch = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-cli-'));
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe("the banner's examples, as printed", () => {
    const [ingest, search, tasks] = cliExamples({ apiUrl: 'http://127.0.0.1:3000', s3Endpoint: 'http://127.0.0.1:4569', cwd: ROOT });
    let taskId: string;

    it('ingest the sample, follow it to COMPLETED and exit 0', async () => {
      const run = await cli(ingest);
      expect(run.stderr).toContain(`uploaded ${path.relative(ROOT, SAMPLE_CSV)}`);
      expect(run.lastLine).toBe(
        `COMPLETED ${SAMPLE_ROWS}/${SAMPLE_ROWS} records: ${SAMPLE_ROWS} processed, 0 skipped, 0 failed in ${run.lastLine.split(' in ')[1]}`,
      );
      expect(run.code).toBe(EXIT.ok);
      taskId = /^task (s3-[0-9a-f]{32})$/m.exec(run.stderr)?.[1] ?? '';
      expect(await stack.api(`/tasks/${taskId}`)).toMatchObject({
        status: 200,
        body: { status: 'COMPLETED', dataset: 'incoming/products.csv' },
      });
    });

    it('search finds the sample record in whose words it asks, first', async () => {
      const run = await cli(search);
      expect(run.code).toBe(EXIT.ok);
      const [heading, first, metadata] = run.stdout.split('\n');
      expect(heading).toBe('3 results in namespace integration');
      expect(first).toMatch(/^ 1\. \d\.\d{4} {2}p-002 {2}Waterproof leather hiking boots with ankle support and a Vibram sole/);
      expect(metadata.trim()).toBe('date=2025-01-09  category=footwear  price=189.00');
    });

    it('tasks lists it', async () => {
      const run = await cli(tasks);
      expect(run.code).toBe(EXIT.ok);
      expect(run.stdout).toMatch(new RegExp(`^${taskId} +COMPLETED +100% +40/40 +0 +incoming/products\\.csv `, 'm'));
    });

    it('status shows it, and --watch of an ended task ends at once with its outcome', async () => {
      const shown = await cli(['status', taskId]);
      expect(shown.code).toBe(EXIT.ok);
      expect(shown.stdout).toMatch(/^status +COMPLETED$/m);
      const watched = await cli(['status', taskId, '--watch', ...FAST]);
      expect([watched.code, watched.stdout.split('\n').length]).toEqual([EXIT.ok, 2]);
      expect(watched.lastLine).toMatch(/^COMPLETED 40\/40 records/);
    });

    it('cancel and retry of the completed task are refused', async () => {
      const cancel = await cli(['cancel', taskId]);
      expect(cancel.code).toBe(EXIT.apiError);
      expect(cancel.stderr).toMatch(`task ${taskId} had already ended: COMPLETED 40/40 records`);
      // Without POST /tasks/{task_id}/retry the API says it has no such route; with it, a COMPLETED task is a 409.
      const retry = await cli(['retry', taskId]);
      expect(retry.code).toBe(EXIT.apiError);
      expect(retry.stderr).toMatch(/has no POST \/tasks\/\{task_id\}\/retry: it is older than this CLI|409/);
    });
  });

  it('exits 4 for a FAILED task (no text column) and 3 for a PARTIAL one, with the reasons before the last line', async () => {
    const failed = await cli(['ingest', csvFile('no-text.csv', 'id,body\n1,hello\n'), '--watch', ...FAST]);
    expect(failed.code).toBe(EXIT.failed);
    expect(failed.stdout).toMatch(/^ {2}error: .*no-text\.csv has no text column "formatted_text"; its columns are: id, body$/m);
    expect(failed.lastLine).toMatch(/^FAILED /);

    const partial = await cli(['ingest', csvFile('ragged.csv', 'id,formatted_text\n1,hello\n2,a,b,c\n3,fine\n'), '--watch', ...FAST]);
    expect(partial.code).toBe(EXIT.partial);
    expect(partial.stdout).toMatch(/^ {2}error: record 2: record has 4 fields; the header has 2$/m);
    expect(partial.lastLine).toBe(`PARTIAL 3/3 records: 2 processed, 0 skipped, 1 failed in ${partial.lastLine.split(' in ')[1]}`);
  });

  it('with /process options, uploads outside the ingest prefix and starts the task itself; an s3:// object is read in place', async () => {
    const byRequest = await cli(['ingest', SAMPLE_CSV, '--namespace', 'cli-options', '--dataset', 'products', '--watch', ...FAST]);
    expect(byRequest.stderr).toContain(`to s3://${stack.runtime.config.bucketName}/uploads/products.csv`);
    expect([byRequest.code, byRequest.lastLine]).toEqual([EXIT.ok, expect.stringMatching(/^COMPLETED 40\/40 records/)]);
    const found = await cli(['search', 'titanium', 'cooking', 'pot', '--namespace', 'cli-options', '--json']);
    expect(JSON.parse(found.stdout).results[0]).toMatchObject({ id: 'p-023', metadata: { _dataset: 'products' } });

    const inPlace = await cli(['ingest', `s3://${stack.runtime.config.bucketName}/uploads/products.csv`, '--dry-run']);
    expect(inPlace.code).toBe(EXIT.ok);
    const taskId = inPlace.stdout.trim();
    expect((await stack.waitForTask(taskId)).dry_run).toBe(true);
  });

  it('exits 2 with the command help for a usage error, 7 for an unknown task, 8 when nothing answers', async () => {
    const usage = await cli(['ingest']);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toMatch(/^vectordb-catchup: missing <file\.csv \| s3:\/\/bucket\/key>\n\nUsage: vectordb-catchup ingest /);
    const noFile = await cli(['ingest', 'samples/nothing-here.csv']);
    expect([noFile.code, noFile.stderr.split('\n')[0]]).toEqual([EXIT.usage, 'vectordb-catchup: no such file: samples/nothing-here.csv']);

    const unknown = await cli(['status', 'no-such-task']);
    expect([unknown.code, unknown.stderr]).toEqual([
      EXIT.apiError,
      'vectordb-catchup: GET /tasks/no-such-task: 404 no task with task_id "no-such-task"\n',
    ]);

    const closed = await closedPort();
    const unreachable = await cli(['tasks'], { VECTORDB_CATCHUP_API_URL: `http://127.0.0.1:${closed}` });
    expect(unreachable.code).toBe(EXIT.unreachable);
    expect(unreachable.stderr).toMatch(`vectordb-catchup: cannot reach the API at http://127.0.0.1:${closed} (ECONNREFUSED)`);
  });
});
