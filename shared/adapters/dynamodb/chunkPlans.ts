/**
 * Chunk plans on the task table: one `PLAN#<index>` item per announced chunk, beside the task's
 * `CHUNK#<index>` result items, so that what was planned and never recorded is one pair of
 * queries away. A re-plan writes the same items again (planning is deterministic).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ChunkPlanned } from '../../events/types';
import type { ChunkPlanStore } from '../../ports';

const PLAN_TTL_DAYS = 90;
/** BatchWriteItem takes at most 25 items. */
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 8;

const planSortKey = (index: number) => `PLAN#${String(index).padStart(10, '0')}`;

export function createDynamoChunkPlans(client: DynamoDBClient, tableName: string): ChunkPlanStore {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  async function* items(taskId: string, prefix: string, projection?: string): AsyncGenerator<Record<string, unknown>> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `TASK#${taskId}`, ':prefix': prefix },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  return {
    async save(chunks, now) {
      const expiresAt = Math.floor(now.getTime() / 1000) + PLAN_TTL_DAYS * 86400;
      for (let i = 0; i < chunks.length; i += BATCH) {
        let requests = chunks.slice(i, i + BATCH).map((plan) => ({
          PutRequest: { Item: { pk: `TASK#${plan.taskId}`, sk: planSortKey(plan.chunkIndex), plan, expiresAt } },
        }));
        // DynamoDB may leave some items unprocessed under load: write those again, with backoff.
        for (let attempt = 0; requests.length; attempt += 1) {
          if (attempt === MAX_BATCH_ATTEMPTS)
            throw new Error(`could not keep ${requests.length} chunk plans: DynamoDB kept them unprocessed`);
          if (attempt) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          const output = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
          requests = (output.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }
    },

    async ofTask(taskId) {
      const plans: ChunkPlanned[] = [];
      for await (const item of items(taskId, 'PLAN#')) plans.push(item.plan as ChunkPlanned);
      return plans;
    },

    async unrecorded(taskId, attempt = 1) {
      const recorded = new Set<string>();
      for await (const item of items(taskId, 'CHUNK#', 'sk, attempt')) {
        if (Number(item.attempt ?? 1) >= attempt) recorded.add(String(item.sk).slice('CHUNK#'.length));
      }
      const plans: ChunkPlanned[] = [];
      for await (const item of items(taskId, 'PLAN#')) {
        if (recorded.has(String(item.sk).slice('PLAN#'.length))) continue;
        plans.push({ ...(item.plan as ChunkPlanned), ...(attempt > 1 ? { attempt } : {}) });
      }
      return plans;
    },
  };
}
