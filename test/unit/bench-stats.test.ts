import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { steadyRate } from '../../bench/stats.js';

describe('steadyRate (bench/scale.ts reads a tool rate at the target with it)', () => {
  it('leaves out the ramp-up and the tail', () => {
    // 1 s ramping up, 3 s at 100 per 100 ms (1,000/s), 1 s of tail.
    const buckets = [
      ...[10, 20, 40, 60, 80, 90, 95, 98, 99, 100],
      ...Array(30).fill(100),
      ...Array(10).fill(5),
    ];
    expect(steadyRate(buckets, 100)).toBe(1000);
  });

  it('is the plain rate of a flat run, whatever its length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 500 }), fc.integer({ min: 0, max: 1000 }), (n, perBucket) => {
        expect(steadyRate(Array(n).fill(perBucket), 100)).toBeCloseTo(perBucket * 10, 9);
      }),
    );
  });

  it('is unknown (NaN) for a run too short to have a middle', () => {
    expect(steadyRate([5, 5], 100)).toBeNaN();
    expect(steadyRate([], 100)).toBeNaN();
  });
});
