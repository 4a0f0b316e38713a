import { describe, expect, it } from 'vitest';
import { mergeCapacity, resolveCapacity, schemaFromDescription, ThrottlePolicy } from '../../local/index.js';

/** The throttle policy with no HTTP: capacity per table from its billing and the config, on a hand-moved clock. */
const table = (name: string, provisioned?: { read: number; write: number }) =>
  schemaFromDescription({
    TableName: name,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    ...(provisioned
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: provisioned.read,
            WriteCapacityUnits: provisioned.write,
          },
        }
      : { BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } }),
    GlobalSecondaryIndexes: [{ IndexName: 'g', KeySchema: [{ AttributeName: 'x', KeyType: 'HASH' }] }],
  });

describe('capacity per table', () => {
  it("starts from the table's own billing, then the config for every table, then the config for this one", () => {
    expect(resolveCapacity(table('a', { read: 7, write: 3 }), {})).toMatchObject({
      mode: 'provisioned',
      table: { read: 7, write: 3 },
      indexes: { g: { read: 7, write: 3 } },
    });
    expect(resolveCapacity(table('b'), {}).mode).toBe('on-demand');
    // Units for a table mean provisioned, whatever its billing: an on-demand table has no units.
    expect(resolveCapacity(table('b'), { table: { read: 1, write: 2 } })).toMatchObject({
      mode: 'provisioned',
      table: { read: 1, write: 2 },
    });
    const c = {
      mode: 'provisioned' as const,
      table: { read: 5, write: 5 },
      tables: { b: { mode: 'on-demand' as const, maxRead: 9 } },
    };
    expect(resolveCapacity(table('a'), c).mode).toBe('provisioned');
    expect(resolveCapacity(table('b'), c)).toMatchObject({ mode: 'on-demand', maxRead: 9 });
    expect(
      mergeCapacity(
        { table: { read: 1, write: 1 }, tables: { a: { mode: 'on-demand' } } },
        { maxWrite: 4, tables: { a: { maxRead: 2 } } },
      ),
    ).toEqual({
      table: { read: 1, write: 1 },
      maxWrite: 4,
      tables: { a: { mode: 'on-demand', maxRead: 2 } },
    });
  });

  it('throttles one table on its own buckets, names the reason, and leaves the other table alone', () => {
    let now = 0;
    const policy = new ThrottlePolicy(() => now, { tables: { a: { table: { read: 1, write: 1 } } } });
    policy.learn(table('a'));
    policy.learn(table('b'));
    const write = (t: string) => ({ table: t, target: 'table', kind: 'Write' as const, pk: 'k' });
    // 300 s of burst at 1 WCU, then the bucket is empty.
    policy.charge([write('a')], { TableName: 'a', CapacityUnits: 300 }, 'Write');
    expect(policy.refusal([write('a')])).toEqual({
      access: write('a'),
      reason: 'ProvisionedThroughputExceeded',
    });
    expect(policy.countThrottle(write('a'), 'ProvisionedThroughputExceeded')).toBe(
      'TableWriteProvisionedThroughputExceeded',
    );
    expect(policy.refusal([write('b')])).toBeUndefined();
    now += 2000;
    expect(policy.refusal([write('a')])).toBeUndefined();
    const stats = policy.targets();
    expect(stats.map((t) => `${t.table}/${t.index ?? ''}`)).toEqual(['a/', 'a/g', 'b/', 'b/g']);
    expect(stats[0]).toMatchObject({ writeThrottleEvents: 1, provisioned: { read: 1, write: 1 } });
    expect(policy.hotKeys()[0]).toMatchObject({ table: 'a', partitionKey: 'k', wcu: 300, throttleEvents: 1 });
  });

  it('on-demand: warm throughput first, then the quota and a maximum, each with its own reason', () => {
    let now = 0;
    const write = (t: string, pk = 'k') => ({ table: t, target: 'table', kind: 'Write' as const, pk });
    const policy = new ThrottlePolicy(() => now, {
      tables: {
        warm: { mode: 'on-demand', warm: { read: 3000, write: 2 } },
        quota: { mode: 'on-demand', quota: { read: 5, write: 1 } },
        max: { mode: 'on-demand', maxWrite: 1, quota: { read: 5, write: 3 } },
      },
    });
    for (const t of ['warm', 'quota', 'max']) policy.learn(table(t));
    expect(policy.capacityOf('warm')).toMatchObject({ mode: 'on-demand', warm: { read: 3000, write: 2 } });
    // Different keys, so only the table's ceiling can refuse.
    policy.charge([write('warm', 'a')], { TableName: 'warm', CapacityUnits: 2 }, 'Write');
    expect(policy.refusal([write('warm', 'b')])?.reason).toBe('KeyRangeThroughputExceeded');
    policy.charge([write('quota', 'a')], { TableName: 'quota', CapacityUnits: 1 }, 'Write');
    expect(policy.refusal([write('quota', 'b')])?.reason).toBe('AccountLimitExceeded');
    policy.charge([write('max', 'a')], { TableName: 'max', CapacityUnits: 1 }, 'Write');
    expect(policy.refusal([write('max', 'b')])?.reason).toBe('MaxOnDemandThroughputExceeded');
    now += 1000;
    for (const t of ['warm', 'quota', 'max']) expect(policy.refusal([write(t, 'c')]), t).toBeUndefined();
  });
});
