/**
 * Section "merge": what a fan-out of 1,000 workers costs the machine that merges their results, and
 * whether the merged figures stay exact enough; plus how big one worker's result is (what a Lambda
 * worker returns through a synchronous invoke, limited to 6 MB) and that it does not grow with the
 * length of a run.
 *
 * Method
 * - WORKERS synthetic workers, each a real ClientStats (runner/engine/client-stats.ts, what a worker
 *   fills) fed SAMPLES latencies for each of NAMES request names, from a seeded log-normal whose
 *   median differs per name and drifts per worker (workers on slower hosts), with a few 4xx codes.
 *   Every raw latency is kept per name, for the exact quantiles.
 * - Each worker's RunnerResult-shaped answer is serialized to JSON, as a Lambda worker returns it.
 *   Timed: JSON.parse of all of them plus mergeClientResults (what the CLI does at the end of an AWS
 *   run), best of 3. Baseline: the 1 s budget (a fixed figure, not a same-run measurement: the goal
 *   is absolute).
 * - Accuracy: per name, the merged sketch's p99 (getValueAtQuantile, what the report prints) against
 *   the exact p99 of all raw samples (the value at rank floor(0.99 (n - 1)), DDSketch's rank). Row:
 *   the worst name; ratio = 1 + |merged - exact| / exact, goal <= 1.01.
 * - Sketch size: one worker's serialized result after SAMPLES per name and after GROWTH x SAMPLES
 *   (the same load for GROWTH x longer): goal <= 1.2 (bins follow the range of latencies, not their
 *   count; a longer run reaches a little further into the tail).
 *
 * Knobs (environment): BENCH_MERGE_WORKERS (1000), BENCH_MERGE_NAMES (10), BENCH_MERGE_SAMPLES (100),
 * BENCH_MERGE_GROWTH (100).
 */

import { decodeSketch } from '../instrument/index.js';
import { type ClientResult, ClientStats, mergeClientResults } from '../runner/engine/client-stats.js';
import type { RunnerResult } from '../runner/engine/handler.js';
import { envNumber } from './stats.js';
import type { BenchContext, BenchSection, Goal, SectionRow } from './types.js';

const TIME_BUDGET_MS = 1000;
const TIME_GOAL: Goal = { op: '<=', ratio: 1 };
const ACCURACY_GOAL: Goal = { op: '<=', ratio: 1.01 };
const SIZE_GOAL: Goal = { op: '<=', ratio: 1.2 };
/** Lambda's synchronous invocation payload limit (request and response), bytes. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** A small seeded generator (mulberry32): the same workers on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal latency, ms: `median` x e^(sigma N(0,1)) (Box-Muller). */
export function logNormal(random: () => number, median: number, sigma: number): number {
  const u = 1 - random();
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

/** The exact q-quantile as DDSketch ranks it: the sorted value at floor(q (n - 1)). */
export function exactQuantile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** One synthetic worker's stats; `raw` (when given) receives every latency per name. */
export function syntheticWorker(
  worker: number,
  names: number,
  samples: number,
  raw?: Map<string, number[]>,
): ClientStats {
  const random = seededRandom(worker * 7919 + 1);
  const stats = new ClientStats();
  const drift = 1 + (worker % 10) / 20;
  for (let n = 0; n < names; n += 1) {
    const name = `request${n}`;
    const median = (5 + n * 3) * drift;
    const list = raw?.get(name) ?? [];
    raw?.set(name, list);
    for (let i = 0; i < samples; i += 1) {
      const ms = logNormal(random, median, 0.6);
      const r = random();
      const status = r < 0.01 ? 404 : r < 0.015 ? 409 : 200;
      stats.response(name, status, ms);
      raw && list.push(Math.max(0, ms));
    }
  }
  return stats;
}

function serialized(worker: number, result: ClientResult): string {
  const answer: RunnerResult = { worker, status: 'ok', result } as RunnerResult;
  return JSON.stringify(answer);
}

export const merge: BenchSection = {
  id: 'merge',
  title: "merge: 1,000 workers' serialized results, time and accuracy; one worker's result size",
  async run(ctx: BenchContext): Promise<SectionRow[]> {
    const workers = Math.round(envNumber('BENCH_MERGE_WORKERS', 1000, 2));
    const names = Math.round(envNumber('BENCH_MERGE_NAMES', 10, 1));
    const samples = Math.round(envNumber('BENCH_MERGE_SAMPLES', 100, 10));
    const growth = envNumber('BENCH_MERGE_GROWTH', 100, 2);
    const started = new Date();
    const raw = new Map<string, number[]>();
    const payloads: string[] = [];
    for (let w = 0; w < workers; w += 1) {
      if (ctx.signal.aborted) throw new Error('aborted');
      const stats = syntheticWorker(w, names, samples, raw);
      payloads.push(serialized(w, stats.result(started, new Date())));
    }
    const bytes = payloads.map((p) => Buffer.byteLength(p)).sort((a, b) => a - b);
    ctx.log(
      `${workers} workers x ${names} names x ${samples} samples; one worker's answer ` +
        `${bytes[0]}-${bytes[bytes.length - 1]} bytes`,
    );

    let merged: ClientResult | undefined;
    const times: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const t0 = performance.now();
      const results = payloads.map((p) => (JSON.parse(p) as RunnerResult).result as ClientResult);
      merged = mergeClientResults(results);
      times.push(performance.now() - t0);
    }
    const mergeMs = Math.min(...times);
    ctx.log(`merge: ${times.map((t) => t.toFixed(0)).join('/')} ms`);

    const problems: string[] = [];
    let worst = { name: '', merged: Number.NaN, exact: Number.NaN, error: -1 };
    const perName: Record<string, { merged: number; exact: number; count: number }> = {};
    for (const [name, list] of raw) {
      const stats = merged?.byName[name];
      const sorted = Float64Array.from(list).sort();
      const exact = exactQuantile(sorted, 0.99);
      if (!stats || stats.requests !== list.length) {
        problems.push(`${name}: merged ${stats?.requests ?? 0} requests, sent ${list.length}`);
        continue;
      }
      const p99 = decodeSketch(stats.latency).getValueAtQuantile(0.99);
      const error = Math.abs(p99 - exact) / exact;
      perName[name] = { merged: p99, exact, count: list.length };
      if (!(error <= worst.error)) worst = { name, merged: p99, exact, error };
    }

    // Size against run length: the same worker, GROWTH x the samples.
    const short = Buffer.byteLength(
      serialized(0, syntheticWorker(0, names, samples).result(started, started)),
    );
    const long = Buffer.byteLength(
      serialized(0, syntheticWorker(0, names, Math.round(samples * growth)).result(started, started)),
    );
    ctx.log(`one worker's answer: ${short} bytes after ${samples} samples/name, ${long} after ${growth}x`);

    return [
      {
        name: `merge ${workers} workers' serialized results (JSON.parse + mergeClientResults) / 1 s budget`,
        unit: 'ms',
        value: mergeMs,
        baseline: TIME_BUDGET_MS,
        goal: TIME_GOAL,
        valid: problems.length === 0,
        notes: [...problems, `best of 3: ${times.map((t) => t.toFixed(0)).join(', ')} ms`],
        details: {
          workers,
          names,
          samples,
          timesMs: times,
          payloadBytes: { min: bytes[0], max: bytes.at(-1) },
        },
      },
      {
        name: `merged p99 vs exact p99 of all ${workers * samples} samples per name, worst of ${names} names`,
        unit: 'ms',
        value: worst.merged,
        baseline: worst.exact,
        ratio: 1 + worst.error,
        goal: ACCURACY_GOAL,
        valid: problems.length === 0 && worst.error >= 0,
        notes: [...problems, `${worst.name}: off by ${(worst.error * 100).toFixed(2)}%`],
        details: { perName },
      },
      {
        name: `one worker's serialized result, ${names} names: ${growth}x longer run / short run`,
        unit: 'B',
        value: long,
        baseline: short,
        goal: SIZE_GOAL,
        valid: true,
        notes: [
          `${(short / 1024).toFixed(1)} KB for ${names} names: the 6 MB sync-invoke limit holds ~${Math.floor(LAMBDA_SYNC_PAYLOAD_BYTES / (long / names))} names`,
        ],
        details: { shortBytes: short, longBytes: long, samplesShort: samples, samplesLong: samples * growth },
      },
    ];
  },
};
