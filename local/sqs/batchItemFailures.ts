/** A handler's answer read the way Lambda's ReportBatchItemFailures reads it. */
import type { SQSEvent } from 'aws-lambda';

/** Which messages of a batch failed: a set of ids, or the whole batch. */
export type Failures = Set<string> | 'all';

/**
 * No answer, or no/empty batchItemFailures: all succeeded. A malformed answer, or an
 * itemIdentifier that is empty or not in the batch: the whole batch failed (AWS behaviour).
 */
export function failuresOf(response: unknown, event: SQSEvent): Failures {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return 'all';
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return 'all';
  const batchIds = new Set(event.Records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const item of items) {
    const id: unknown = item?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}
