import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../local/gate/bucket.js';
import {
  indexWrites,
  itemSize,
  queryUnits,
  readUnits,
  valueSize,
  writeUnits,
} from '../../local/gate/capacity.js';

const GSI1 = { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' };

describe('capacity math (cases from the DynamoDB developer guide)', () => {
  it('sizes items by attribute names and values', () => {
    expect(valueSize({ S: 'héllo' })).toBe(6);
    expect(valueSize({ N: '1234' })).toBe(3);
    expect(valueSize({ N: '-0.00120' })).toBe(2);
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
    expect(valueSize({ L: [{ S: 'a' }, { S: 'bc' }] })).toBe(3 + 1 + 1 + 1 + 2);
    expect(valueSize({ M: { k: { S: 'v' } } })).toBe(3 + 1 + 1 + 1);
    expect(valueSize({ SS: ['ab', 'c'] })).toBe(3);
    expect(itemSize({ PK: { S: 'USER#a' }, n: { N: '7' } })).toBe(2 + 6 + 1 + 2);
  });

  it('reads in 4 KB units: eventual half, strong one, transactional two', () => {
    expect(readUnits(3500, 'eventual')).toBe(0.5);
    expect(readUnits(3500, 'strong')).toBe(1);
    expect(readUnits(10 * 1024, 'strong')).toBe(3);
    expect(readUnits(10 * 1024, 'transactional')).toBe(6);
    // A missing item still costs the minimum.
    expect(readUnits(0, 'eventual')).toBe(0.5);
  });

  it('rounds a Query once over the sum, a BatchGetItem per item', () => {
    const sizes = Array.from({ length: 15 }, () => 400);
    expect(queryUnits(sizes, 'strong')).toBe(2);
    expect(sizes.reduce((s, x) => s + readUnits(x, 'strong'), 0)).toBe(15);
    expect(queryUnits([], 'eventual')).toBe(0.5);
  });

  it('writes in 1 KB units of the larger image; a failed condition still pays; transactions pay twice', () => {
    expect(writeUnits(0, 500)).toBe(1);
    expect(writeUnits(0, 3.5 * 1024)).toBe(4);
    expect(writeUnits(2048, 500)).toBe(2);
    expect(writeUnits(1024, 0)).toBe(1);
    expect(writeUnits(0, 1024, true)).toBe(2);
    expect(writeUnits(0, 1500, true)).toBe(4);
  });

  it('counts GSI writes: a key change is a delete and a put', () => {
    const before = { PK: { S: 'P#1' }, GSI1PK: { S: 'C#books' }, GSI1SK: { S: 'P#1' }, price: { N: '5' } };
    expect(indexWrites(undefined, before, GSI1)).toEqual({ units: 1, writes: 1 });
    expect(indexWrites(before, { ...before, price: { N: '6' } }, GSI1)).toEqual({ units: 1, writes: 1 });
    expect(indexWrites(before, { ...before, GSI1PK: { S: 'C#toys' } }, GSI1)).toEqual({
      units: 2,
      writes: 2,
    });
    expect(indexWrites(before, undefined, GSI1)).toEqual({ units: 1, writes: 1 });
    expect(indexWrites(before, before, GSI1)).toEqual({ units: 0, writes: 0 });
    expect(indexWrites({ PK: { S: 'x' } }, { PK: { S: 'x' }, a: { S: 'y' } }, GSI1)).toEqual({
      units: 0,
      writes: 0,
    });
  });
});

describe('token bucket', () => {
  it('keeps 300 s of unused capacity and throttles once it is spent', () => {
    const b = new TokenBucket(10, 3000, 0);
    let t = 0;
    let firstThrottle: number | undefined;
    // 30 one-unit writes a second against 10/s: the burst of 3000 lasts 3000 / 20 = 150 s.
    for (let i = 0; i < 30 * 400 && firstThrottle === undefined; i += 1) {
      t = (i * 1000) / 30;
      if (!b.admits(t)) firstThrottle = t;
      else b.take(1, t);
    }
    expect(firstThrottle).toBeDefined();
    expect((firstThrottle ?? 0) / 1000).toBeCloseTo(150, 0);
  });
});
