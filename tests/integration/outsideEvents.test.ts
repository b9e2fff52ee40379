/**
 * Other systems starting runs by publishing TaskRequested on the bus (here through the local
 * PutEvents endpoint, with the official EventBridge client), and the contract they rely on.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const ROOT = path.resolve(__dirname, '../..');

describe('TaskRequested from other systems (local runtime)', () => {
  let stack: LocalStack;
  let client: EventBridgeClient;

  beforeAll(async () => {
    stack = await startLocalStack();
    client = new EventBridgeClient({
      endpoint: stack.runtime.eventsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await stack?.stop();
  });

  const put = (detail: unknown, source = 'crm.exporter') =>
    client.send(new PutEventsCommand({ Entries: [{ Source: source, DetailType: 'TaskRequested', Detail: JSON.stringify(detail) }] }));
  const completions = (taskId: string) =>
    stack.runtime.bus
      .published()
      .filter((event) => event['detail-type'] === 'TaskCompleted' && (event.detail as { taskId: string }).taskId === taskId);

  it('runs records carried inline, with the requester’s task id, visible in /status', async () => {
    const records = [
      { id: 'crm-1', formatted_text: '<p>Customer asks about <b>red running shoes</b></p>', tier: 'gold', score: 7 },
      { id: 'crm-2', formatted_text: 'Refund for green tea', tier: null, score: 3 },
      { id: 'crm-3', formatted_text: '   ', tier: 'silver' },
    ];
    const output = await put({
      schemaVersion: 1,
      taskId: 'crm-push-1',
      source: { type: 'inline', name: 'crm', records },
      namespace: 'crm',
    });
    expect(output.FailedEntryCount).toBe(0);
    const status = await stack.waitForTask('crm-push-1');
    expect(status).toMatchObject({
      status: 'COMPLETED',
      data_source: 'inline',
      namespace: 'crm',
      records: { total: 3, processed: 2, skipped: 1, failed: 0 },
    });
    expect(status.source).toEqual({ type: 'inline', name: 'crm' });
    const stored = stack.pinecone.dump('crm');
    expect(stored.map((vector) => vector.id)).toEqual(['crm-1', 'crm-2']);
    expect(stored[0].metadata).toMatchObject({
      text: 'Customer asks about red running shoes',
      tier: 'gold',
      score: 7,
      _source: 'inline://crm',
      _data_source: 'inline',
    });
    expect(stored[1].metadata).not.toHaveProperty('tier');
    expect(completions('crm-push-1')).toHaveLength(1);
  });

  it('does not start a second run for a repeated event with the same task id', async () => {
    const detail = { schemaVersion: 1, taskId: 'crm-push-2', source: { type: 'inline', records: [{ id: 'r1', formatted_text: 'one' }] } };
    await put(detail);
    await put(detail);
    const status = await stack.waitForTask('crm-push-2');
    await put(detail);
    await stack.runtime.waitForIdle(30_000);
    expect((await stack.api('/status?task_id=crm-push-2')).body).toMatchObject({
      status: 'COMPLETED',
      records: status.records,
      chunks: status.chunks,
    });
    expect(status.records).toMatchObject({ total: 1, processed: 1 });
    expect(completions('crm-push-2')).toHaveLength(1);
  });

  it('assigns a task id from the event id when the requester gives none', async () => {
    const output = await put({ schemaVersion: 1, source: { type: 'inline', records: [{ formatted_text: 'no id column here' }] } });
    const taskId = `evt-${output.Entries?.[0].EventId}`;
    const status = await stack.waitForTask(taskId);
    expect(status).toMatchObject({ task_id: taskId, status: 'COMPLETED', records: { processed: 1 } });
    expect(
      stack.pinecone
        .dump(NAMESPACE)
        .filter((vector) => vector.metadata?._task_id === taskId)
        .map((vector) => vector.id),
    ).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/)]);
  });

  it('rejects an invalid outside event to the DLQ, naming the field, and starts nothing', async () => {
    const planner = stack.runtime.queues.get('planner')!;
    const before = planner.deadLetters.messages().length;
    await put({ schemaVersion: 1, taskId: 'bad-1', source: { type: 'inline', records: [] } });
    await stack.runtime.waitForIdle(30_000);
    const rejected = planner.deadLetters.messages().slice(before);
    expect(rejected).toHaveLength(1);
    expect(rejected[0].messageAttributes.reason).toMatch(
      /TaskRequested event is invalid: .*\/source\/records must NOT have fewer than 1 items/,
    );
    expect((await stack.api('/status?task_id=bad-1')).status).toBe(404);
  });

  it('runs an inline push close to the 1 MB event limit (more than a task item could hold)', async () => {
    const records = Array.from({ length: 1500 }, (_, i) => ({ id: `near-${i}`, formatted_text: `record ${i} ${'y'.repeat(560)}` }));
    const output = await put({ schemaVersion: 1, taskId: 'near-limit', source: { type: 'inline', records } });
    expect(output.FailedEntryCount).toBe(0);
    expect(await stack.waitForTask('near-limit')).toMatchObject({ status: 'COMPLETED', records: { total: 1500, processed: 1500 } });
  });

  it('refuses an inline push over the 1 MB event limit at PutEvents, losing nothing quietly', async () => {
    const records = Array.from({ length: 2000 }, (_, i) => ({ id: `big-${i}`, formatted_text: 'x'.repeat(600) }));
    await expect(put({ schemaVersion: 1, taskId: 'too-big', source: { type: 'inline', records } })).rejects.toThrow(
      /over the limit|too large|1 ?MB|bytes/i,
    );
    expect((await stack.api('/status?task_id=too-big')).status).toBe(404);
  });

  it('publishes events from a file with npm run publish-event', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'publish-event-'));
    const file = path.join(dir, 'event.json');
    writeFileSync(
      file,
      JSON.stringify({
        'detail-type': 'TaskRequested',
        source: 'cli.test',
        detail: { schemaVersion: 1, taskId: 'cli-1', source: { type: 'inline', records: [{ id: 'c1', formatted_text: 'from the cli' }] } },
      }),
    );
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsx'), ['local/publishEvent.ts', file], {
      cwd: ROOT,
      env: { ...process.env, EVENTBRIDGE_ENDPOINT: stack.runtime.eventsEndpoint },
    });
    expect(stdout).toMatch(/^TaskRequested: published as event [0-9a-f-]{36}$/m);
    expect(await stack.waitForTask('cli-1')).toMatchObject({ status: 'COMPLETED', records: { processed: 1 } });
  });
});
