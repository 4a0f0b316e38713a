import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Forecast } from '../../runner/forecast/index.js';
import type { Report } from '../../runner/report/types.js';
import { runCli, runEach } from '../helpers/cli.js';
import { EXAMPLE_DIR, type UpStack, upExample } from '../helpers/example-project.js';

/**
 * The forecast checked against the gate it models, on the orders example (`loadtest up`, real CLI):
 * a small sample run gives the rate at which a pattern starts to throttle under a configured capacity
 * (an on-demand maximum of 10 RCU a second per table, set by the scenario); runs through the same gate
 * at 0.9x and 1.1x that rate show no throttling and throttling, on the pattern, key and reason the
 * forecast named. Then the same sample, forecast for an on-demand table without a maximum: the hot
 * customer's partition is the first limit, long before the table's.
 */
const SCENARIO = join(EXAMPLE_DIR, 'scenarios/forecast.yml');

let up: UpStack;
let scratch: string;
let hotCustomer: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'loadtest-forecast-'));
  up = await upExample();
  hotCustomer = (JSON.parse(await readFile(up.stack.fixtures ?? '', 'utf8')) as { hotCustomer: string })
    .hotCustomer;
}, 120_000);

afterAll(async () => {
  await up?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** `loadtest run` of the forecast scenario through the stack's gate; the report. */
async function run(
  name: string,
  extra: string[] = [],
): Promise<{ code: number | null; report: Report; out: string }> {
  const output = join(scratch, `${name}.json`);
  const r = runCli([
    'run',
    SCENARIO,
    '--url',
    up.stack.appUrl ?? '',
    '--state-dir',
    up.state,
    '--output',
    output,
    ...extra,
  ]);
  const { code } = await r.exited;
  const out = `${r.stdout()}\n${r.stderr()}`;
  const report = JSON.parse(await readFile(output, 'utf8').catch(() => '{}')) as Report;
  return { code, report, out };
}

async function forecastOf(report: string, extra: string[] = []): Promise<Forecast> {
  const r = runCli(['forecast', report, '--json', ...extra]);
  const { code } = await r.exited;
  expect(code, r.stderr()).toBe(0);
  return JSON.parse(r.stdout()) as Forecast;
}

const throttles = (report: Report, id: string) => report.patterns.find((p) => p.id === id)?.throttleEvents;
const throttled = (report: Report) => report.patterns.some((p) => (p.throttleEvents ?? 0) > 0);
/** The scenario's on-demand maximum (`maxRead`), per table. */
const MAX_RCU = (
  parse(readFileSync(SCENARIO, 'utf8')) as { config: { loadtest: { capacity: { maxRead: number } } } }
).config.loadtest.capacity.maxRead;
/** Runs at 0.9x, at most: a run whose load bunched above the maximum is run again. */
const BELOW_ATTEMPTS = 3;
/** The most RCU a second the orders table took in any interval of a run's timeline (2 s each). */
const peakOrdersRcu = (report: Report) =>
  Math.max(0, ...(report.timeline ?? []).map((p) => (p.targets?.orders?.rcu ?? 0) / p.dt));

describe('loadtest forecast against the gate it models', () => {
  let sample: Report;

  it('a sample run forecasts where a pattern throttles; runs at 0.9x and 1.1x that rate agree', async () => {
    const s = await run('sample');
    expect(s.code, s.out).toBe(0);
    sample = s.report;
    // The run itself forecasts at the scenario's expected 15 requests/s and passes its headroom gate.
    expect(sample.forecast?.rate).toBe(15);
    expect(sample.thresholds.filter((t) => t.metric === 'forecast.headroom').every((t) => t.passed)).toBe(
      true,
    );

    const f = await forecastOf(join(scratch, 'sample.json'));
    const first = f.limits[0];
    expect(f.first?.pattern).toBe('listOrders');
    expect(first).toMatchObject({
      table: 'orders',
      index: null,
      kind: 'read',
      scope: 'table',
      reason: 'TableReadMaxOnDemandThroughputExceeded',
      exception: 'ThrottlingException',
    });
    const listOrders = f.patterns.find((p) => p.id === 'listOrders');
    expect(listOrders?.busiestKey?.partitionKey).toBe(hotCustomer);
    const rate = f.maxRate ?? 0;
    expect(rate).toBeGreaterThan(0);

    // The scenario sends two requests per visit: arrivals a second = requests a second / 2.
    const perVisit = (sample.load?.requests ?? 0) / (4 * 5);
    expect(perVisit).toBe(2);
    const arrivals = (factor: number) => String(Math.round(((rate * factor) / perVisit) * 10) / 10);

    // At 0.9x the table stays under its maximum only while visits arrive evenly. On a busy machine the
    // load worker can stall, then send what it owes at once: the gate throttles that, as DynamoDB
    // would, and the run says nothing about the forecast. Such a run (one whose timeline shows an
    // interval over the maximum) is run again; a throttle with every interval under it fails.
    let below = await run('below-1', ['--rate', arrivals(0.9), '--duration', '20']);
    for (let attempt = 2; attempt <= BELOW_ATTEMPTS && throttled(below.report); attempt += 1) {
      const peak = peakOrdersRcu(below.report);
      expect(peak, `throttled at 0.9x with every interval under ${MAX_RCU} RCU/s`).toBeGreaterThan(MAX_RCU);
      console.info(
        `forecast: the 0.9x run reached ${peak.toFixed(1)} RCU/s in an interval and throttled; again`,
      );
      below = await run(`below-${attempt}`, ['--rate', arrivals(0.9), '--duration', '20']);
    }
    expect(below.code, below.out).toBe(0);
    for (const p of below.report.patterns) expect(p.throttleEvents, `${p.id} at 0.9x`).toBe(0);

    const above = await run('above', ['--rate', arrivals(1.1), '--duration', '20']);
    // Throttled reads the SDK could not retry away are errors: the error-rate gate may fail (exit 1).
    expect([0, 1], above.out).toContain(above.code);
    expect(throttles(above.report, 'listOrders'), above.out).toBeGreaterThan(0);
    // The other table stays under its own maximum (0.25 RCU per request against 0.5).
    expect(throttles(above.report, 'getCustomer')).toBe(0);
    const orders = above.report.tables?.find((t) => t.table === 'orders' && t.index === null);
    expect(Object.keys(orders?.throttleReasons ?? {})).toEqual([first?.reason]);
    const hot = (above.report.hotKeys ?? []).filter((k) => k.throttleEvents > 0);
    expect(hot.map((k) => `${k.table}/${k.partitionKey}`)).toEqual([`orders/${hotCustomer}`]);
    console.info(
      `forecast: listOrders throttles at ${rate} requests/s; at ${arrivals(0.9)} visits/s 0 throttles (peak interval ${peakOrdersRcu(below.report).toFixed(1)} RCU/s), at ${arrivals(1.1)} visits/s ${throttles(above.report, 'listOrders')} (peak interval ${peakOrdersRcu(above.report).toFixed(1)} RCU/s)`,
    );
  }, 240_000);

  it('a hot key: without the maximum, the hot customer reaches the per-partition limit far below the table', async () => {
    const f = await forecastOf(join(scratch, 'sample.json'), [
      '--capacity-mode',
      'on-demand',
      '--rate',
      '5000',
    ]);
    const first = f.limits[0];
    expect(first).toMatchObject({
      table: 'orders',
      scope: 'partition',
      partitionKey: hotCustomer,
      reason: 'TableReadKeyRangeThroughputExceeded',
      unitsPerSecond: 3000,
    });
    const table = f.limits.find((l) => l.table === 'orders' && l.scope === 'table');
    // The table's warm throughput (12,000 RCU) would take four times the rate.
    expect(table?.rate).toBeCloseTo((first?.rate ?? 0) * 4, 6);
    expect(f.verdict).toContain(`key ${hotCustomer}`);
  });

  it('gates CI: a threshold on forecast.maxRate fails with exit 1 and says why', async () => {
    const r = runCli([
      'forecast',
      join(scratch, 'sample.json'),
      '--threshold',
      'listOrders: forecast.maxRate >= 30',
    ]);
    const { code } = await r.exited;
    expect(code, r.stderr()).toBe(1);
    expect(r.stdout()).toMatch(/FAILED threshold listOrders: forecast\.maxRate >= 30 \(actual 20\)/);
    const bad = runCli(['forecast', join(scratch, 'sample.json'), '--rate', '10', '--mix', 'nope=1']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/mix: no pattern "nope" in the run/);
    // Number flags are judged under their own names, as typed: no "$NaN" or negative bill.
    const cases = [
      [['--rate', 'abc'], /--rate: expected requests a second > 0, got "abc"/],
      [['--rate', '10', '--price-read', '-1'], /--price-read: expected USD per million units >= 0, got -1/],
      // Its output is checked before any work, as run's and report's are.
      [['--rate', '10', '--output', tmpdir()], /--output .*: that is a folder; name a file/],
      // Another region's name on the report's (us-east-1) prices: each price to give is named.
      [
        ['--rate', '10', '--region', 'eu-west-1', '--price-read', '0.14'],
        /prices for eu-west-1: writePerMillion, rcuHour, wcuHour not given .*: give --price-write, --price-rcu-hour, --price-wcu-hour$/m,
      ],
      // A threshold on a pattern the run lacks is quoted as typed, pattern and all.
      [
        ['--threshold', 'nope: forecast.maxRate >= 30'],
        /--threshold "nope: forecast\.maxRate >= 30": no pattern "nope" in the run/,
      ],
    ] as const;
    const runs = await runEach(cases.map(([flags]) => ['forecast', join(scratch, 'sample.json'), ...flags]));
    cases.forEach(([, message], i) => {
      expect(runs[i]?.code, runs[i]?.run.stdout()).toBe(2);
      expect(runs[i]?.run.stderr()).toMatch(message);
    });
  });
});
