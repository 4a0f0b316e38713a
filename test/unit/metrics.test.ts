import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { mergeSketches, PatternMetrics, quantiles } from '../../instrument/index.js';

function samples(n: number, seed = 7): number[] {
  // A skewed latency-like distribution: mostly a few ms, a long tail to seconds.
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, () => 1 + -Math.log(1 - rnd()) * 8 + (rnd() < 0.02 ? rnd() * 2000 : 0));
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

describe('latency sketches', () => {
  it('give the same p50/p95/p99 when split over 4 sketches and merged as one sketch of all samples (within 1 %)', () => {
    const all = samples(40_000);
    const whole = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of all) whole.accept(v);
    const parts = [0, 1, 2, 3].map((k) => {
      const m = new PatternMetrics();
      for (const [i, v] of all.entries()) {
        if (i % 4 === k)
          m.record({
            pattern: 'getProduct',
            latencyMs: v,
            ok: true,
            throttleEvents: 0,
            throttled: false,
            retries: 0,
            capacity: [],
          });
      }
      const sketch = m.snapshot().patterns.getProduct?.sketch;
      if (!sketch) throw new Error('no sketch');
      return sketch;
    });
    const merged = mergeSketches(parts);
    expect(merged.count).toBe(all.length);
    const sorted = [...all].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      expect(
        Math.abs(merged.getValueAtQuantile(q) - whole.getValueAtQuantile(q)) / whole.getValueAtQuantile(q),
      ).toBeLessThanOrEqual(0.01);
      expect(Math.abs(merged.getValueAtQuantile(q) - exact) / exact).toBeLessThanOrEqual(0.01);
    }
    // Averaging the parts' p99s is what some tools do; it is not what we do.
    expect(quantiles(merged).max).toBeCloseTo(Math.max(...all), 6);
  });

  it('adds up counts, errors, retries, throttles and capacity per target', () => {
    const m = new PatternMetrics(() => new Date('2026-01-01T00:00:00Z'));
    m.record({
      pattern: 'checkout',
      latencyMs: 10,
      ok: true,
      throttleEvents: 1,
      throttled: false,
      retries: 1,
      capacity: [
        { target: 'table', rcu: 0, wcu: 4 },
        { target: 'GSI3', rcu: 0, wcu: 2 },
      ],
    });
    m.record({
      pattern: 'checkout',
      latencyMs: 30,
      ok: false,
      throttleEvents: 3,
      throttled: true,
      retries: 2,
      capacity: [{ target: 'table', rcu: 1, wcu: 2 }],
    });
    const s = m.snapshot();
    expect(s.since).toBe('2026-01-01T00:00:00.000Z');
    expect(s.patterns.checkout).toMatchObject({
      count: 2,
      errors: 1,
      throttleEvents: 4,
      throttledRequests: 1,
      retries: 3,
      rcu: 1,
      wcu: 8,
      capacity: { table: { rcu: 1, wcu: 6 }, GSI3: { rcu: 0, wcu: 2 } },
    });
    m.reset();
    expect(m.snapshot().patterns).toEqual({});
  });
});
