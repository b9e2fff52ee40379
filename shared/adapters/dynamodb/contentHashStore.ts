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
import { ProviderUnavailableError } from '../../errors';
import type { ContentHashStore, StoredHash } from '../../ports';
import { retry } from '../retry';

const MAX_GET = 100;
const MAX_WRITE = 25;
const HASH_KEY_PREFIX = 'HASH#';

/** Eight attempts, backing off from 200 ms to at most 2 s: throttled items get up to 9 s of waiting to go through. */
const CONTENT_HASH_RETRY = { attempts: 8, baseMs: 200, capMs: 2_000 } as const;

/** The namespace's length keeps `ns#a` + `b` apart from `ns` + `a#b`. */
const hashKey = (namespace: string, id: string) => ({ pk: `${HASH_KEY_PREFIX}${namespace.length}:${namespace}#${id}`, sk: 'HASH' });

export function createDynamoContentHashStore(client: DynamoDBClient, tableName: string, sleep?: (ms: number) => Promise<void>): ContentHashStore {
  const db = DynamoDBDocumentClient.from(client);

  /** Batch calls may leave items unprocessed under throttling: resend those with backoff. */
  async function withUnprocessed<T>(initial: T, call: (pending: T) => Promise<T | undefined>): Promise<void> {
    let pending = initial;
    // Only unprocessed items are retried: an error the client throws (after its own retries) goes up as it is.
    await retry(
      async (attempt) => {
        const left = await call(pending);
        if (left === undefined) return;
        pending = left;
        throw new ProviderUnavailableError(`DynamoDB left items unprocessed after ${attempt} attempts`, {
          provider: 'dynamodb',
          attempts: attempt,
        });
      },
      CONTENT_HASH_RETRY,
      { retryable: (error) => error instanceof ProviderUnavailableError, sleep },
    );
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
