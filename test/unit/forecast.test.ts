import { describe, expect, it } from 'vitest';
import type { ResolvedCapacity } from '../../local/index.js';
import {
  ForecastError,
  type ForecastLimit,
  forecast,
  forecastOptions,
  MissingPrices,
  parseGrowth,
  parseMix,
} from '../../runner/forecast/index.js';
import type { LoadProfile } from '../../runner/report/types.js';

/**
 * The forecast model against DynamoDB's documented limits ("Quotas in Amazon DynamoDB": 3,000 RCU /
 * 1,000 WCU per partition, 40,000 per table on-demand; "DynamoDB on-demand capacity mode": a new table
 * takes 12,000 RCU / 4,000 WCU, then twice the previous peak within 30 minutes; "Burst capacity": up
 * to 300 s of unused provisioned capacity). Profiles are written by hand: what a run would measure.
 */

const provisioned = (
  read: number,
  write: number,
  indexes: Record<string, { read: number; write: number }> = {},
): ResolvedCapacity => ({
  mode: 'provisioned',
  table: { read, write },
  indexes,
});
const onDemand = (
  extra: Partial<ResolvedCapacity> = {},
  indexes: Record<string, { read: number; write: number }> = {},
): ResolvedCapacity => ({
  mode: 'on-demand',
  table: { read: 5, write: 5 },
  indexes,
  ...extra,
});

/** 100 client requests in 10 s; `calls` and units per pattern as the run's totals. */
function profile(p: Partial<LoadProfile>): LoadProfile {
  return { requests: 100, durationSec: 10, patterns: [], keys: [], keySpread: [], capacity: {}, ...p };
}

const first = (f: ReturnType<typeof forecast>): ForecastLimit => {
  const l = f.limits[0];
  if (!l) throw new Error('no limit');
  return l;
};

describe('forecast: table and index capacity', () => {
  it('provisioned: a pattern writing 2 WCU per request reaches 100 WCU at 50 requests/s, after the 300 s burst', () => {
    const f = forecast(
      profile({
        patterns: [{ id: 'placeOrder', calls: 100, capacity: { orders: { rcu: 0, wcu: 200 } } }],
        capacity: { orders: provisioned(100, 100) },
      }),
      { rate: 60 },
    );
    const l = first(f);
    expect(l).toMatchObject({
      table: 'orders',
      index: null,
      kind: 'write',
      scope: 'table',
      rate: 50,
      reason: 'TableWriteProvisionedThroughputExceeded',
      exception: 'ProvisionedThroughputExceededException',
      load: 120,
    });
    // 300 s x 100 WCU of burst, drained at 120 - 100 = 20 WCU a second.
    expect(l.throttlesAfterSec).toBe(1500);
    expect(f.maxRate).toBe(50);
    expect(f.patterns[0]).toMatchObject({
      id: 'placeOrder',
      maxRate: 50,
      throttles: true,
      callsPerSecond: 60,
    });
    expect(f.verdict).toMatch(
      /^placeOrder throttles at ~50 rps, below the forecast's 60 rps: WCU on orders, provisioned 100 WCU\/s/,
    );
  });

  it('a GSI short of write capacity is the first limit, named by the index', () => {
    const f = forecast(
      profile({
        patterns: [
          {
            id: 'placeOrder',
            calls: 100,
            capacity: { orders: { rcu: 0, wcu: 100 }, 'orders/byProduct': { rcu: 0, wcu: 100 } },
          },
        ],
        capacity: { orders: provisioned(100, 100, { byProduct: { read: 100, write: 10 } }) },
      }),
      { rate: 5 },
    );
    expect(first(f)).toMatchObject({
      index: 'byProduct',
      rate: 10,
      reason: 'IndexWriteProvisionedThroughputExceeded',
    });
    expect(f.patterns[0]?.throttles).toBe(false);
    expect(f.patterns[0]?.headroom).toBe(2);
  });

  it("an LSI's units are its table's: they add to the table's load", () => {
    const f = forecast(
      profile({
        patterns: [
          {
            id: 'ordersByStatus',
            calls: 100,
            capacity: { 'orders/byStatus': { rcu: 50, wcu: 0 }, orders: { rcu: 50, wcu: 0 } },
          },
        ],
        capacity: { orders: provisioned(10, 10) },
      }),
      { rate: 1 },
    );
    // 1 RCU per request on the table (0.5 + 0.5): 10 RCU at 10 requests/s.
    expect(first(f)).toMatchObject({ table: 'orders', index: null, kind: 'read', rate: 10 });
    expect(f.patterns[0]?.targets).toEqual([{ table: 'orders', index: null, rcu: 1, wcu: 0 }]);
  });

  it('on-demand: a jump to the rate meets the warm throughput (4,000 WCU for a new table)', () => {
    const p = profile({
      patterns: [{ id: 'write', calls: 100, capacity: { t: { rcu: 0, wcu: 100 } } }],
      capacity: { t: onDemand() },
    });
    expect(first(forecast(p, { rate: 1000 }))).toMatchObject({
      rate: 4000,
      reason: 'TableWriteKeyRangeThroughputExceeded',
      exception: 'ThrottlingException',
      throttlesAfterSec: null,
    });
    // A WarmThroughput of 10,000 raises it.
    const warm = profile({ ...p, capacity: { t: onDemand({ warm: { read: 12000, write: 10000 } }) } });
    expect(first(forecast(warm, { rate: 1000 })).rate).toBe(10000);
    // Twice a previous peak of 3,000 requests/s (3,000 WCU) is 6,000.
    expect(first(forecast(p, { rate: 1000, previousPeak: 3000 })).rate).toBe(6000);
  });

  it('on-demand: growth no faster than 2x per 30 minutes scales up to the per-table quota (40,000)', () => {
    const p = profile({
      patterns: [{ id: 'write', calls: 100, capacity: { t: { rcu: 0, wcu: 100 } } }],
      capacity: { t: onDemand() },
    });
    const slow = first(forecast(p, { rate: 1000, growth: parseGrowth('2x/30min') }));
    expect(slow).toMatchObject({
      rate: 40000,
      reason: 'TableWriteAccountLimitExceeded',
      exception: 'RequestLimitExceeded',
    });
    // 1.5x every 10 minutes is 3.4x per 30: faster than DynamoDB doubles, so the warm throughput binds.
    expect(first(forecast(p, { rate: 1000, growth: parseGrowth('1.5x/10min') })).rate).toBe(4000);
    // A configured maximum binds below both.
    const max = profile({ ...p, capacity: { t: onDemand({ maxWrite: 500 }) } });
    expect(first(forecast(max, { rate: 1000 }))).toMatchObject({
      rate: 500,
      reason: 'TableWriteMaxOnDemandThroughputExceeded',
      // 1 s of the maximum as burst, drained at 1,000 - 500 a second.
      throttlesAfterSec: 1,
    });
  });
});

describe('forecast: partition keys', () => {
  it('a hot key reaches 3,000 RCU long before the table: the forecast names it', () => {
    // 1,000 reads of 1 RCU; half of them on one customer.
    const f = forecast(
      profile({
        requests: 1000,
        patterns: [{ id: 'getCustomer', calls: 1000, capacity: { customers: { rcu: 1000, wcu: 0 } } }],
        keys: [
          {
            table: 'customers',
            index: null,
            kind: 'read',
            partitionKey: 'c-hot',
            units: { getCustomer: 500 },
          },
          { table: 'customers', index: null, kind: 'read', partitionKey: 'c-2', units: { getCustomer: 10 } },
        ],
        keySpread: [
          {
            pattern: 'getCustomer',
            table: 'customers',
            index: null,
            kind: 'read',
            keys: 51,
            keyedUnits: 1000,
            truncated: false,
          },
        ],
        capacity: { customers: onDemand() },
      }),
      { rate: 100 },
    );
    expect(first(f)).toMatchObject({
      scope: 'partition',
      partitionKey: 'c-hot',
      rate: 6000,
      reason: 'TableReadKeyRangeThroughputExceeded',
      exception: 'ThrottlingException',
    });
    // The table itself would take 12,000 requests/s.
    expect(f.limits.find((l) => l.scope === 'table')?.rate).toBe(12000);
    expect(f.patterns[0]?.busiestKey).toMatchObject({ partitionKey: 'c-hot', share: 0.5, keys: 51 });
    expect(f.verdict).toContain('key c-hot');
  });

  it("a key two patterns share carries both patterns' units, weighed by the mix", () => {
    const p = profile({
      patterns: [
        { id: 'a', calls: 50, capacity: { t: { rcu: 0, wcu: 50 } } },
        { id: 'b', calls: 50, capacity: { t: { rcu: 0, wcu: 150 } } },
      ],
      keys: [{ table: 't', index: null, kind: 'write', partitionKey: 'k', units: { a: 50, b: 150 } }],
      keySpread: [],
      capacity: { t: onDemand() },
    });
    // The run's mix: per request 0.5 + 1.5 = 2 WCU on k -> 500 requests/s.
    const run = forecast(p, { rate: 10 });
    expect(first(run)).toMatchObject({ partitionKey: 'k', rate: 500 });
    expect(first(run).shares).toEqual({ a: 0.25, b: 0.75 });
    // All b: 3 WCU a request -> 333.3; all a: 1 -> 1,000.
    expect(first(forecast(p, { rate: 10, mix: { b: 1 } })).rate).toBeCloseTo(333.333, 2);
    expect(first(forecast(p, { rate: 10, mix: { a: 1 } })).rate).toBe(1000);
    expect(forecast(p, { rate: 10, mix: { a: 3, b: 1 } }).mix).toEqual({ a: 0.75, b: 0.25 });
  });
});

describe('forecast: cost', () => {
  it('on-demand bills every unit; provisioned buys the load at 70 % utilisation, rounded up', () => {
    const f = forecast(
      profile({
        patterns: [{ id: 'p', calls: 100, capacity: { t: { rcu: 100, wcu: 100 } } }],
        capacity: { t: onDemand() },
      }),
      { rate: 10 },
    );
    // 10 RCU/s and 10 WCU/s for 730 h: 26.28 M units each; $0.125 and $0.625 per million.
    expect(f.cost.onDemandMonthlyUsd).toBeCloseTo(26.28 * 0.125 + 26.28 * 0.625, 2);
    // ceil(10 / 0.7) = 15 units each, $0.00013 and $0.00065 an hour.
    expect(f.cost.provisioned).toEqual([{ table: 't', index: null, rcu: 15, wcu: 15 }]);
    expect(f.cost.provisionedMonthlyUsd).toBeCloseTo(15 * (0.00013 + 0.00065) * 730, 2);
  });
});

describe('forecast: input', () => {
  const p = profile({
    patterns: [{ id: 'a', calls: 1, capacity: { t: { rcu: 1, wcu: 0 } } }],
    capacity: { t: onDemand() },
  });

  it('rejects what it cannot forecast, naming the value', () => {
    expect(() => forecast(p, { rate: 0 })).toThrow(ForecastError);
    expect(() => forecast(p, { rate: 10, mix: { nope: 1 } })).toThrow(
      /no pattern "nope" in the run \(patterns with DynamoDB calls: a\)/,
    );
    expect(() => forecast(p, { rate: 10, utilization: 1.5 })).toThrow(
      /utilization: expected 0 < u <= 1, got 1.5/,
    );
    expect(() => forecast(p, { rate: 10, previousPeak: -1 })).toThrow(/previous peak: .* got -1/);
    expect(() => forecast(p, { rate: 10, previousPeak: Number.NaN })).toThrow(/previous peak: .* got NaN/);
    expect(forecast(p, { rate: 10, previousPeak: 0 }).patterns).toHaveLength(1);
    expect(() => parseGrowth('fast')).toThrow(/growth "fast"/);
    expect(() => parseMix('a=x')).toThrow(/mix "a=x"/);
    const price = { region: 'r', readPerMillionUsd: 1, writePerMillionUsd: 1, rcuHourUsd: 1, wcuHourUsd: 1 };
    expect(() => forecast(p, { rate: 10, prices: { ...price, wcuHourUsd: -3 } })).toThrow(
      /prices.wcuHourUsd: expected USD >= 0, got -3/,
    );
    expect(() => forecast(p, { rate: 10, prices: { ...price, readPerMillionUsd: Number.NaN } })).toThrow(
      /prices.readPerMillionUsd: .* got NaN/,
    );
  });

  it("refuses another region's name on us-east-1's list prices: each price not given is named", () => {
    // us-east-1 (the built-in list's region), named or not, takes the list's prices.
    expect(forecastOptions({ rate: 10 }).prices?.readPerMillionUsd).toBe(0.125);
    expect(forecastOptions({ rate: 10, prices: { region: 'us-east-1' } }).prices?.wcuHourUsd).toBe(0.00065);
    const partial = () =>
      forecastOptions({ rate: 10, prices: { region: 'eu-west-1', readPerMillion: 0.1415 } });
    expect(partial).toThrow(MissingPrices);
    expect(partial).toThrow(
      "prices for eu-west-1: writePerMillion, rcuHour, wcuHour not given (the built-in prices are us-east-1's list prices)",
    );
    // The region may come from the caller (the run's --region) as well as from the config.
    expect(() => forecastOptions({ rate: 10 }, 'ap-south-1')).toThrow(
      /prices for ap-south-1: readPerMillion/,
    );
    const all = { readPerMillion: 0.1415, writePerMillion: 0.7072, rcuHour: 0.000147, wcuHour: 0.000735 };
    expect(forecastOptions({ rate: 10, prices: { region: 'eu-west-1', ...all } }).prices).toEqual({
      region: 'eu-west-1',
      readPerMillionUsd: 0.1415,
      writePerMillionUsd: 0.7072,
      rcuHourUsd: 0.000147,
      wcuHourUsd: 0.000735,
    });
  });

  it('says how it read a mix whose shares are weights, and which patterns it leaves out', () => {
    const two = profile({
      patterns: [
        { id: 'a', calls: 1, capacity: { t: { rcu: 1, wcu: 0 } } },
        { id: 'b', calls: 4, capacity: { t: { rcu: 4, wcu: 0 } } },
      ],
      // b took a new key on each of its calls.
      keySpread: [
        { pattern: 'a', table: 't', index: null, kind: 'read', keys: 1, keyedUnits: 1, truncated: false },
        { pattern: 'b', table: 't', index: null, kind: 'read', keys: 4, keyedUnits: 4, truncated: false },
      ],
      capacity: { t: onDemand() },
    });
    const fresh = 'b touched a new partition key on every call: none of its keys is forecast hot';
    expect(forecast(two, { rate: 10 }).notes).toEqual([fresh]);
    // With no calls in the mix, b's keys are not forecast at all: no note on them.
    expect(forecast(two, { rate: 10, mix: { a: 2 } }).notes).toEqual([
      "the mix's shares add up to 2: each pattern takes its share of that total",
      'the mix gives no calls to b',
    ]);
    expect(forecast(two, { rate: 10, mix: { a: 0.25, b: 0.75 } }).notes).toEqual([fresh]);
    // A transaction names two keys a call: 16 calls over 17 keys is 32 touches, keys reused, one of
    // them hot. Its keys are forecast, not dismissed as new on every call.
    const transfer = profile({
      patterns: [{ id: 'transfer', calls: 16, capacity: { t: { rcu: 0, wcu: 320 } } }],
      keys: [{ table: 't', index: null, kind: 'write', partitionKey: 'acc-010', units: { transfer: 40 } }],
      keySpread: [
        {
          pattern: 'transfer',
          table: 't',
          index: null,
          kind: 'write',
          keys: 17,
          keyedUnits: 320,
          touches: 32,
          truncated: false,
        },
      ],
      capacity: { t: onDemand() },
    });
    const f = forecast(transfer, { rate: 10 });
    expect(f.notes.join()).not.toMatch(/new partition key/);
    expect(f.limits.some((l) => l.scope === 'partition' && l.partitionKey === 'acc-010')).toBe(true);
    // The same spread from a report before touches were counted is judged against calls, as it was.
    const { touches: _, ...old } = transfer.keySpread[0] as (typeof transfer.keySpread)[number];
    expect(forecast({ ...transfer, keySpread: [old] }, { rate: 10 }).notes.join()).toMatch(
      /transfer touched a new partition key on every call/,
    );
    const bUnkeyed = { ...two, keySpread: two.keySpread.filter((k) => k.pattern === 'a') };
    expect(forecast(bUnkeyed, { rate: 10 }).notes.join()).toMatch(/no partition key seen for b /);
    expect(forecast(bUnkeyed, { rate: 10, mix: { a: 1 } }).notes.join()).not.toMatch(/no partition key/);
  });

  it("says when a GSI's units named no key it could forecast (an UpdateItem moving an index entry)", () => {
    const confirm = (gsiKeyed: number) =>
      profile({
        patterns: [
          {
            id: 'confirm',
            calls: 12,
            capacity: { orders: { rcu: 0, wcu: 12 }, 'orders/byStatus': { rcu: 0, wcu: 12 } },
          },
        ],
        keySpread: [
          {
            pattern: 'confirm',
            table: 'orders',
            index: null,
            kind: 'write',
            keys: 3,
            keyedUnits: 12,
            truncated: false,
          },
          ...(gsiKeyed > 0
            ? [
                {
                  pattern: 'confirm',
                  table: 'orders',
                  index: 'byStatus',
                  kind: 'write' as const,
                  keys: 1,
                  keyedUnits: gsiKeyed,
                  truncated: false,
                },
              ]
            : []),
        ],
        capacity: { orders: onDemand({}, { byStatus: { read: 5, write: 5 } }) },
      });
    const note = (f: ReturnType<typeof forecast>) =>
      f.notes.filter((n) => n.includes('named no partition key'));
    expect(note(forecast(confirm(0), { rate: 10 }))).toEqual([
      "confirm: 12 of its 12 WCU on orders/byStatus named no partition key the gate saw (an UpdateItem or DeleteItem changes an index entry whose key is in the stored item): not in that index's per-key limits",
    ]);
    expect(note(forecast(confirm(4), { rate: 10 }))[0]).toMatch(
      /^confirm: 8 of its 12 WCU on orders\/byStatus/,
    );
    expect(note(forecast(confirm(12), { rate: 10 }))).toEqual([]);
  });

  it('parses growth and mix', () => {
    expect(parseGrowth('2x/30min')).toEqual({ kind: 'rate', factor: 2, seconds: 1800 });
    expect(parseGrowth('3x/1h')).toEqual({ kind: 'rate', factor: 3, seconds: 3600 });
    expect(parseMix('checkout=0.2, getProduct=0.8')).toEqual({ checkout: 0.2, getProduct: 0.8 });
  });

  it('a pattern that takes no capacity has no limit; nothing at all gives no verdict of throttling', () => {
    const none = forecast(profile({ patterns: [{ id: 'a', calls: 1, capacity: {} }] }), { rate: 10 });
    expect(none.maxRate).toBeNull();
    expect(none.patterns[0]?.maxRate).toBeNull();
    expect(none.verdict).toMatch(/^no pattern takes DynamoDB capacity/);
  });
});
