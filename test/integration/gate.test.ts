import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoClients, createTableInput } from '../../app/index.js';
import { itemSize, queryUnits, readUnits, writeUnits } from '../../local/gate/capacity.js';
import type { GateCapacity } from '../../local/index.js';
import { gatedTables } from '../helpers/gated-tables.js';

let now = 0;
const local = gatedTables('gated', () => now);

/** A fresh table behind a fresh gate whose clock only moves when the test says so. */
async function gated(capacity: GateCapacity) {
  now = 1_000_000;
  const { gate, endpoint, tableName } = await local.table(capacity);
  // One attempt: every throttle reaches the test instead of being retried away.
  const { doc } = createDynamoClients({ endpoint, maxAttempts: 1 });
  return { gate, doc, tableName };
}

/** Writes `perSecond` 1-WCU items a second for `seconds` simulated seconds; returns when the first throttle came. */
async function steadyWrites(
  doc: DynamoDBDocumentClient,
  tableName: string,
  perSecond: number,
  seconds: number,
  pk = (i: number) => `K#${i}`,
) {
  const start = now;
  let firstThrottle: number | undefined;
  let throttles = 0;
  let reason: string | undefined;
  for (let i = 0; i < perSecond * seconds; i += 1) {
    now = start + (i * 1000) / perSecond;
    try {
      await doc.send(new PutCommand({ TableName: tableName, Item: { PK: pk(i), SK: 'x', v: i } }));
    } catch (err) {
      const e = err as Error & { ThrottlingReasons?: { reason: string }[] };
      if (e.name !== 'ProvisionedThroughputExceededException') throw err;
      throttles += 1;
      firstThrottle ??= (now - start) / 1000;
      reason ??= e.ThrottlingReasons?.[0]?.reason;
    }
  }
  return { firstThrottle, throttles, reason };
}

describe('the capacity gate', () => {
  it('lets a 10 WCU table take a steady 8 writes/s with no throttles, past the burst horizon', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'provisioned', table: { read: 10, write: 10 } });
    const r = await steadyWrites(doc, tableName, 8, 400);
    expect(r.throttles).toBe(0);
    expect(gate.snapshot().tables[0]).toMatchObject({ consumedWcu: 3200, writeThrottleEvents: 0 });
    await gate.close();
  }, 120_000);

  it('throttles a steady 30 writes/s on a 10 WCU table exactly when the 300 s burst runs out', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'provisioned', table: { read: 10, write: 10 } });
    // 3,000 units of burst drained at 30 - 10 = 20 a second: empty at 150 s.
    const r = await steadyWrites(doc, tableName, 30, 152);
    expect(r.firstThrottle).toBeGreaterThanOrEqual(149.9);
    expect(r.firstThrottle).toBeLessThanOrEqual(150.1);
    expect(r.reason).toBe('TableWriteProvisionedThroughputExceeded');
    const snap = gate.snapshot();
    expect(snap.tables[0]?.writeThrottleEvents).toBe(r.throttles);
    expect(snap.metrics).toContainEqual(
      expect.objectContaining({
        name: 'WriteThrottleEvents',
        dimensions: { TableName: tableName },
        sum: r.throttles,
      }),
    );
    expect(snap.metrics).toContainEqual(
      expect.objectContaining({
        name: 'ThrottledRequests',
        dimensions: { TableName: tableName, Operation: 'PutItem' },
      }),
    );
    await gate.close();
  }, 120_000);

  it('throttles one hot partition key at 1,000 WCU/s although the table has far more', async () => {
    const { gate, doc, tableName } = await gated({
      mode: 'provisioned',
      table: { read: 100, write: 40_000 },
    });
    // 10 KB items: 10 WCU each, 150 a second on one key = 1,500 WCU/s. The key's 1,000 WCU/s
    // (with at most a second of it saved) run out after 1,000 / 500 = 2 s.
    const big = 'x'.repeat(10 * 1024 - 100);
    let throttled = 0;
    let reason: string | undefined;
    let firstThrottle: number | undefined;
    for (let i = 0; i < 450; i += 1) {
      now = 1_000_000 + (i * 1000) / 150;
      try {
        await doc.send(new PutCommand({ TableName: tableName, Item: { PK: 'HOT', SK: `s${i}`, big } }));
      } catch (err) {
        throttled += 1;
        firstThrottle ??= (now - 1_000_000) / 1000;
        reason ??= (err as { ThrottlingReasons?: { reason: string }[] }).ThrottlingReasons?.[0]?.reason;
      }
    }
    expect(firstThrottle).toBeCloseTo(2, 1);
    expect(throttled).toBeGreaterThan(0);
    expect(reason).toBe('TableWriteKeyRangeThroughputExceeded');
    // A cold key in the same second is fine.
    await doc.send(new PutCommand({ TableName: tableName, Item: { PK: 'COLD', SK: 's', big } }));
    const hot = gate.snapshot().hotKeys[0];
    expect(hot).toMatchObject({ partitionKey: 'HOT', index: null, throttleEvents: throttled });
    expect(hot?.wcu).toBeGreaterThanOrEqual(1000);
    expect(gate.snapshot().tables[0]?.writeThrottleEvents).toBe(throttled);
    await gate.close();
  });

  it('throttles base-table writes when a GSI is short of write capacity, with an Index reason', async () => {
    const { gate, doc, tableName } = await gated({
      mode: 'provisioned',
      table: { read: 100, write: 1000 },
      indexes: { GSI1: { read: 1, write: 1 } },
    });
    let reason: string | undefined;
    let accepted = 0;
    for (let i = 0; i < 400 && !reason; i += 1) {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { PK: `P#${i}`, SK: 'x', GSI1PK: `C#${i % 7}`, GSI1SK: `P#${i}` },
          }),
        );
        accepted += 1;
      } catch (err) {
        reason = (err as { ThrottlingReasons?: { reason: string }[] }).ThrottlingReasons?.[0]?.reason;
      }
    }
    // GSI1 keeps 300 s x 1 WCU of burst; the table has plenty.
    expect(accepted).toBe(300);
    expect(reason).toBe('IndexWriteProvisionedThroughputExceeded');
    const gsi = gate.snapshot().tables.find((t) => t.index === 'GSI1');
    expect(gsi).toMatchObject({
      consumedWcu: 300,
      writeThrottleEvents: 1,
      throttleReasons: { IndexWriteProvisionedThroughputExceeded: 1 },
    });
    // 301 calls, the last throttled: 300 answered, what units per call divide by.
    const patterns = Object.values(gate.snapshot().patterns);
    expect(patterns.reduce((n, p) => n + p.count, 0)).toBe(301);
    expect(patterns.reduce((n, p) => n + p.answered, 0)).toBe(300);
    await gate.close();
  });

  it('on-demand: takes its warm throughput at once, twice a peak only once the peak is 30 minutes old', async () => {
    // Warm throughput of 10 WCU (a setting, as WarmThroughput is on AWS): the on-demand rules at a scale
    // a test can drive. DG "DynamoDB on-demand capacity mode": "throttling can occur if you exceed
    // double your previous peak within 30 minutes".
    const { gate, doc, tableName } = await gated({ mode: 'on-demand', warm: { read: 10, write: 10 } });
    const writes = async (perSecond: number, seconds: number) => {
      const start = now;
      let throttled = 0;
      let error: (Error & { throttlingReasons?: { reason: string }[] }) | undefined;
      for (let i = 0; i < perSecond * seconds; i += 1) {
        now = start + (i * 1000) / perSecond;
        try {
          await doc.send(new PutCommand({ TableName: tableName, Item: { PK: `K#${i % 50}`, SK: 'x' } }));
        } catch (err) {
          throttled += 1;
          error ??= err as Error & { throttlingReasons?: { reason: string }[] };
        }
      }
      now = start + seconds * 1000;
      return { throttled, error };
    };
    // The warm 10 a second, sustained: fine. That is now the peak.
    expect((await writes(10, 20)).throttled).toBe(0);
    // 20 a second (twice the peak) 29 minutes on: the peak is not 30 minutes old yet, 10 is the limit.
    now += 29 * 60_000;
    // 60 writes in 3 s against 10 a second (and 10 of burst): about 20 throttled.
    const early = await writes(20, 3);
    expect(early.throttled).toBeGreaterThanOrEqual(19);
    expect(early.error?.name).toBe('ThrottlingException');
    expect(early.error?.throttlingReasons?.[0]?.reason).toBe('TableWriteKeyRangeThroughputExceeded');
    // Two minutes later the 10-a-second peak is past the window: twice it, 20 a second, goes through...
    now += 2 * 60_000;
    expect((await writes(20, 10)).throttled).toBe(0);
    // ...and three times it does not (the 20 a second just now is not "previous" for 30 minutes).
    // 150 writes in 5 s against 20 a second (and 20 of burst): about 30 throttled.
    expect((await writes(30, 5)).throttled).toBeGreaterThanOrEqual(29);
    await gate.close();
  });

  it('charges a failed conditional write, which DynamoDB Local does not report', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'on-demand' });
    await doc.send(new PutCommand({ TableName: tableName, Item: { PK: 'A', SK: 'x', v: 'y'.repeat(1500) } }));
    await expect(
      doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { PK: 'A', SK: 'x' },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    // 2 WCU for the 1.5 KB put, then 2 more for the refused one (the larger image, the existing item).
    expect(gate.snapshot().tables[0]?.consumedWcu).toBe(4);
    await gate.close();
  });

  it('returns the items of a hot partition as unprocessed and serves the rest of the batch', async () => {
    const { gate, doc, tableName } = await gated({
      mode: 'provisioned',
      table: { read: 100_000, write: 100_000 },
    });
    const big = 'x'.repeat(350 * 1024);
    await doc.send(new PutCommand({ TableName: tableName, Item: { PK: 'HOT', SK: 'x', big } }));
    await doc.send(new PutCommand({ TableName: tableName, Item: { PK: 'COLD', SK: 'x', v: 1 } }));
    // 350 KB strongly consistent: 88 RCU a read; 35 of them spend the key's 3,000 RCU.
    for (let i = 0; i < 35; i += 1)
      await doc.send(
        new GetCommand({ TableName: tableName, Key: { PK: 'HOT', SK: 'x' }, ConsistentRead: true }),
      );
    const out = await doc.send(
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: [
              { PK: 'HOT', SK: 'x' },
              { PK: 'COLD', SK: 'x' },
            ],
            ProjectionExpression: 'PK, v',
          },
        },
      }),
    );
    expect(out.Responses?.[tableName]).toEqual([{ PK: 'COLD', v: 1 }]);
    expect(out.UnprocessedKeys?.[tableName]).toMatchObject({
      Keys: [{ PK: 'HOT', SK: 'x' }],
      ProjectionExpression: 'PK, v',
    });
    // Every item throttled: the call fails.
    await expect(
      doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: [{ PK: 'HOT', SK: 'x' }] } } })),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(gate.snapshot().hotKeys[0]).toMatchObject({ partitionKey: 'HOT', throttleEvents: 2 });
    await gate.close();
  });

  it('serves the other tables of a batch when one table is out of capacity, returning its items unprocessed', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'provisioned', table: { read: 1, write: 1 } });
    const other = `${tableName}-other`;
    await local.direct().send(new CreateTableCommand(createTableInput(other)));
    // 390 WCU on a 1 WCU table: its 300 s of burst are gone; the other table keeps all of its own.
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { PK: 'big', SK: 'x', b: 'x'.repeat(390 * 1024) } }),
    );
    const out = await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [tableName]: [{ PutRequest: { Item: { PK: 'a1', SK: 'x' } } }],
          [other]: [{ PutRequest: { Item: { PK: 'b1', SK: 'x' } } }],
        },
      }),
    );
    expect(out.UnprocessedItems).toEqual({ [tableName]: [{ PutRequest: { Item: { PK: 'a1', SK: 'x' } } }] });
    const written = await local
      .direct()
      .send(new GetItemCommand({ TableName: other, Key: { PK: { S: 'b1' }, SK: { S: 'x' } } }));
    expect(written.Item).toEqual({ PK: { S: 'b1' }, SK: { S: 'x' } });
    expect(gate.snapshot().tables.find((t) => t.table === tableName)).toMatchObject({
      writeThrottleEvents: 1,
      throttleReasons: { TableWriteProvisionedThroughputExceeded: 1 },
    });
    // Every table out of capacity: the call fails.
    await expect(
      doc.send(
        new BatchWriteCommand({
          RequestItems: { [tableName]: [{ PutRequest: { Item: { PK: 'a2', SK: 'x' } } }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    await gate.close();
  });

  it('agrees with the capacity DynamoDB Local reports for the same calls', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'on-demand' });
    const items = [10, 900, 1500, 5000, 9000].map((n, i) => ({
      PK: 'SIZE',
      SK: `s${i}`,
      body: 'b'.repeat(n),
    }));
    for (const item of items) {
      const out = await doc.send(
        new PutCommand({ TableName: tableName, Item: item, ReturnConsumedCapacity: 'TOTAL' }),
      );
      expect(out.ConsumedCapacity?.CapacityUnits, `put ${item.SK}`).toBe(
        writeUnits(0, itemSize(marshall(item))),
      );
      const got = await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { PK: 'SIZE', SK: item.SK },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      expect(got.ConsumedCapacity?.CapacityUnits, `get ${item.SK}`).toBe(
        readUnits(itemSize(marshall(item)), 'eventual'),
      );
    }
    const q = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :p',
        ExpressionAttributeValues: { ':p': 'SIZE' },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(q.ConsumedCapacity?.CapacityUnits).toBe(
      queryUnits(
        items.map((i) => itemSize(marshall(i))),
        'strong',
      ),
    );
    // TOTAL asked, TOTAL given: the per-index split the gate asked for is not passed on.
    expect(q.ConsumedCapacity).not.toHaveProperty('Table');
    await gate.close();
  });

  it('charges each partition key of a transaction what its own item cost, not an even split', async () => {
    const { gate, doc, tableName } = await gated({ mode: 'on-demand' });
    // A ~4.5 KB item (5 WCU) and a small one (1 WCU), twice each in a transaction: 10 and 2.
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { PK: 'ROOM#r1', SK: 'slot' } } },
          { Put: { TableName: tableName, Item: { PK: 'USER#u1', SK: 'booking', d: 'x'.repeat(4500) } } },
        ],
      }),
    );
    const keys = Object.fromEntries(gate.snapshot().hotKeys.map((k) => [k.partitionKey, k.wcu]));
    expect(keys).toEqual({ 'USER#u1': 10, 'ROOM#r1': 2 });

    // On a GSI: a Put names its entry's key, an Update moving an entry does not (its key is in the
    // stored item). The Put's key takes its own units only; the Update's stay with no key.
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { PK: 'SLOT#1', SK: 's', GSI1PK: 'FREE', GSI1SK: 'a', d: 'x'.repeat(1500) },
      }),
    );
    gate.reset();
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { PK: 'BOOK#1', SK: 'b', GSI1PK: 'DAY#1', GSI1SK: 'b' } } },
          {
            Update: {
              TableName: tableName,
              Key: { PK: 'SLOT#1', SK: 's' },
              UpdateExpression: 'SET GSI1PK = :t',
              ExpressionAttributeValues: { ':t': 'TAKEN' },
            },
          },
        ],
      }),
    );
    const snap = gate.snapshot();
    const gsi1 = snap.tables.find((t) => t.index === 'GSI1');
    const onGsi = snap.hotKeys.filter((k) => k.index === 'GSI1');
    // The Put's entry: 1 unit, twice in a transaction. The Update's move (a delete and a put of a
    // ~1.5 KB entry, twice) is the rest of the index's units.
    expect(onGsi).toEqual([expect.objectContaining({ partitionKey: 'DAY#1', wcu: 2 })]);
    expect(gsi1?.consumedWcu).toBe(10);
    await gate.close();
  });
});
