import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../app/index.js';
import { DynamoSink, ImportWriteFailed, marshallItem, type SinkItem } from '../../runner/data/index.js';
import { gatedTables } from '../helpers/gated-tables.js';

/**
 * The batch writer against real DynamoDB Local behind the capacity gate, whose clock moves only when
 * the writer sleeps: a hot partition key runs out of its 1,000 WCU/s, the gate hands items back as
 * UnprocessedItems (or throttles whole calls), and the writer's backoff is what lets them through.
 */
let now = 1_000_000;
const local = gatedTables('import', () => now);

async function gatedTable() {
  // Plenty of table capacity: only the per-partition limit (1,000 WCU/s, a second of burst) bites.
  const { gate, endpoint, tableName } = await local.table({
    mode: 'provisioned',
    table: { read: 1000, write: 10_000 },
  });
  // One SDK attempt: every throttle reaches the writer's own retry loop.
  const client = createDynamoClients({ endpoint, maxAttempts: 1 }).raw;
  return { gate, client, tableName };
}

/** About 4 KB each (4 WCU); even ones on one hot partition key, odd ones each on its own. */
function items(count: number): SinkItem[] {
  const pad = 'x'.repeat(3900);
  return Array.from({ length: count }, (_, i) => ({
    line: i + 1,
    item: marshallItem({ PK: i % 2 === 0 ? 'HOT' : `COLD#${i}`, SK: `S#${i}`, pad }),
  }));
}

async function count(tableName: string): Promise<number> {
  let total = 0;
  let start: Record<string, never> | undefined;
  do {
    const out = await local
      .direct()
      .send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ExclusiveStartKey: start }));
    total += out.Count ?? 0;
    start = out.LastEvaluatedKey as typeof start;
  } while (start);
  return total;
}

describe('the import batch writer', () => {
  it('retries UnprocessedItems and throttled calls with backoff until every item is written', async () => {
    const { gate, client, tableName } = await gatedTable();
    const sleeps: number[] = [];
    const sink = new DynamoSink({
      client,
      tableName,
      key: { partitionKey: 'PK', sortKey: 'SK' },
      concurrency: 4,
      random: () => 1,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    // 400 hot items of 4 WCU: 1.6 times what the key takes in its first second.
    for (const item of items(800)) await sink.add(item);
    await sink.finish();
    expect(sink.written).toBe(800);
    expect(sink.retries).toBeGreaterThan(0);
    expect(gate.snapshot().hotKeys[0]).toMatchObject({ partitionKey: 'HOT' });
    expect(gate.snapshot().hotKeys[0]?.throttleEvents).toBeGreaterThan(0);
    expect(sleeps.length).toBe(sink.retries);
    expect(await count(tableName)).toBe(800);
    client.destroy();
    await gate.close();
  });

  it('fails loudly, naming the lines, when items stay unprocessed after the last attempt', async () => {
    const { gate, client, tableName } = await gatedTable();
    // Time never moves: the hot key never gets capacity back.
    const sleeps = new Set<number>();
    const sink = new DynamoSink({
      client,
      tableName,
      key: { partitionKey: 'PK', sortKey: 'SK' },
      concurrency: 2,
      maxAttempts: 3,
      random: () => 1,
      sleep: async (ms) => {
        sleeps.add(ms);
      },
    });
    const run = async () => {
      for (const item of items(800)) await sink.add(item);
      await sink.finish();
    };
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportWriteFailed);
    expect((err as Error).message).toMatch(
      /^\d+ items \(from lines \d+(, \d+)*( and \d+ more)?\) stayed unprocessed after 3 BatchWriteItem attempts/,
    );
    expect((err as Error).message).toMatch(new RegExp(`; ${sink.written} items were written\\. .*re-run it`));
    // Exponential backoff: 50 ms doubled per attempt (at the top of the jitter window here).
    expect([...sleeps].sort((a, b) => a - b)).toEqual([100, 200]);
    // Whatever it says it wrote is in the table, and it did not write everything.
    expect(await count(tableName)).toBe(sink.written);
    expect(sink.written).toBeLessThan(800);
    client.destroy();
    await gate.close();
  });
});
