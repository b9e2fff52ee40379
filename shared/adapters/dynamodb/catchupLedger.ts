/**
 * Catch-ups' bookkeeping on the task table: one item per catch-up key, holding the watermark and
 * the ids of the runs still going. Every change is one single-item write (dynalite has no
 * transactions): a claim is conditional on the version it read, and every begin bumps it.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CatchupLedger } from '../../ports';

const catchupKey = (key: string) => ({ pk: `CATCHUP#${key}`, sk: 'CATCHUP' });

export function createDynamoCatchupLedger(client: DynamoDBClient, tableName: string): CatchupLedger {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  /** A conditional update; false when its condition did not hold. */
  async function update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await db.send(new UpdateCommand({ TableName: tableName, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return {
    async get(key) {
      const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: catchupKey(key), ConsistentRead: true }));
      const running = Item?.running instanceof Set ? [...(Item.running as Set<string>)].sort() : [];
      return {
        ...(Item?.watermarkTaskId
          ? { watermark: { taskId: Item.watermarkTaskId as string, startedAt: Item.watermarkStartedAt as string } }
          : {}),
        running,
        version: Number(Item?.version ?? 0),
      };
    },

    async begin(key, taskId) {
      await update({
        Key: catchupKey(key),
        UpdateExpression: 'ADD running :ids, version :one',
        ExpressionAttributeValues: { ':ids': new Set([taskId]), ':one': 1 },
      });
    },

    claim(key, taskId, version) {
      return update({
        Key: catchupKey(key),
        // Its caller found every run in the entry at `version` ended, and every begin bumps the version.
        UpdateExpression: 'SET running = :ids, version = :next',
        ConditionExpression: version === 0 ? 'attribute_not_exists(version)' : 'version = :version',
        ExpressionAttributeValues: {
          ':ids': new Set([taskId]),
          ':next': version + 1,
          ...(version === 0 ? {} : { ':version': version }),
        },
      });
    },

    async end(key, taskId, completed) {
      await update({
        Key: catchupKey(key),
        UpdateExpression: 'DELETE running :ids',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':ids': new Set([taskId]) },
      });
      if (!completed) return;
      await update({
        Key: catchupKey(key),
        UpdateExpression: 'SET watermarkTaskId = :task, watermarkStartedAt = :started',
        ConditionExpression: 'attribute_not_exists(watermarkStartedAt) OR watermarkStartedAt < :started',
        ExpressionAttributeValues: { ':task': completed.taskId, ':started': completed.startedAt },
      });
    },
  };
}
