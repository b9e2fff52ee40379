/**
 * Large CSV files through the Step Functions fan-out, locally: the deployed definition
 * (infra/state-machine.asl.json) run by aws-local-stepfunctions, its tasks mapped to the same
 * handler modules. The threshold is set tiny so an ordinary fixture counts as "large", and the
 * segment budget so small that every segment plans one chunk: the loop runs several times.
 */
import type { Readable } from 'node:stream';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { sanitizeText } from '../../shared/domain/sanitize';
import { peopleCsv } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

describe('large CSV through the state machine (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      // One vector per record (the long one cut), so that ids map to rows; long texts are split in longTexts.test.ts.
      env: { LARGE_CSV_THRESHOLD_BYTES: '1024', LARGE_CSV_SEGMENT_BUDGET_MS: '1', LARGE_CSV_SEGMENT_MARGIN_MS: '0', LONG_TEXT: 'truncate' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const machine = () => stack.runtime.stateMachines.get('largeCsv')!;
  const chunkEvents = (taskId: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'ChunkPlanned' && (event.detail as { taskId?: string }).taskId === taskId);

  it('plans a CSV over the threshold in several segments and ends COMPLETED with exact counts', async () => {
    const csv = peopleCsv(3200);
    await stack.putObject('uploads/large.csv', csv.bytes);
    const started = await stack.api('/process', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data_source: 's3_csv', s3_key: 'uploads/large.csv', task_id: 'large-1' }),
    });
    expect(started.status).toBe(202);
    const status = await stack.waitForTask('large-1');

    expect(status.status).toBe('COMPLETED');
    expect(status.records).toMatchObject({
      total: 3200,
      processed: 3200 - csv.emptyTextIds.size,
      skipped: csv.emptyTextIds.size,
      failed: 0,
      truncated: 1,
    });
    expect(status.chunks).toEqual({ total: 4, completed: 4, failed: 0 });

    const execution = machine().executions.get('large-1')!;
    expect(execution.status).toBe('SUCCEEDED');
    // One chunk per segment: the loop went round at least once per chunk.
    expect(execution.output).toMatchObject({ taskId: 'large-1', records: 3200, chunks: 4, segments: expect.any(Number) });
    expect((execution.output as { segments: number }).segments).toBeGreaterThanOrEqual(4);

    // Every chunk announced once, the byte ranges tiling the file after the header.
    const ranges = chunkEvents('large-1')
      .map((event) => event.detail as { chunkIndex: number; source: { byteStart: number; byteEnd: number } })
      .sort((a, b) => a.chunkIndex - b.chunkIndex);
    expect(ranges.map((chunk) => chunk.chunkIndex)).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < ranges.length; i += 1) expect(ranges[i].source.byteStart).toBe(ranges[i - 1].source.byteEnd);
    expect(ranges[3].source.byteEnd).toBe(csv.bytes.length);

    const stored = stack.pinecone.dump(NAMESPACE).filter((vector) => vector.metadata?._task_id === 'large-1');
    const expectedIds = csv.rows
      .filter((row) => !csv.emptyTextIds.has(row.id))
      .map((row) => row.id)
      .sort();
    expect(stored.map((vector) => vector.id).sort()).toEqual(expectedIds);
    const byId = new Map(stored.map((vector) => [vector.id, vector]));
    for (const row of csv.rows.filter((r) => !csv.emptyTextIds.has(r.id) && !csv.longTextIds.has(r.id))) {
      expect(byId.get(row.id)?.metadata?.text).toBe(sanitizeText(row.formatted_text));
    }
    const completed = stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'TaskCompleted' && (event.detail as { taskId: string }).taskId === 'large-1');
    expect(completed).toHaveLength(1);
  });

  it('keeps a small CSV in the planner Lambda', async () => {
    await stack.putObject('uploads/small.csv', 'id,formatted_text\n1,hello\n2,world\n');
    const started = await stack.api('/process?data_source=s3_csv&s3_key=uploads/small.csv');
    const status = await stack.waitForTask(started.body.task_id);
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 2, processed: 2 } });
    expect(machine().executions.has(started.body.task_id)).toBe(false);
  });

  // s3rver ignores If-Match, so locally a changed object cannot answer 412 the way S3 does; a
  // deleted one answers 404 on both, which fails the segment the same way (a SourceError).
  it('fails the task with the reason when a segment fails (the object deleted between segments)', async () => {
    const csv = peopleCsv(3200);
    await stack.putObject('uploads/changing.csv', csv.bytes);
    const objects = stack.runtime.deps.objects;
    const read = objects.read.bind(objects);
    let deleted = false;
    // Just before the second segment's ranged read, the file is deleted: that read gets a real 404.
    objects.read = async (key: string, options?: { start?: number; end?: number; etag?: string }): Promise<Readable> => {
      if (key === 'uploads/changing.csv' && options?.start && options.end === undefined && !deleted) {
        deleted = true;
        await stack.runtime.emulators.s3.send(new DeleteObjectCommand({ Bucket: stack.runtime.config.bucketName, Key: key }));
      }
      return read(key, options);
    };
    try {
      await stack.api('/process', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data_source: 's3_csv', s3_key: 'uploads/changing.csv', task_id: 'large-changing' }),
      });
      const status = await stack.waitForTask('large-changing');
      expect(deleted).toBe(true);
      expect(status.status).toBe('FAILED');
      expect(JSON.stringify(status.errors)).toMatch(
        /large-CSV planning failed: SourceError: s3:\/\/vectordb-catchup-local\/uploads\/changing\.csv does not exist/,
      );
      expect(machine().executions.get('large-changing')!.status).toBe('FAILED');
    } finally {
      objects.read = read;
    }
  });

  it('fails the task when its execution dies without reaching its Catch (aborted)', async () => {
    const csv = peopleCsv(1200);
    await stack.putObject('uploads/aborted.csv', csv.bytes);
    const objects = stack.runtime.deps.objects;
    const read = objects.read.bind(objects);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached: () => void = () => undefined;
    const segmentReading = new Promise<void>((resolve) => (reached = resolve));
    objects.read = async (key, options) => {
      if (key === 'uploads/aborted.csv' && options?.end === undefined) {
        reached();
        await held;
      }
      return read(key, options);
    };
    try {
      await stack.api('/process', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data_source: 's3_csv', s3_key: 'uploads/aborted.csv', task_id: 'large-aborted' }),
      });
      // Only a segment reads the whole rest of the object: once that read is held, the execution is running.
      await segmentReading;
      expect(machine().executions.get('large-aborted')?.status).toBe('RUNNING');
      machine().executions.get('large-aborted')!.abort();
      const status = await stack.waitForTask('large-aborted');
      expect(machine().executions.get('large-aborted')!.status).toBe('ABORTED');
      expect(status.status).toBe('FAILED');
      expect(JSON.stringify(status.errors)).toMatch(/large-CSV planning failed: execution ABORTED/);
    } finally {
      release();
      objects.read = read;
    }
  });
});
