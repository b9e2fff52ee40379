/**
 * Tasks in one DynamoDB table (pk/sk): a task item holding the exact counts, and one item per
 * finished chunk. Every exactly-once step is a single-item conditional write, which DynamoDB and
 * dynalite both support (dynalite has no transactions).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AUTO_START_DATE } from '../../domain/catchup';
import type { Task } from '../../domain/task';
import type { ChunkEmbedded } from '../../events/types';
import type { TaskRepository } from '../../ports';
import { chunkKey, conditionalTaskUpdate, fromItem, SKIP_REASON_PREFIX, taskKey } from './taskItems';
import { listingAttributes } from './taskQueries';

/** Record-level errors kept on the task item; the rest stay on the chunk items. */
export const MAX_TASK_ERRORS = 50;
const TASK_TTL_DAYS = 90;

export function createDynamoTaskRepository(client: DynamoDBClient, tableName: string): TaskRepository {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  const update = conditionalTaskUpdate(db, tableName);

  async function get(taskId: string, options: { consistent?: boolean } = {}): Promise<Task | undefined> {
    const output = await db.send(
      new GetCommand({ TableName: tableName, Key: taskKey(taskId), ConsistentRead: options.consistent ?? true }),
    );
    return fromItem(output.Item);
  }

  async function mustGet(taskId: string): Promise<Task> {
    const task = await get(taskId);
    if (!task) throw new Error(`task ${taskId} does not exist`);
    return task;
  }

  return {
    get,

    async create(task, now) {
      const stamp = now.toISOString();
      const item = {
        ...taskKey(task.taskId),
        taskId: task.taskId,
        status: 'PENDING',
        dataSource: task.dataSource,
        namespace: task.namespace,
        request: task.request,
        planned: false,
        recordsTotal: 0,
        processed: 0,
        skipped: 0,
        failed: 0,
        truncated: 0,
        chunksTotal: 0,
        chunksCompleted: 0,
        chunksFailed: 0,
        tokens: 0,
        errors: [],
        errorCount: 0,
        completionAnnounced: false,
        createdAt: stamp,
        updatedAt: stamp,
        expiresAt: Math.floor(now.getTime() / 1000) + TASK_TTL_DAYS * 86400,
        ...listingAttributes(task.request, stamp),
      };
      try {
        await db.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
        return { created: true, task: fromItem(item) as Task };
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        return { created: false, task: await mustGet(task.taskId) };
      }
    },

    async start(taskId, now) {
      const started = await update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET #status = :running, startedAt = if_not_exists(startedAt, :now), updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND #status IN (:pending, :running)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING', ':pending': 'PENDING', ':now': now.toISOString() },
      });
      return started;
    },

    async settleStartDate(taskId, startDate, basis, now) {
      const settled = await update({
        Key: taskKey(taskId),
        UpdateExpression: `${startDate ? 'SET #request.startDate = :date, ' : 'REMOVE #request.startDate SET '}startDateBasis = :basis, updatedAt = :now`,
        ConditionExpression: '#request.startDate = :auto',
        ExpressionAttributeNames: { '#request': 'request' },
        ExpressionAttributeValues: {
          ...(startDate ? { ':date': startDate } : {}),
          ':basis': basis,
          ':auto': AUTO_START_DATE,
          ':now': now.toISOString(),
        },
      });
      return settled ?? mustGet(taskId);
    },

    async noteSweep(taskId, seen, now) {
      const swept = await update({
        Key: taskKey(taskId),
        // updatedAt stays: it is the task's last progress, which the sweep is not.
        UpdateExpression: 'SET sweeps = :next, sweptAt = :now',
        ConditionExpression:
          'updatedAt = :updatedAt AND (sweeps = :sweeps OR attribute_not_exists(sweeps)) AND #status IN (:pending, :running)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':next': (seen.sweeps ?? 0) + 1,
          ':now': now.toISOString(),
          ':updatedAt': seen.updatedAt,
          ':sweeps': seen.sweeps ?? 0,
          ':pending': 'PENDING',
          ':running': 'RUNNING',
        },
      });
      return swept !== undefined;
    },

    async reopen(taskId, attempt, chunks, now) {
      const counts = countChanges(chunks, -1);
      const names = { ...counts.names, '#status': 'status', '#attempt': 'attempt', '#errors': 'errors' };
      const values = {
        ...counts.values,
        ':partial': 'PARTIAL',
        ':failed': 'FAILED',
        ':running': 'RUNNING',
        ':from': attempt,
        ':next': attempt + 1,
        ':none': [],
        ':false': false,
        ':now': now.toISOString(),
        ':indices': new Set(chunks.map((chunk) => chunk.chunkIndex)),
      };
      const { additions } = counts;
      return update({
        Key: taskKey(taskId),
        UpdateExpression:
          'SET #status = :running, #attempt = :next, #errors = :none, completionAnnounced = :false, updatedAt = :now ' +
          `REMOVE completedAt ADD ${additions.join(', ')} DELETE doneChunks :indices`,
        ConditionExpression: `#status IN (:partial, :failed) AND ${attempt === 1 ? '(attribute_not_exists(#attempt) OR #attempt = :from)' : '#attempt = :from'}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    },

    async completePlan(taskId, totals, now) {
      const planned = await update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET planned = :true, recordsTotal = :records, chunksTotal = :chunks, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND planned = :false',
        ExpressionAttributeValues: {
          ':true': true,
          ':false': false,
          ':records': totals.records,
          ':chunks': totals.chunks,
          ':now': now.toISOString(),
        },
      });
      return planned ?? mustGet(taskId);
    },

    async isChunkRecorded(taskId, chunkIndex, attempt = 1) {
      const output = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: chunkKey(taskId, chunkIndex),
          ProjectionExpression: 'pk, attempt',
          ConsistentRead: true,
        }),
      );
      return output.Item !== undefined && Number(output.Item.attempt ?? 1) >= attempt;
    },

    async recordChunk(result, now) {
      const stamp = now.toISOString();
      const attempt = result.attempt ?? 1;
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...chunkKey(result.taskId, result.chunkIndex),
              ...result,
              recordedAt: stamp,
              expiresAt: Math.floor(now.getTime() / 1000) + TASK_TTL_DAYS * 86400,
            },
            // A late duplicate of an earlier attempt never overwrites a retry's result.
            ConditionExpression: attempt === 1 ? 'attribute_not_exists(attempt)' : 'attribute_not_exists(attempt) OR attempt <= :attempt',
            ...(attempt === 1 ? {} : { ExpressionAttributeValues: { ':attempt': attempt } }),
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        return { applied: false, task: await mustGet(result.taskId) };
      }
      const counts = countChanges([result], 1);
      const names = { ...counts.names, '#attempt': 'attempt' };
      const values = {
        ...counts.values,
        ':chunk': new Set([result.chunkIndex]),
        ':index': result.chunkIndex,
        ':now': stamp,
        ':attempt': attempt,
      };
      const additions = ['doneChunks :chunk', ...counts.additions];
      const applied = await update({
        Key: taskKey(result.taskId),
        UpdateExpression: `ADD ${additions.join(', ')} SET updatedAt = :now`,
        // The chunk index joins a set in the same write that adds its counts: a redelivered
        // ChunkEmbedded finds its index there and changes nothing.
        // Only the task's current attempt counts: a retry took the chunk out of the set and its counts out.
        ConditionExpression: `attribute_exists(pk) AND NOT contains(doneChunks, :index) AND ${attempt === 1 ? '(attribute_not_exists(#attempt) OR #attempt = :attempt)' : '#attempt = :attempt'}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      if (!applied) return { applied: false, task: await mustGet(result.taskId) };
      if (result.errors?.length && applied.errors.length < MAX_TASK_ERRORS) {
        const messages = result.errors
          .slice(0, MAX_TASK_ERRORS - applied.errors.length)
          .map((error) => describeRecordError(result.chunkIndex, error));
        const withErrors = await update({
          Key: taskKey(result.taskId),
          UpdateExpression: 'SET #errors = list_append(#errors, :messages)',
          ConditionExpression: 'size(#errors) < :max',
          ExpressionAttributeNames: { '#errors': 'errors' },
          ExpressionAttributeValues: { ':messages': messages, ':max': MAX_TASK_ERRORS },
        });
        return { applied: true, task: withErrors ?? applied };
      }
      return { applied: true, task: applied };
    },

    async finish(taskId, status, now, error) {
      const values: Record<string, unknown> = { ':final': status, ':pending': 'PENDING', ':running': 'RUNNING', ':now': now.toISOString() };
      let expression = 'SET #status = :final, completedAt = :now, updatedAt = :now';
      if (error) {
        expression += ', #errors = list_append(:error, #errors)';
        values[':error'] = [error];
      }
      return update({
        Key: taskKey(taskId),
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(pk) AND #status IN (:pending, :running)',
        ExpressionAttributeNames: { '#status': 'status', ...(error ? { '#errors': 'errors' } : {}) },
        ExpressionAttributeValues: values,
      });
    },

    async markCompletionAnnounced(taskId) {
      await update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET completionAnnounced = :true',
        ExpressionAttributeValues: { ':true': true },
      });
    },

    async addWarning(taskId, warning, now) {
      await update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET warnings = list_append(if_not_exists(warnings, :none), :warning), updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND NOT contains(warnings, :text)',
        ExpressionAttributeValues: { ':none': [], ':warning': [warning], ':text': warning, ':now': now.toISOString() },
      });
    },
  };
}

function describeRecordError(chunkIndex: number, error: NonNullable<ChunkEmbedded['errors']>[number]): string {
  const where = error.recordNumber ? `record ${error.recordNumber}` : `chunk ${chunkIndex}`;
  return `${where}${error.id ? ` (id ${error.id})` : ''}: ${error.message}`;
}

/**
 * The ADD terms that move a task's counts by chunk results, times `sign`: +1 records a result, -1
 * takes results out (a retry of those chunks). Skip reasons are attributes of their own.
 */
function countChanges(results: ChunkEmbedded[], sign: 1 | -1) {
  const total = (pick: (result: ChunkEmbedded) => number) => sign * results.reduce((sum, result) => sum + pick(result), 0);
  const names: Record<string, string> = { '#processed': 'processed', '#skipped': 'skipped', '#failedRecords': 'failed' };
  const values: Record<string, unknown> = {
    ':processed': total((result) => result.records.processed),
    ':skipped': total((result) => result.records.skipped),
    ':failedRecords': total((result) => result.records.failed),
    ':truncated': total((result) => result.records.truncated),
    ':split': total((result) => result.records.split ?? 0),
    ':tokens': total((result) => result.tokens),
    ':upserted': total((result) => result.vectors?.upserted ?? 0),
    ':metadataUpdated': total((result) => result.vectors?.metadataUpdated ?? 0),
    ':deleted': total((result) => result.vectors?.deleted ?? 0),
    ':errorCount': total((result) => result.errors?.length ?? 0),
    ':chunksCompleted': total((result) => (result.outcome === 'failed' ? 0 : 1)),
    ':chunksFailed': total((result) => (result.outcome === 'failed' ? 1 : 0)),
  };
  const additions = [
    '#processed :processed',
    '#skipped :skipped',
    '#failedRecords :failedRecords',
    'truncated :truncated',
    'splitRecords :split',
    'tokens :tokens',
    'vectorsUpserted :upserted',
    'vectorsMetadataUpdated :metadataUpdated',
    'vectorsDeleted :deleted',
    'errorCount :errorCount',
    'chunksCompleted :chunksCompleted',
    'chunksFailed :chunksFailed',
  ];
  const reasons = new Map<string, number>();
  for (const result of results)
    for (const [reason, count] of Object.entries(result.records.skippedReasons ?? {}))
      reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  [...reasons].forEach(([reason, count], i) => {
    names[`#reason${i}`] = `${SKIP_REASON_PREFIX}${reason}`;
    values[`:reason${i}`] = sign * count;
    additions.push(`#reason${i} :reason${i}`);
  });
  return { names, values, additions };
}
