import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Bulk writes: BatchWriteItem, 25 items a call, several calls in flight, UnprocessedItems retried
 * with exponential backoff and jitter until they go through or the attempts run out (then it fails
 * loudly: nothing is dropped silently).
 */
export const BATCH_WRITE_SIZE = 25;

export class BulkWriteFailed extends Error {
  override name = 'BulkWriteFailed';
}

export interface BulkWriteOptions {
  readonly concurrency?: number;
  readonly maxAttempts?: number;
  readonly onProgress?: (written: number, total: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function bulkWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  options: BulkWriteOptions = {},
): Promise<{ written: number; calls: number; retries: number }> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = options.maxAttempts ?? 10;
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += BATCH_WRITE_SIZE) batches.push(items.slice(i, i + BATCH_WRITE_SIZE));
  let written = 0;
  let calls = 0;
  let retries = 0;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= maxAttempts) {
          throw new BulkWriteFailed(
            `${pending.length} items stayed unprocessed after ${maxAttempts} attempts`,
          );
        }
        if (attempt > 0) {
          retries += 1;
          await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
        }
        calls += 1;
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        const left = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
        written += pending.length - left.length;
        pending = left;
        options.onProgress?.(written, items.length);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, batches.length) }, worker));
  return { written, calls, retries };
}
