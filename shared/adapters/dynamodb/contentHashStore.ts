/**
 * What each vector was last written from, in the task table: one small item per (namespace, id)
 * holding two fingerprints (the embedded input, the metadata), its dataset, the task that wrote
 * it, how, and the tokens its input took. Checking a chunk costs ceil(records/100) BatchGetItem
 * calls (0.5 read unit per record, eventually consistent); noting a write costs one write unit per
 * record written, plus one for the dataset index. Unchanged records cost reads only, except in a
 * full sync, which marks each one seen (one write unit, plus one for the index).
 *
 * The `dataset` global secondary index lists a dataset's vectors in id order (keys and `seenBy`
 * only), so that a full sync finds what it did not see page by page, never holding the ids.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ProviderUnavailableError } from '../../errors';
import { inParallel } from '../../domain/inParallel';
import type { ContentHashStore, Logger, StoredVector } from '../../ports';
import { retry, warnBeforeRetry } from '../retry';

const MAX_GET = 100;
const MAX_WRITE = 25;
/** Batch calls of one read or write in flight at once: a chunk's 40 batch writes of 25 wait for 10 round trips, not 40. */
const PARALLEL_BATCHES = 4;

/** `items` in slices of `size`. */
const slices = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
const HASH_KEY_PREFIX = 'HASH#';

/** Eight attempts, backing off from 200 ms to at most 2 s: throttled items get up to 9 s of waiting to go through. */
const CONTENT_HASH_RETRY = { attempts: 8, baseMs: 200, capMs: 2_000 } as const;

/** The index a full sync pages through, and its key attributes (see the table definition). */
export const DATASET_INDEX = { name: 'dataset', partitionKey: 'dpk', sortKey: 'dsk', projected: ['seenBy', 'write'] } as const;

/** The namespace's length keeps `ns#a` + `b` apart from `ns` + `a#b`. */
const hashKey = (namespace: string, id: string) => ({ pk: `${HASH_KEY_PREFIX}${namespace.length}:${namespace}#${id}`, sk: 'HASH' });
const datasetKey = (namespace: string, dataset: string) => `DATASET#${namespace.length}:${namespace}#${dataset}`;

type Item = StoredVector & { id: string; expiresAt?: number };

/** Long enough for every retry of the chunk that deleted it; DynamoDB's TTL removes the marker after. */
const DELETION_MARKER_TTL_DAYS = 30;

function toItem(namespace: string, vector: Item): Record<string, unknown> {
  const { id, dataset } = vector;
  const index = dataset ? { [DATASET_INDEX.partitionKey]: datasetKey(namespace, dataset), [DATASET_INDEX.sortKey]: id } : {};
  return { ...hashKey(namespace, id), ...index, ...vector };
}

const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');
const decodeCursor = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;

export interface ContentHashStoreOptions {
  /** How to wait between attempts; tests pass one that records the delays. */
  sleep?: (ms: number) => Promise<void>;
  /** Where a batch about to be sent again for its unprocessed items is one WARN line. */
  logger?: Pick<Logger, 'warn'>;
}

export function createDynamoContentHashStore(
  client: DynamoDBClient,
  tableName: string,
  { sleep, logger }: ContentHashStoreOptions = {},
): ContentHashStore {
  const db = DynamoDBDocumentClient.from(client);

  /** Batch calls may leave items unprocessed under throttling: resend those with backoff. */
  async function withUnprocessed<T>(operation: string, initial: T, call: (pending: T) => Promise<T | undefined>): Promise<void> {
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
      { retryable: (error) => error instanceof ProviderUnavailableError, sleep, onRetry: warnBeforeRetry(logger, `DynamoDB ${operation}`) },
    );
  }

  async function batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    await withUnprocessed('BatchWriteItem of content hashes', requests, async (pending) => {
      const output = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      const left = output.UnprocessedItems?.[tableName];
      return left?.length ? (left as typeof pending) : undefined;
    });
  }

  /** A batch may not name one key twice; the last entry of an id is the one written last. */
  async function writeItems(namespace: string, items: Item[]): Promise<void> {
    const latest = [...new Map(items.map((item) => [item.id, item])).values()];
    const requests = latest.map((item) => ({ PutRequest: { Item: toItem(namespace, item) } }));
    await inParallel(slices(requests, MAX_WRITE), PARALLEL_BATCHES, batchWrite);
  }

  return {
    async get(namespace, ids, options = {}) {
      const hashes = new Map<string, StoredVector>();
      const unique = [...new Set(ids)];
      await inParallel(slices(unique, MAX_GET), PARALLEL_BATCHES, async (batch) => {
        const keys = batch.map((id) => hashKey(namespace, id));
        await withUnprocessed('BatchGetItem of content hashes', keys, async (pending) => {
          const output = await db.send(
            new BatchGetCommand({
              RequestItems: {
                [tableName]: {
                  Keys: pending,
                  ConsistentRead: options.consistent === true,
                  ProjectionExpression: 'id, inputHash, metadataHash, dataset, taskId, #write, tokens, seenBy, pieces',
                  ExpressionAttributeNames: { '#write': 'write' },
                },
              },
            }),
          );
          for (const item of output.Responses?.[tableName] ?? []) {
            const { id, ...stored } = item as Item;
            // Items of the older single-hash format carry no fingerprints: their vectors are written again once.
            if (typeof stored.inputHash === 'string') hashes.set(id, stored);
          }
          const left = output.UnprocessedKeys?.[tableName]?.Keys;
          return left?.length ? (left as typeof pending) : undefined;
        });
      });
      return hashes;
    },

    async put(namespace, entries, taskId, options = {}) {
      const seen = options.seen ? { seenBy: taskId } : {};
      await writeItems(
        namespace,
        entries.map((entry) => ({ ...entry, taskId, ...seen })),
      );
    },

    async markSeen(namespace, vectors, taskId) {
      await writeItems(
        namespace,
        vectors.map((vector) => ({ ...vector, seenBy: taskId })),
      );
    },

    async markDeleted(namespace, ids, taskId) {
      const expiresAt = Math.floor(Date.now() / 1000) + DELETION_MARKER_TTL_DAYS * 86400;
      const markers = ids.map((id) => ({ id, inputHash: '', metadataHash: '', taskId, write: 'delete' as const, expiresAt }));
      await writeItems(namespace, markers);
    },

    async delete(namespace, ids) {
      const requests = [...new Set(ids)].map((id) => ({ DeleteRequest: { Key: hashKey(namespace, id) } }));
      await inParallel(slices(requests, MAX_WRITE), PARALLEL_BATCHES, batchWrite);
    },

    async scanDataset(namespace, dataset, { cursor, limit }) {
      const output = await db.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: DATASET_INDEX.name,
          KeyConditionExpression: '#dpk = :dataset',
          ExpressionAttributeNames: { '#dpk': DATASET_INDEX.partitionKey },
          ExpressionAttributeValues: { ':dataset': datasetKey(namespace, dataset) },
          Limit: limit,
          ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor) } : {}),
        }),
      );
      const entries = (output.Items ?? []).map((item) => ({
        id: item[DATASET_INDEX.sortKey] as string,
        seenBy: item.seenBy as string | undefined,
        write: item.write as StoredVector['write'],
      }));
      return { entries, ...(output.LastEvaluatedKey ? { cursor: encodeCursor(output.LastEvaluatedKey) } : {}) };
    },
  };
}
