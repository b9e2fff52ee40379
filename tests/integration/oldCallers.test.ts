/**
 * The older system's callers send start_date on every call, CSV files too, whatever their date
 * column is called: through the local runtime, start_date applies to the first usual date column a
 * source has, a source without one is taken whole with a warning, and a date column named
 * explicitly that the file lacks still fails the task.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { csvOf } from '../helpers/csvFixtures';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const START_DATE = '2025-01-01';
/** Files over this go through the large-CSV state machine. */
const LARGE_CSV_THRESHOLD_BYTES = 4096;

/** `count` rows dated a day apart from 2024-12-23 under `dateColumn` (none when null): rows 1-9 are before START_DATE. */
function datedRows(prefix: string, count: number, dateColumn: string | null): Record<string, string>[] {
  return Array.from({ length: count }, (_, i) => {
    const day = new Date(Date.UTC(2024, 11, 23 + i)).toISOString().slice(0, 10);
    const row: Record<string, string> = { id: `${prefix}-${String(i + 1).padStart(4, '0')}`, formatted_text: `Row ${i + 1} of ${prefix}` };
    if (dateColumn) row[dateColumn] = day;
    return row;
  });
}
const BEFORE_START = 9;

describe('older callers: start_date on CSV files and inline records (local runtime)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // A segment plans one chunk: a large file's later segments resume without reading its header.
    stack = await startLocalStack({
      env: {
        CHUNK_SIZE: '10',
        LARGE_CSV_THRESHOLD_BYTES: String(LARGE_CSV_THRESHOLD_BYTES),
        LARGE_CSV_SEGMENT_BUDGET_MS: '1',
        LARGE_CSV_SEGMENT_MARGIN_MS: '0',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function run(key: string, csv: string, query = `&start_date=${START_DATE}`): Promise<any> {
    await stack.putObject(key, csv);
    const started = await stack.api(`/process?data_source=s3_csv&s3_key=${encodeURIComponent(key)}${query}`);
    expect(started.status).toBe(202);
    return stack.waitForTask(started.body.task_id);
  }

  const detailsOf = (detailType: string, taskId: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === detailType && (event.detail as { taskId: string }).taskId === taskId)
      .map((event) => event.detail as Record<string, any>);
  const storedIds = (prefix: string) =>
    stack.pinecone
      .dump(NAMESPACE)
      .map((vector) => vector.id)
      .filter((id) => id.startsWith(`${prefix}-`))
      .sort();

  it('skips the rows dated before start_date by a created_at column', async () => {
    const rows = datedRows('created', 30, 'created_at');
    const status = await run('old/created.csv', csvOf(rows));
    expect(status).toMatchObject({
      status: 'COMPLETED',
      start_date: START_DATE,
      records: { total: 30, processed: 30 - BEFORE_START, skipped: BEFORE_START, failed: 0 },
      warnings: [],
      errors: [],
    });
    expect(status.records.skipped_reasons).toEqual({ before_start_date: BEFORE_START });
    expect(storedIds('created')).toEqual(rows.slice(BEFORE_START).map((row) => row.id));
    const chunks = detailsOf('ChunkPlanned', status.task_id);
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk).toMatchObject({ startDate: START_DATE, columns: { date: 'created_at' } });
  });

  it('takes a file without any date column whole, and says in /status and TaskCompleted that start_date was not applied', async () => {
    const rows = datedRows('undated', 12, null);
    const status = await run('old/undated.csv', csvOf(rows));
    const warning =
      `start_date ${START_DATE} was not applied: s3://vectordb-catchup-local/old/undated.csv has no date column ` +
      '(none of date, created_at, updated_at, modified_at, timestamp), so every row was taken; name its date column with date_column or DATE_COLUMN';
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 12, processed: 12, skipped: 0, failed: 0 }, errors: [] });
    expect(status.warnings).toEqual([warning]);
    expect(storedIds('undated')).toEqual(rows.map((row) => row.id));
    for (const chunk of detailsOf('ChunkPlanned', status.task_id)) expect(chunk).not.toHaveProperty('startDate');
    expect(detailsOf('TaskCompleted', status.task_id)).toEqual([expect.objectContaining({ status: 'COMPLETED', warnings: [warning] })]);
  });

  it('fails a task whose date_column the file lacks, naming its columns', async () => {
    const status = await run(
      'old/unpublished.csv',
      csvOf(datedRows('unpublished', 3, 'created_at')),
      `&start_date=${START_DATE}&date_column=published`,
    );
    expect(status.status).toBe('FAILED');
    expect(status.errors).toEqual([
      'start_date was given but s3://vectordb-catchup-local/old/unpublished.csv has no date column "published"; its columns are: id, formatted_text, created_at',
    ]);
    expect(storedIds('unpublished')).toEqual([]);
  });

  it('resolves the date column of a large CSV in every segment of the state machine, in any case', async () => {
    const rows = datedRows('large', 120, 'Updated_At');
    const csv = csvOf(rows);
    expect(Buffer.byteLength(csv)).toBeGreaterThan(LARGE_CSV_THRESHOLD_BYTES);
    const status = await run('old/large.csv', csv);
    expect(status).toMatchObject({
      status: 'COMPLETED',
      records: {
        total: 120,
        processed: 120 - BEFORE_START,
        skipped: BEFORE_START,
        failed: 0,
        skipped_reasons: { before_start_date: BEFORE_START },
      },
      warnings: [],
    });
    const execution = stack.runtime.stateMachines.get('largeCsv')?.executions.get(status.task_id);
    expect(execution?.status).toBe('SUCCEEDED');
    expect((execution?.output as { segments: number }).segments).toBeGreaterThan(1);
    for (const chunk of detailsOf('ChunkPlanned', status.task_id)) {
      expect(chunk).toMatchObject({ startDate: START_DATE, columns: { date: 'Updated_At' } });
    }
  });

  it('warns once for a large CSV without any date column', async () => {
    const csv = csvOf(datedRows('large-undated', 120, null));
    expect(Buffer.byteLength(csv)).toBeGreaterThan(LARGE_CSV_THRESHOLD_BYTES);
    const status = await run('old/large-undated.csv', csv);
    expect(status).toMatchObject({ status: 'COMPLETED', records: { total: 120, processed: 120, skipped: 0, failed: 0 } });
    expect(status.warnings).toEqual([
      expect.stringMatching(/^start_date 2025-01-01 was not applied: s3:\/\/vectordb-catchup-local\/old\/large-undated\.csv/),
    ]);
  });

  it('filters inline records of a TaskRequested by their created_at column', async () => {
    const client = new EventBridgeClient({
      endpoint: stack.runtime.eventsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const rows = datedRows('inline', 15, 'created_at');
    const detail = {
      schemaVersion: 1,
      taskId: 'old-inline-1',
      startDate: START_DATE,
      source: { type: 'inline', name: 'crm', records: rows },
    };
    const output = await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'crm.exporter', DetailType: 'TaskRequested', Detail: JSON.stringify(detail) }] }),
    );
    client.destroy();
    expect(output.FailedEntryCount).toBe(0);
    const status = await stack.waitForTask('old-inline-1');
    expect(status).toMatchObject({
      status: 'COMPLETED',
      data_source: 'inline',
      records: {
        total: 15,
        processed: 15 - BEFORE_START,
        skipped: BEFORE_START,
        failed: 0,
        skipped_reasons: { before_start_date: BEFORE_START },
      },
      warnings: [],
    });
    expect(storedIds('inline')).toEqual(rows.slice(BEFORE_START).map((row) => row.id));
  });
});
