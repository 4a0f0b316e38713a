/** BatchWriteItem's limit: items per call. */
const BATCH = 25;

/**
 * The baseline the write benches are judged against: the items in BatchWriteItem calls of 25,
 * `concurrency` calls in flight, nothing else (no retry: what a call leaves unprocessed is not
 * written). `send` makes one call and returns how many of its items were left unprocessed; the
 * result is how many were written.
 */
export async function bareBatchWrite<T>(
  items: readonly T[],
  concurrency: number,
  send: (batch: T[]) => Promise<number>,
): Promise<number> {
  let next = 0;
  let written = 0;
  const worker = async () => {
    while (next < items.length) {
      const batch = items.slice(next, next + BATCH);
      next += BATCH;
      // Awaited before the sum: `written += n - (await x)` reads `written` before the await and
      // would drop what the other calls added meanwhile.
      const left = await send(batch);
      written += batch.length - left;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return written;
}
