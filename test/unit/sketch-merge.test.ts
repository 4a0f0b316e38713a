import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactQuantile } from '../../bench/merge.js';
import {
  decodeSketch,
  encodeSketch,
  mergeSketches,
  SKETCH_RELATIVE_ACCURACY,
} from '../../instrument/index.js';
import { type ClientResult, ClientStats, mergeClientResults } from '../../runner/engine/client-stats.js';

const latency = fc.double({ min: 0.05, max: 60_000, noNaN: true });
const sketchOf = (values: readonly number[]) => {
  const s = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  for (const v of values) s.accept(v);
  return s;
};

describe('sketch encoding and merging', () => {
  it('encodes to the bytes the library itself writes', () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 200 }), (values) => {
        const s = sketchOf(values);
        expect(encodeSketch(s).proto).toBe(Buffer.from(s.toProto()).toString('base64'));
      }),
      { numRuns: 50 },
    );
  });

  it('decodes and merges to the same quantiles, count, sum, min and max as the library', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(latency, { maxLength: 100 }), { minLength: 1, maxLength: 6 }),
        (parts) => {
          const serialized = parts.map((p) => encodeSketch(sketchOf(p)));
          const ours = mergeSketches(serialized);
          const theirs = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
          for (const s of serialized) {
            if (s.count === 0) continue;
            const d = DDSketch.fromProto(Buffer.from(s.proto, 'base64'));
            Object.assign(d, { min: s.min, max: s.max, sum: s.sum, count: s.count });
            theirs.merge(d);
          }
          expect(ours.count).toBe(parts.flat().length);
          expect(ours.count).toBe(theirs.count);
          expect(ours.sum).toBeCloseTo(theirs.sum, 6);
          if (ours.count === 0) return;
          expect([ours.min, ours.max]).toEqual([theirs.min, theirs.max]);
          for (const q of [0, 0.5, 0.9, 0.99, 1])
            expect(ours.getValueAtQuantile(q)).toBe(theirs.getValueAtQuantile(q));
          const one = decodeSketch(serialized[0] as (typeof serialized)[number]);
          expect(one.count).toBe(parts[0]?.length);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("keeps a few workers' merged p50, p99 within 1 % of the exact ones of all their samples", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(latency, { minLength: 1, maxLength: 150 }), { minLength: 2, maxLength: 8 }),
        (workers) => {
          const at = new Date(0);
          // Each worker's result goes through JSON, as it does from a process or a Lambda.
          const results = workers.map((samples) => {
            const stats = new ClientStats();
            for (const ms of samples) stats.response('get', 200, ms);
            return JSON.parse(JSON.stringify(stats.result(at, at))) as ClientResult;
          });
          const merged = mergeClientResults(results).byName.get;
          const all = Float64Array.from(workers.flat()).sort();
          expect(merged?.requests).toBe(all.length);
          const sketch = decodeSketch(merged?.latency as NonNullable<typeof merged>['latency']);
          for (const q of [0.5, 0.99]) {
            const exact = exactQuantile(all, q);
            expect(Math.abs(sketch.getValueAtQuantile(q) - exact)).toBeLessThanOrEqual(
              exact * SKETCH_RELATIVE_ACCURACY * (1 + 1e-9),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
