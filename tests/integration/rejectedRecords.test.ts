/** A provider rejecting one input or one vector fails that record only; the rest of its batch goes through. */
import { createOfflineEmbedder } from '../../local/adapters/offlineEmbedder';
import { ProviderRejectedError } from '../../shared/errors';
import type { Embedder, VectorRecord, VectorStore } from '../../shared/ports';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

const badRequest = (message: string) => new ProviderRejectedError(message, { provider: 'test', status: 400 });

describe('provider 400s isolate the offending record (local runtime)', () => {
  let stack: LocalStack;
  const upserted: VectorRecord[] = [];

  beforeAll(async () => {
    const offline = createOfflineEmbedder();
    const embedder: Embedder = {
      ...offline,
      embed: async (inputs) => {
        if (inputs.some((input) => input.includes('POISON'))) throw badRequest("'$.input' is invalid.");
        return offline.embed(inputs);
      },
    };
    const vectors: VectorStore = {
      description: 'recording store',
      upsert: async (_namespace, records) => {
        if (records.some((record) => record.id === 'reject-me')) throw badRequest('Metadata value must be a string');
        upserted.push(...records);
      },
      fetch: async () => new Map(),
      delete: async () => undefined,
      query: async () => [],
    };
    stack = await startLocalStack({ runtime: { embedder, vectors } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('bisects rejected embedding and upsert batches down to the one bad record each', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i === 7 ? 'reject-me' : `r${i}`},${i === 23 ? 'POISON text' : `text ${i}`}`);
    await stack.putObject('bad/rows.csv', `id,formatted_text\n${rows.join('\n')}\n`);
    const started = await stack.api('/process?data_source=s3_csv&s3_key=bad/rows.csv');
    const status = await stack.waitForTask(started.body.task_id);
    expect(status).toMatchObject({ status: 'PARTIAL', records: { total: 40, processed: 38, failed: 2 } });
    expect(status.errors).toEqual([
      'record 8 (id reject-me): upsert rejected: Metadata value must be a string',
      "record 24 (id r23): embedding rejected: '$.input' is invalid.",
    ]);
    expect(upserted.map((record) => record.id).sort()).toEqual(
      rows
        .map((row) => row.split(',')[0])
        .filter((id) => id !== 'reject-me' && id !== 'r23')
        .sort(),
    );
  });
});
