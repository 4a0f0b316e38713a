import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DDSketch } from '@datadog/sketches-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * The local fan-out runs N runner handlers in worker processes through the same fan-out and merge
 * code the Lambda path uses. Every response's latency is also written down by a test processor, so
 * the merged sketch can be checked against one sketch (and the exact quantile) of the same samples.
 */
const PROCESSOR = join(ROOT, 'test/e2e/fixtures/fanout-processor.cjs');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-fanout-'));
});

async function scenario(name: string): Promise<string> {
  const path = join(dir, `${name}.yml`);
  await writeFile(
    path,
    `config:
  target: http://127.0.0.1:1
  phases: [{ duration: 4, arrivalRate: 40 }]
  processor: ${PROCESSOR}
scenarios:
  - flow:
      - get: { url: /api/products?limit=5, name: listProducts, afterResponse: record }
      - get: { url: /health, name: health, afterResponse: record }
`,
  );
  return path;
}

/** Per worker file: [name, latency] lines. */
async function samples(at: string): Promise<Map<string, [string, number][]>> {
  const out = new Map<string, [string, number][]>();
  for (const f of await readdir(at)) {
    const lines = (await readFile(join(at, f), 'utf8')).trim().split('\n');
    out.set(
      f,
      lines.map((l) => {
        const [name = '', ms = ''] = l.split('\t');
        return [name, Number(ms)];
      }),
    );
  }
  return out;
}

/** The exact p99 by the sketch's own rank rule (rank = q x (n - 1)), so only its 1 % bucket error is left. */
function p99Exact(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0;
}

describe('local fan-out over 4 worker processes', () => {
  it('merges exactly: the count is the sum of the workers, p99 matches one sketch of all samples', async () => {
    const at = await mkdtemp(join(dir, 'samples-'));
    const output = join(dir, 'four.json');
    const run = runCli(['run', await scenario('four'), '--workers', '4', '--output', output, '--quiet'], {
      env: { ...process.env, FANOUT_SAMPLES_DIR: at },
    });
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report.workers.map((w: { status: string }) => w.status)).toEqual(['ok', 'ok', 'ok', 'ok']);

    const perWorker = await samples(at);
    expect([...perWorker.keys()].sort()).toEqual([0, 1, 2, 3].map((w) => `worker-${w}.txt`));
    const all = [...perWorker.values()].flat();
    // Every worker did its share of the 160 arrivals (2 requests each).
    for (const s of perWorker.values()) expect(s.length).toBe(80);
    const merged = report.patterns.reduce((n: number, p: { requests: number }) => n + p.requests, 0);
    expect(merged).toBe(all.length);

    for (const name of ['listProducts', 'health']) {
      const values = all.filter(([n]) => n === name).map(([, ms]) => ms);
      const row = report.patterns.find((p: { id: string }) => p.id === name);
      expect(row.requests).toBe(values.length);
      const one = new DDSketch({ relativeAccuracy: 0.01 });
      for (const v of values) one.accept(v);
      const single = one.getValueAtQuantile(0.99);
      // The merged p99 (4 workers' sketches) against one sketch that saw every sample, and the exact.
      expect(Math.abs(row.latencyMs.p99 - single) / single, name).toBeLessThanOrEqual(0.01);
      expect(Math.abs(row.latencyMs.p99 - p99Exact(values)) / p99Exact(values), name).toBeLessThanOrEqual(
        0.01,
      );
    }
  }, 90_000);

  it('names a worker that crashed, keeps the others, writes the partial report and exits 3', async () => {
    const output = join(dir, 'crash.json');
    const run = runCli(['run', await scenario('crash'), '--workers', '4', '--output', output], {
      env: { ...process.env, FANOUT_CRASH_WORKER: '2' },
    });
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(3);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report.partial).toBe(true);
    expect(report.workers.map((w: { status: string }) => w.status)).toEqual(['ok', 'ok', 'failed', 'ok']);
    expect(report.workers[2].error).toMatch(/exited \(code 7/);
    expect(report.error).toMatch(/worker 2 failed/);
    expect(run.stdout()).toMatch(/worker 2 failed/);
    expect(run.stdout()).toMatch(/PARTIAL/);
    // The three healthy workers' requests are all there, plus what worker 2 reported before it died.
    const requests = report.patterns.reduce((n: number, p: { requests: number }) => n + p.requests, 0);
    expect(requests).toBeGreaterThanOrEqual(3 * 80);

    // --allow-partial judges the same kind of run by its thresholds instead.
    const allowed = runCli(
      [
        'run',
        await scenario('crash-allowed'),
        '--workers',
        '4',
        '--allow-partial',
        '--output',
        join(dir, 'allowed.json'),
        '--quiet',
      ],
      { env: { ...process.env, FANOUT_CRASH_WORKER: '2' } },
    );
    expect((await allowed.exited).code, allowed.stderr()).toBe(0);
  }, 120_000);
});
