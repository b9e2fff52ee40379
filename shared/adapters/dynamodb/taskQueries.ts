/**
 * The operators' reads of the task table: tasks newest first through the `byCreated` index, and
 * each chunk's recorded result (the CHUNK# items beside the task item).
 *
 * Every task item carries the index keys from its creation: one constant partition and a sort key
 * `createdAt#taskId`, so one Query in descending order lists them newest first, with no Scan. Tasks
 * are created far below the 1,000 writes a second one index partition takes, so no time buckets
 * are needed. The index projects only what a list shows (INCLUDE, ~300 bytes a task): each update
 * of a task's counts costs one more write unit, instead of copying the task item (up to 400 KB
 * with its chunk set) into the index. Tasks created before the index existed are not listed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { datasetOf, type DataSource, type TaskRequest, type TaskStatus } from '../../domain/task';
import { InvalidInputError } from '../../errors';
import type { RecordedChunk, TaskQueries, TaskSummary } from '../../ports';
import { chunkSortKey } from './taskItems';

export const CREATED_INDEX = {
  name: 'byCreated',
  partitionKey: 'cpk',
  sortKey: 'csk',
  projected: [
    'taskId',
    'status',
    'dataSource',
    'namespace',
    'dataset',
    'dryRun',
    'planned',
    'recordsTotal',
    'processed',
    'skipped',
    'failed',
    'tokens',
    'createdAt',
    'updatedAt',
    'startedAt',
    'completedAt',
  ],
} as const;
const CREATED_PARTITION = 'TASKS';

/** What `create` adds to a task item so that the listing finds it, and filters it by dataset. */
export function listingAttributes(request: TaskRequest, createdAt: string): Record<string, unknown> {
  return {
    [CREATED_INDEX.partitionKey]: CREATED_PARTITION,
    [CREATED_INDEX.sortKey]: `${createdAt}#${request.taskId}`,
    dataset: datasetOf(request),
    dryRun: request.dryRun === true,
  };
}

/** Index items read per Query when a filter may leave most of them out (each ~300 bytes: ~75 read units at most). */
const FILTERED_PAGE_ITEMS = 500;
/** Queries per listing call; past them the page ends short, with a cursor. */
const MAX_QUERIES = 4;
const CURSOR_KEYS = ['pk', 'sk', CREATED_INDEX.partitionKey, CREATED_INDEX.sortKey] as const;

export function createDynamoTaskQueries(client: DynamoDBClient, tableName: string): TaskQueries {
  const db = DynamoDBDocumentClient.from(client);
  return {
    async list(filter, { limit, cursor }) {
      const names: Record<string, string> = { '#partition': CREATED_INDEX.partitionKey };
      const values: Record<string, unknown> = { ':partition': CREATED_PARTITION };
      const conditions: string[] = [];
      const match = (attribute: string, value: string | undefined) => {
        if (value === undefined) return;
        names[`#${attribute}`] = attribute;
        values[`:${attribute}`] = value;
        conditions.push(`#${attribute} = :${attribute}`);
      };
      match('status', filter.status);
      match('dataSource', filter.dataSource);
      match('dataset', filter.dataset);
      const items: Record<string, unknown>[] = [];
      let start = cursor === undefined ? undefined : decodeCursor(cursor);
      for (let query = 0; query < MAX_QUERIES; query += 1) {
        const output = await db.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: CREATED_INDEX.name,
            KeyConditionExpression: '#partition = :partition',
            ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            // One more than asked tells whether another page exists.
            Limit: conditions.length ? FILTERED_PAGE_ITEMS : limit + 1,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of output.Items ?? []) {
          if (items.length === limit) return { tasks: items.map(summaryOf), cursor: encodeCursor(items[items.length - 1]) };
          items.push(item);
        }
        start = output.LastEvaluatedKey;
        if (!start) return { tasks: items.map(summaryOf) };
      }
      return { tasks: items.map(summaryOf), cursor: encodeCursor(start as Record<string, unknown>) };
    },

    async chunkResults(taskId, { from, to }) {
      const chunks: RecordedChunk[] = [];
      if (to <= from) return chunks;
      let start: Record<string, unknown> | undefined;
      do {
        const output = await db.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': `TASK#${taskId}`, ':from': chunkSortKey(from), ':to': chunkSortKey(to - 1) },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of output.Items ?? []) {
          const chunk = { ...item };
          for (const key of ['pk', 'sk', 'expiresAt']) delete chunk[key];
          chunks.push(chunk as RecordedChunk);
        }
        start = output.LastEvaluatedKey;
      } while (start);
      return chunks;
    },
  };
}

function summaryOf(item: Record<string, unknown>): TaskSummary {
  const number = (name: string) => Number(item[name] ?? 0);
  return {
    taskId: item.taskId as string,
    status: item.status as TaskStatus,
    dataSource: item.dataSource as DataSource,
    namespace: item.namespace as string,
    dataset: item.dataset as string,
    dryRun: item.dryRun === true,
    planned: item.planned === true,
    records: { total: number('recordsTotal'), processed: number('processed'), skipped: number('skipped'), failed: number('failed') },
    tokens: number('tokens'),
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    ...(item.startedAt ? { startedAt: item.startedAt as string } : {}),
    ...(item.completedAt ? { completedAt: item.completedAt as string } : {}),
  };
}

/** The index position after `item`: its table and index keys. */
function encodeCursor(item: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(CURSOR_KEYS.map((key) => item[key]))).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  let keys: unknown;
  try {
    keys = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    keys = undefined;
  }
  const valid =
    Array.isArray(keys) &&
    keys.length === CURSOR_KEYS.length &&
    keys.every((key) => typeof key === 'string') &&
    keys[2] === CREATED_PARTITION &&
    String(keys[0]).startsWith('TASK#');
  if (!valid) throw new InvalidInputError('cursor is not one this API answered (pass next_cursor as it came)', 'cursor');
  return Object.fromEntries(CURSOR_KEYS.map((key, i) => [key, (keys as string[])[i]]));
}
