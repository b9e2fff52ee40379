/**
 * A full sync's bookkeeping on the task table. The sync's place (phase and page) and its counts
 * live on the task item and move by one conditional write per step, which adds that step's counts
 * in the same write: a redelivered step finds its place taken and adds nothing. Each scanned page
 * is an item of its own (`SYNC#<page>`), written once, so that every retry of a step, and the
 * deletion that follows the scan, sees the same ids; at most 500 ids of at most 512 characters
 * keep it under DynamoDB's 400 KB.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SyncLedger, SyncPage } from '../../ports';
import { conditionalTaskUpdate, taskKey } from './taskItems';

const PAGE_TTL_DAYS = 90;

const pageKey = (taskId: string, page: number) => ({ pk: `TASK#${taskId}`, sk: `SYNC#${String(page).padStart(10, '0')}` });

export function createDynamoSyncLedger(client: DynamoDBClient, tableName: string): SyncLedger {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  const update = conditionalTaskUpdate(db, tableName);

  async function page(taskId: string, number: number): Promise<SyncPage | undefined> {
    const output = await db.send(new GetCommand({ TableName: tableName, Key: pageKey(taskId, number), ConsistentRead: true }));
    if (!output.Item) return undefined;
    const { unseenIds, unseenRowIds, scanned, cursor } = output.Item as SyncPage;
    return { unseenIds, ...(unseenRowIds?.length ? { unseenRowIds } : {}), scanned, ...(cursor ? { cursor } : {}) };
  }

  return {
    page,

    begin(taskId, now) {
      return update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET syncPhase = :scan, syncPage = :zero, syncClaimedAt = :now, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(syncPhase) AND #status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':scan': 'scan', ':zero': 0, ':now': now.toISOString(), ':running': 'RUNNING' },
      });
    },

    async skip(taskId, reason, now) {
      await update({
        Key: taskKey(taskId),
        UpdateExpression: 'SET syncPhase = :skipped, syncSkippedReason = :reason, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(syncPhase)',
        ExpressionAttributeValues: { ':skipped': 'skipped', ':reason': reason, ':now': now.toISOString() },
      });
    },

    async savePage(taskId, number, content, now) {
      const item = { ...pageKey(taskId, number), ...content, expiresAt: Math.floor(now.getTime() / 1000) + PAGE_TTL_DAYS * 86400 };
      try {
        await db.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
        return content;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return (await page(taskId, number)) as SyncPage;
      }
    },

    advance(taskId, from, to, add, now) {
      const sets = ['syncPhase = :toPhase', 'syncPage = :toPage', 'syncClaimedAt = :now', 'updatedAt = :now'];
      const values: Record<string, unknown> = {
        ':toPhase': to.phase,
        ':toPage': to.page,
        ':fromPhase': from.phase,
        ':fromPage': from.page,
        ':now': now.toISOString(),
        ':running': 'RUNNING',
        ':scanned': add.scanned ?? 0,
        ':unseen': add.unseen ?? 0,
        ':deleted': add.deleted ?? 0,
      };
      if (add.sampleIds) {
        sets.push('syncSampleIds = :sample');
        values[':sample'] = add.sampleIds;
      }
      if (add.pages !== undefined) {
        sets.push('syncPages = :pages');
        values[':pages'] = add.pages;
      }
      if (add.skippedReason) {
        sets.push('syncSkippedReason = :reason');
        values[':reason'] = add.skippedReason;
      }
      return update({
        Key: taskKey(taskId),
        UpdateExpression: `SET ${sets.join(', ')} ADD syncScanned :scanned, syncUnseen :unseen, syncDeleted :deleted, vectorsDeleted :deleted`,
        ConditionExpression: 'syncPhase = :fromPhase AND syncPage = :fromPage AND #status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      });
    },
  };
}
