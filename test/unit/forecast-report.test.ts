import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { encodeSketch, PatternMetrics } from '../../instrument/index.js';
import { GateStats, KEYS_PER_TARGET } from '../../local/gate/stats.js';
import { forecast } from '../../runner/forecast/index.js';
import type { DynamoView } from '../../runner/metrics/index.js';
import { loadProject, ProjectConfigError } from '../../runner/project/index.js';
import { buildReport, evaluateThresholds } from '../../runner/report/build.js';
import { renderHtml } from '../../runner/report/html.js';
import { renderConsole, renderJUnit, renderMarkdown } from '../../runner/report/render.js';
import type { LoadProfile } from '../../runner/report/types.js';
import { loadScenario, ScenarioError } from '../../runner/scenario/load.js';
import { parseThreshold } from '../../runner/scenario/thresholds.js';
import { emptyReport } from '../helpers/report.js';

/** What the gate records per partition key, how a report carries a forecast, and how thresholds judge it. */

const call = (pattern: string, pk: string, units: number, kind: 'Read' | 'Write' = 'Read') => ({
  pattern,
  source: 'rule' as const,
  op: kind === 'Read' ? 'GetItem' : 'PutItem',
  tables: ['t'],
  status: 200,
  latencyMs: 1,
  charges: [
    { table: 't', target: 'table', kind, units, partitions: { payer: 'table', keys: [{ pk, units }] } },
  ],
});

describe("the gate's partition-key load", () => {
  it("keeps every pattern's units per key, the busiest keys with all patterns' shares of them", () => {
    const stats = new GateStats(() => 0);
    for (let i = 0; i < 30; i += 1) stats.record(call('a', 'hot', 1));
    for (let i = 0; i < 20; i += 1) stats.record(call('a', `k${i}`, 0.5));
    stats.record(call('b', 'hot', 4));
    stats.record(call('b', 'only-b', 8));
    const { keys, spread } = stats.keyLoad(2, 1);
    // The two busiest overall (hot: 34, only-b: 8), each with both patterns' units.
    expect(keys.map((k) => k.partitionKey)).toEqual(['hot', 'only-b']);
    expect(keys[0]).toEqual({
      table: 't',
      index: null,
      kind: 'read',
      partitionKey: 'hot',
      units: { a: 30, b: 4 },
    });
    expect(spread).toEqual([
      {
        pattern: 'a',
        table: 't',
        index: null,
        kind: 'read',
        keys: 21,
        keyedUnits: 40,
        touches: 50,
        truncated: false,
      },
      {
        pattern: 'b',
        table: 't',
        index: null,
        kind: 'read',
        keys: 2,
        keyedUnits: 12,
        touches: 2,
        truncated: false,
      },
    ]);
  });

  it('counts every key a call names: a transaction of two items touches two keys a call', () => {
    const stats = new GateStats(() => 0);
    for (let i = 0; i < 3; i += 1)
      stats.record({
        ...call('transfer', 'x', 0, 'Write'),
        charges: [
          {
            table: 't',
            target: 'table',
            kind: 'Write' as const,
            units: 4,
            partitions: {
              payer: 'table',
              keys: [
                { pk: `acc-${i}`, units: 2 },
                { pk: 'acc-hot', units: 2 },
              ],
            },
          },
        ],
      });
    // 3 calls, 4 keys: more keys than calls, yet acc-hot was named every time.
    expect(stats.keyLoad().spread[0]).toMatchObject({ keys: 4, touches: 6 });
  });

  it(`names at most ${KEYS_PER_TARGET} keys per pattern and target; the rest count together and the spread says so`, () => {
    const stats = new GateStats(() => 0);
    for (let i = 0; i < KEYS_PER_TARGET + 5; i += 1) stats.record(call('a', `k${i}`, 1, 'Write'));
    const { spread } = stats.keyLoad();
    expect(spread[0]).toMatchObject({
      kind: 'write',
      keys: KEYS_PER_TARGET,
      keyedUnits: KEYS_PER_TARGET + 5,
      truncated: true,
    });
  });
});

describe("the gate's count of requests that failed throttled", () => {
  const attempt = (invocation: string, n: number, throttled: boolean, max?: number) => ({
    ...call('p', 'k', throttled ? 0 : 1, 'Write'),
    status: throttled ? 400 : 200,
    ...(throttled
      ? {
          code: 'ProvisionedThroughputExceededException',
          throttleReason: 'TableWriteProvisionedThroughputExceeded',
        }
      : {}),
    attempt: n,
    ...(max !== undefined ? { maxAttempts: max } : {}),
    invocation,
  });

  it('pairs the attempts of one request by its invocation id, whatever its attempt header says', () => {
    let now = 0;
    const stats = new GateStats(() => now);
    // Retried and then served: not a throttled request.
    stats.record(attempt('a', 1, true));
    stats.record(attempt('a', 2, false, 3));
    // botocore with no retries: `attempt=1`, no max, and no second attempt.
    stats.record(attempt('b', 1, true));
    // An SDK whose retry quota ran out stops before its max.
    stats.record(attempt('c', 1, true));
    stats.record(attempt('c', 2, true, 3));
    // The last attempt its header names.
    stats.record(attempt('d', 3, true, 3));
    const p = stats.patternSnapshots().p;
    expect(p).toMatchObject({ count: 6, throttleEvents: 5, throttledRequests: 3, retries: 3 });
    // Held open 60 s at most (longer than any SDK's backoff), then counted for good: still 3.
    now += 61_000;
    stats.record(attempt('e', 1, false));
    expect(stats.patternSnapshots().p?.throttledRequests).toBe(3);
    // A client that sends no invocation id is judged by its attempt header alone, as before.
    const bare = new GateStats(() => 0);
    const { invocation: _, ...first } = attempt('x', 1, true);
    bare.record(first);
    expect(bare.patternSnapshots().p?.throttledRequests).toBe(0);
  });
});

const profile: LoadProfile = {
  requests: 100,
  durationSec: 10,
  patterns: [
    { id: 'getCustomer', calls: 50, capacity: { t: { rcu: 25, wcu: 0 } } },
    { id: 'listOrders', calls: 50, capacity: { t: { rcu: 50, wcu: 0 } } },
  ],
  keys: [
    {
      table: 't',
      index: null,
      kind: 'read',
      partitionKey: '<hot>',
      units: { getCustomer: 25, listOrders: 50 },
    },
  ],
  keySpread: [
    {
      pattern: 'getCustomer',
      table: 't',
      index: null,
      kind: 'read',
      keys: 1,
      keyedUnits: 25,
      truncated: false,
    },
    {
      pattern: 'listOrders',
      table: 't',
      index: null,
      kind: 'read',
      keys: 1,
      keyedUnits: 50,
      truncated: false,
    },
  ],
  capacity: { t: { mode: 'on-demand', table: { read: 5, write: 5 }, indexes: {}, maxRead: 30 } },
};

const report = emptyReport;

describe('forecast thresholds and views', () => {
  // 0.75 RCU a request against a maximum of 30: 40 requests/s.
  const f = forecast(profile, { rate: 50 });

  it('judges forecast.maxRate and forecast.headroom per pattern; no forecast fails the gate', () => {
    expect(f.maxRate).toBe(40);
    const results = evaluateThresholds(
      [],
      [
        parseThreshold('*', 'forecast.maxRate >= 45'),
        parseThreshold('listOrders', 'forecast.headroom > 0.5'),
      ],
      true,
      f,
    );
    expect(results.map((r) => [r.pattern, r.metric, r.actual, r.passed])).toEqual([
      ['getCustomer', 'forecast.maxRate', 40, false],
      ['listOrders', 'forecast.maxRate', 40, false],
      ['listOrders', 'forecast.headroom', 0.8, true],
    ]);
    const none = evaluateThresholds([], [parseThreshold('*', 'forecast.maxRate >= 1')], true, undefined);
    expect(none[0]).toMatchObject({ passed: false, actual: null });
    expect(none[0]?.note).toMatch(/no forecast/);
  });

  it('shows the verdict in the console, Markdown and JUnit, and a chart per pattern in the HTML (escaped)', () => {
    const thresholds = evaluateThresholds([], [parseThreshold('*', 'forecast.maxRate >= 45')], true, f);
    const r = report({ forecast: f, load: profile, thresholds, passed: false });
    expect(renderConsole(r)).toContain(`forecast at 50 requests/s: ${f.verdict}`);
    // Escaped as Markdown text (its ~ would start a strikethrough).
    expect(renderMarkdown(r)).toContain(`**Forecast at 50 requests/s:** ${f.verdict.replace(/~/g, '\\~')}`);
    expect(renderJUnit(r)).toMatch(/forecast\.maxRate &gt;= 45/);
    const page = renderHtml(r);
    expect(page).toContain('id="forecast-chart"');
    expect(page.match(/class="forecast-line"/g)).toHaveLength(2);
    // The hot key's name came from the app's data: escaped.
    expect(page).toContain('&lt;hot&gt;');
    expect(page).not.toContain('<hot>');
  });
});

describe('forecast config', () => {
  it('a scenario gating on the forecast needs a rate; a bad growth names the field (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-forecast-'));
    const config = join(dir, 'loadtest.config.yml');
    await writeFile(config, 'tables: [{ name: tbl, partitionKey: id }]\npatterns: [{ id: getT }]\n');
    const project = await loadProject(config);
    const scenario = async (name: string, loadtest: string) => {
      const path = join(dir, `${name}.yml`);
      await writeFile(
        path,
        `config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  loadtest:\n${loadtest}\nscenarios: [{ flow: [{ get: { url: /, name: getT } }] }]\n`,
      );
      return path;
    };
    const gated = await scenario('gated', '    thresholds: { "*": ["forecast.maxRate >= 100"] }');
    expect(() => loadScenario(gated, project)).toThrow(ScenarioError);
    expect(() => loadScenario(gated, project)).toThrow(
      /needs the traffic to forecast: set config\.loadtest\.forecast\.rate/,
    );
    const ok = loadScenario(
      await scenario(
        'ok',
        '    forecast: { rate: 100, growth: 2x/30min }\n    thresholds: { "*": ["forecast.maxRate >= 100"] }',
      ),
      project,
    );
    expect(ok.forecast).toEqual({ rate: 100, growth: '2x/30min' });
    const bad = await scenario('bad', '    forecast: { rate: 100, growth: soon }');
    expect(() => loadScenario(bad, project)).toThrow(/config\.loadtest\.forecast: growth "soon"/);

    // The project states the traffic: every scenario of it is forecast at that rate.
    await writeFile(
      config,
      'tables: [{ name: tbl, partitionKey: id }]\npatterns: [{ id: getT }]\nforecast: { rate: 2000, mix: "getT=1" }\n',
    );
    const withRate = await loadProject(config);
    expect(loadScenario(gated, withRate).forecast).toEqual({ rate: 2000, mix: 'getT=1' });
    await writeFile(
      config,
      'tables: [{ name: tbl, partitionKey: id }]\nforecast: { rate: 10, growth: 2y }\n',
    );
    await expect(loadProject(config)).rejects.toThrow(ProjectConfigError);
    await expect(loadProject(config)).rejects.toThrow(/forecast: growth "2y"/);
  });
});

describe('a run with a forecast configured', () => {
  const server = new PatternMetrics();
  for (let i = 0; i < 10; i += 1)
    server.record({
      pattern: 'getT',
      latencyMs: 2,
      ok: true,
      throttleEvents: 0,
      throttled: false,
      retries: 0,
      capacity: [{ target: 'tbl', rcu: 0.5, wcu: 0 }],
    });
  const input = {
    scenario: 's',
    target: 'http://127.0.0.1:1',
    client: {
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:10.000Z',
      byName: {
        getT: { requests: 10, errors: 0, codes: { '200': 10 }, latency: encodeSketch(new DDSketch()) },
      },
      counters: {},
    },
    server: server.snapshot(),
    declared: ['getT'],
    thresholds: [parseThreshold('*', 'forecast.maxRate >= 100')],
    ensure: [],
  };
  const gate: DynamoView = {
    tables: [],
    hotKeys: [],
    metrics: [],
    keyLoad: [{ table: 'tbl', index: null, kind: 'read', partitionKey: 'k1', units: { getT: 5 } }],
    keySpread: [
      { pattern: 'getT', table: 'tbl', index: null, kind: 'read', keys: 1, keyedUnits: 5, truncated: false },
    ],
    capacity: { tbl: { mode: 'provisioned', table: { read: 20, write: 5 }, indexes: {} } },
  };

  it('carries the load profile and the forecast, and judges the forecast thresholds', () => {
    const report = buildReport({ ...input, dynamodb: gate, forecast: { rate: 10 } });
    expect(report.load).toMatchObject({
      requests: 10,
      durationSec: 10,
      patterns: [{ id: 'getT', calls: 10 }],
    });
    // 0.5 RCU a request against 20 provisioned: 40 requests/s.
    expect(report.forecast?.maxRate).toBe(40);
    expect(report.thresholds[0]).toMatchObject({ pattern: 'getT', actual: 40, passed: false });
    expect(report.passed).toBe(false);
  });

  it('divides units per call by the calls DynamoDB answered: throttled attempts cost nothing', () => {
    // The gate counts every attempt; 4 of 14 here were throttled (no capacity) and retried.
    const base = server.snapshot();
    const getT = base.patterns.getT;
    if (!getT) throw new Error('no getT');
    const throttled = {
      ...base,
      patterns: { getT: { ...getT, count: 14, throttleEvents: 4, retries: 4, answered: 10 } },
    };
    const report = buildReport({ ...input, server: throttled, dynamodb: gate, forecast: { rate: 10 } });
    expect(report.patterns[0]).toMatchObject({ calls: 14, throttleEvents: 4, rcuPerRequest: 0.5 });
    expect(report.load?.patterns).toEqual([expect.objectContaining({ id: 'getT', calls: 10 })]);
    // Cheaper with every throttle, before: 5 RCU over 14 attempts.
    expect(report.forecast?.patterns[0]).toMatchObject({ callsPerSecond: 10 });
    const rcuPerSecond = report.forecast?.patterns[0]?.targets[0]?.rcu ?? 0;

    // Two of the 10 requests failed throttled (6 throttled attempts, 4 retries): the demand is still
    // 10 requests, the mix's, and the 5 RCU were spent by the 8 calls answered.
    const failing = {
      ...base,
      patterns: { getT: { ...getT, count: 14, throttleEvents: 6, retries: 4, answered: 8 } },
    };
    const demand = buildReport({ ...input, server: failing, dynamodb: gate, forecast: { rate: 10 } });
    expect(demand.load?.patterns).toEqual([expect.objectContaining({ id: 'getT', calls: 10, answered: 8 })]);
    expect(demand.forecast?.patterns[0]).toMatchObject({ callsPerSecond: 10 });
    // A call costs 5 / 8 RCU, not 5 / 10: 10 calls a second take 10 / 8 of the units above.
    expect(demand.forecast?.patterns[0]?.targets[0]?.rcu).toBeCloseTo((rcuPerSecond * 10) / 8, 6);
  });

  it('a forecast the run cannot make is a note and a failed gate, never a lost report', () => {
    const report = buildReport({ ...input, dynamodb: gate, forecast: { rate: 10, mix: { checkout: 1 } } });
    expect(report.forecast).toBeUndefined();
    expect(report.forecastError).toMatch(/^no forecast: mix: no pattern "checkout" in the run/);
    expect(report.thresholds[0]).toMatchObject({ passed: false, actual: null });
    expect(renderConsole(report)).toContain(report.forecastError);
    const blind = buildReport({ ...input, forecast: { rate: 10 } });
    expect(blind.load).toBeUndefined();
    expect(blind.forecastError).toMatch(/not measured by the capacity gate/);
  });
});
