/**
 * The content hash of each vector last upserted, in the task table: one small item per
 * (namespace, id). Checking a chunk costs ceil(records/100) BatchGetItem calls (0.5 read unit per
 * record, eventually consistent); recording costs one write unit per record actually upserted.
 * An unchanged re-run therefore spends no embedding tokens and no upserts, only reads. Each item
 * also names the task that upserted it and the tokens its input took, so that a retried chunk
 * counts what its earlier attempt upserted as processed, not as unchanged.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ContentHashStore, StoredHash } from '../../ports';

const MAX_GET = 100;
const MAX_WRITE = 25;
const MAX_ATTEMPTS = 8;
const HASH_KEY_PREFIX = 'HASH#';

/** The namespace's length keeps `ns#a` + `b` apart from `ns` + `a#b`. */
const hashKey = (namespace: string, id: string) => ({ pk: `${HASH_KEY_PREFIX}${namespace.length}:${namespace}#${id}`, sk: 'HASH' });

export function createDynamoContentHashStore(client: DynamoDBClient, tableName: string, sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))): ContentHashStore {
  const db = DynamoDBDocumentClient.from(client);

  /** Batch calls may leave items unprocessed under throttling: resend those with backoff. */
  async function withUnprocessed<T>(initial: T, call: (pending: T) => Promise<T | undefined>): Promise<void> {
    let pending: T | undefined = initial;
    for (let attempt = 1; pending; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`DynamoDB left items unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 1) await sleep(Math.min(2000, 50 * 2 ** attempt) * Math.random());
      pending = await call(pending);
    }
  }

  return {
    async get(namespace, ids) {
      const hashes = new Map<string, StoredHash>();
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += MAX_GET) {
        const keys = unique.slice(i, i + MAX_GET).map((id) => hashKey(namespace, id));
        await withUnprocessed(keys, async (pending) => {
          const output = await db.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ProjectionExpression: 'id, #hash, taskId, tokens', ExpressionAttributeNames: { '#hash': 'hash' } } } }),
          );
          for (const item of output.Responses?.[tableName] ?? []) {
            hashes.set(item.id as string, { hash: item.hash as string, taskId: item.taskId as string | undefined, tokens: item.tokens as number | undefined });
          }
          const left = output.UnprocessedKeys?.[tableName]?.Keys;
          return left?.length ? (left as typeof pending) : undefined;
        });
      }
      return hashes;
    },

    async put(namespace, entries, taskId) {
      // A batch may not name one key twice; the last hash of an id is the one upserted last.
      const latest = [...new Map(entries.map((entry) => [entry.id, entry])).values()];
      for (let i = 0; i < latest.length; i += MAX_WRITE) {
        const requests = latest.slice(i, i + MAX_WRITE).map(({ id, hash, tokens }) => ({ PutRequest: { Item: { ...hashKey(namespace, id), id, hash, taskId, tokens } } }));
        await withUnprocessed(requests, async (pending) => {
          const output = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
          const left = output.UnprocessedItems?.[tableName];
          return left?.length ? (left as typeof pending) : undefined;
        });
      }
    },
  };
}
