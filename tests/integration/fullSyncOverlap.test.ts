/**
 * One full sync of a dataset at a time (local runtime): a full sync started while another of the
 * same dataset is running ends CANCELLED at once, writing nothing, with a warning naming the one
 * going; that one completes as if alone, and once it has ended the dataset takes a full sync again.
 */
import { NAMESPACE, startLocalStack, type LocalStack } from '../helpers/localStack';

const csvOf = (prefix: string, count: number) =>
  `id,formatted_text\n${Array.from({ length: count }, (_, i) => `${prefix}-${i + 1},${prefix} item ${i + 1}`).join('\n')}\n`;

describe('overlapping full syncs of one dataset (local runtime)', () => {
  let stack: LocalStack;
  let slow = false;

  beforeAll(async () => {
    stack = await startLocalStack({ openai: { latencyMs: () => (slow ? 1500 : 0) }, env: { CHUNK_SIZE: '10' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function start(key: string): Promise<string> {
    const { status, body } = await stack.api(`/process?data_source=s3_csv&s3_key=${key}&dataset=people&sync=full`);
    expect(status).toBe(202);
    return body.task_id;
  }

  async function untilRunning(taskId: string): Promise<void> {
    for (let i = 0; i < 400; i += 1) {
      const { body } = await stack.api(`/status?task_id=${taskId}`);
      if (body.status === 'RUNNING' && body.chunks.total > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`task ${taskId} never ran`);
  }

  it('cancels the second at once with the reason; the first completes alone; the next runs once it has ended', async () => {
    await stack.putObject('people/a.csv', csvOf('a', 30));
    await stack.putObject('people/b.csv', csvOf('b', 30));
    slow = true;
    const first = await start('people/a.csv');
    await untilRunning(first);
    const second = await start('people/b.csv');
    slow = false;

    const refused = await stack.waitForTask(second);
    expect(refused).toMatchObject({ status: 'CANCELLED', records: { processed: 0 }, vectors: { upserted: 0, deleted: 0 } });
    expect(refused.warnings).toContain(
      `full sync of dataset "people" in namespace "${NAMESPACE}" not started: task ${first}, a full sync of the same dataset, ` +
        'is still RUNNING; run it again once that one has ended',
    );
    const completed = await stack.waitForTask(first);
    expect(completed).toMatchObject({ status: 'COMPLETED', records: { processed: 30 }, sync: { mode: 'full', deleted: 0 } });

    // The dataset is free again: b's full sync replaces a's rows.
    const next = await stack.waitForTask(await start('people/b.csv'));
    expect(next).toMatchObject({ status: 'COMPLETED', records: { processed: 30 }, sync: { mode: 'full', deleted: 30 } });
    const ids = stack.pinecone.dump(NAMESPACE).map((vector) => vector.id);
    expect(ids.filter((id) => id.startsWith('a-'))).toEqual([]);
    expect(ids.filter((id) => id.startsWith('b-'))).toHaveLength(30);
  });
});
