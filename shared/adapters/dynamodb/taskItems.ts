/**
 * The task item: its key, how it reads as a Task, and its one way of changing, a conditional
 * update that answers the task as it is after, or undefined when the condition failed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  SYNC_PHASES,
  TASK_STATUSES,
  type StartDateBasis,
  type SyncPhase,
  type SyncProgress,
  type Task,
  type TaskStatus,
} from '../../domain/task';

/** Each skip reason's count is an attribute of its own, so that one write can ADD to any of them. */
export const SKIP_REASON_PREFIX = 'skipped_';

export const taskKey = (taskId: string) => ({ pk: `TASK#${taskId}`, sk: 'TASK' });

/** A chunk's result item sorts by index beside its task item. */
export const chunkSortKey = (index: number) => `CHUNK#${String(index).padStart(10, '0')}`;
export const chunkKey = (taskId: string, index: number) => ({ pk: `TASK#${taskId}`, sk: chunkSortKey(index) });

export type TaskUpdate = Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>;

export function conditionalTaskUpdate(db: DynamoDBDocumentClient, tableName: string): (input: TaskUpdate) => Promise<Task | undefined> {
  return async (input) => {
    try {
      const output = await db.send(new UpdateCommand({ TableName: tableName, ReturnValues: 'ALL_NEW', ...input }));
      return fromItem(output.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  };
}

function syncOf(item: Record<string, unknown>): SyncProgress {
  const phase = item.syncPhase as SyncPhase;
  if (!SYNC_PHASES.includes(phase)) throw new Error(`task item has unknown sync phase ${String(item.syncPhase)}`);
  return {
    phase,
    page: Number(item.syncPage ?? 0),
    pages: Number(item.syncPages ?? 0),
    scanned: Number(item.syncScanned ?? 0),
    unseen: Number(item.syncUnseen ?? 0),
    deleted: Number(item.syncDeleted ?? 0),
    sampleIds: (item.syncSampleIds as string[] | undefined) ?? [],
    ...(item.syncSkippedReason ? { skippedReason: item.syncSkippedReason as string } : {}),
    ...(item.syncClaimedAt ? { claimedAt: item.syncClaimedAt as string } : {}),
  };
}

export function fromItem(item: Record<string, unknown> | undefined): Task | undefined {
  if (!item) return undefined;
  const number = (name: string) => Number(item[name] ?? 0);
  const skippedReasons = Object.fromEntries(
    Object.entries(item)
      .filter(([name]) => name.startsWith(SKIP_REASON_PREFIX))
      .map(([name, count]) => [name.slice(SKIP_REASON_PREFIX.length), Number(count)]),
  );
  const status = item.status as TaskStatus;
  if (!TASK_STATUSES.includes(status)) throw new Error(`task item has unknown status ${String(item.status)}`);
  return {
    taskId: item.taskId as string,
    status,
    dataSource: item.dataSource as Task['dataSource'],
    namespace: item.namespace as string,
    request: item.request as Task['request'],
    planned: item.planned === true,
    records: {
      total: number('recordsTotal'),
      processed: number('processed'),
      skipped: number('skipped'),
      failed: number('failed'),
      truncated: number('truncated'),
      split: number('splitRecords'),
      skippedReasons,
    },
    chunks: { total: number('chunksTotal'), completed: number('chunksCompleted'), failed: number('chunksFailed') },
    tokens: number('tokens'),
    vectors: { upserted: number('vectorsUpserted'), metadataUpdated: number('vectorsMetadataUpdated'), deleted: number('vectorsDeleted') },
    ...(item.syncPhase ? { sync: syncOf(item) } : {}),
    errors: (item.errors as string[]) ?? [],
    errorCount: number('errorCount'),
    ...(item.warnings ? { warnings: item.warnings as string[] } : {}),
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    startedAt: item.startedAt as string | undefined,
    completedAt: item.completedAt as string | undefined,
    ...(item.attempt ? { attempt: number('attempt') } : {}),
    ...(item.sweeps ? { sweeps: number('sweeps') } : {}),
    ...(item.sweptAt ? { sweptAt: item.sweptAt as string } : {}),
    ...(item.startDateBasis ? { startDateBasis: item.startDateBasis as StartDateBasis } : {}),
    completionAnnounced: item.completionAnnounced === true,
  };
}
