import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { patternIds } from '../../app/index.js';
import { dashboardDefinition, localCharts } from '../../dashboards/index.js';
import {
  encodeSketch,
  type MetricsSnapshot,
  type PatternSnapshot,
  SKETCH_RELATIVE_ACCURACY,
} from '../../instrument/index.js';
import type { ClientResult } from '../../runner/engine/client-stats.js';
import type { DynamoView } from '../../runner/metrics/index.js';
import { renderHtml } from '../../runner/report/html.js';
import { renderConsole, renderJUnit } from '../../runner/report/render.js';
import { intervalQuantiles, type TimelinePoint, TimelineRecorder } from '../../runner/report/timeline.js';
import type { Report } from '../../runner/report/types.js';
import { emptyReport, UNMEASURED } from '../helpers/report.js';

const sketchOf = (values: readonly number[]) => {
  const s = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  for (const v of values) s.accept(v);
  return s;
};
const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

function client(
  byName: Record<string, { requests: number; errors: number; values: number[] }>,
): ClientResult {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:10.000Z',
    counters: {},
    byName: Object.fromEntries(
      Object.entries(byName).map(([name, n]) => [
        name,
        { requests: n.requests, errors: n.errors, codes: {}, latency: encodeSketch(sketchOf(n.values)) },
      ]),
    ),
  };
}

function server(patterns: Record<string, Partial<PatternSnapshot> & { values?: number[] }>): MetricsSnapshot {
  return {
    since: '2026-01-01T00:00:00.000Z',
    at: '2026-01-01T00:00:10.000Z',
    patterns: Object.fromEntries(
      Object.entries(patterns).map(([id, p]) => [
        id,
        {
          count: 0,
          errors: 0,
          throttleEvents: 0,
          throttledRequests: 0,
          retries: 0,
          rcu: 0,
          wcu: 0,
          capacity: {},
          latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
          ...p,
          sketch: encodeSketch(sketchOf(p.values ?? [])),
        },
      ]),
    ),
  };
}

/** The gate's view: provisioned 50/20 on the table, 10/5 on its GSI. */
const gate = (rcu: number, readThrottles: number): DynamoView => ({
  tables: [
    {
      table: 'shop',
      index: null,
      consumedRcu: rcu,
      consumedWcu: 0,
      readThrottleEvents: readThrottles,
      writeThrottleEvents: 0,
      throttleReasons: {},
      provisioned: { read: 50, write: 20 },
    },
    {
      table: 'shop',
      index: 'GSI1',
      consumedRcu: rcu / 2,
      consumedWcu: 0,
      readThrottleEvents: 0,
      writeThrottleEvents: 0,
      throttleReasons: {},
      provisioned: { read: 10, write: 5 },
    },
  ],
  hotKeys: [],
  metrics: [],
});

describe('the run timeline', () => {
  it("gives each point its own interval's latency, from the difference of cumulative sketches", () => {
    const fast = range(200, (i) => 10 + (i % 5));
    const slow = range(100, (i) => 200 + (i % 10));
    const q = intervalQuantiles(encodeSketch(sketchOf([...fast, ...slow])), encodeSketch(sketchOf(fast)));
    // Only the slow samples are in the interval: its median is ~205 ms, not the mixture's ~14 ms.
    expect(q?.p50).toBeGreaterThan(200 * 0.99);
    expect(q?.p99).toBeLessThan(209 * 1.01);
    expect(intervalQuantiles(encodeSketch(sketchOf(fast)), encodeSketch(sketchOf(fast)))).toBeUndefined();
  });

  it('records counts per interval from cumulative client and gate counters, and provisioned capacity', () => {
    let now = 1_000_000;
    const rec = new TimelineRecorder({ clock: () => now });
    now += 2000;
    rec.client(client({ getProduct: { requests: 10, errors: 1, values: range(10, () => 5) } }));
    rec.sample({
      server: server({ getProduct: { count: 10, rcu: 5, values: range(10, () => 2) } }),
      gate: gate(5, 0),
    });
    now += 2000;
    rec.client(
      client({
        getProduct: { requests: 30, errors: 1, values: [...range(10, () => 5), ...range(20, () => 50)] },
      }),
    );
    rec.sample({
      server: server({
        getProduct: {
          count: 30,
          rcu: 15,
          throttleEvents: 3,
          retries: 3,
          values: [...range(10, () => 2), ...range(20, () => 40)],
        },
      }),
      gate: gate(15, 3),
    });
    const [a, b] = rec.points();
    expect(a).toMatchObject({ t: 2, dt: 2, requests: 10, errors: 1 });
    expect(b).toMatchObject({ t: 4, dt: 2, requests: 20, errors: 0, throttleEvents: 3 });
    expect(b?.patterns.getProduct).toMatchObject({
      requests: 20,
      serverRequests: 20,
      rcu: 10,
      throttleEvents: 3,
      retries: 3,
    });
    expect(b?.patterns.getProduct?.latencyMs?.p50).toBeCloseTo(50, -0.5);
    expect(b?.patterns.getProduct?.serverLatencyMs?.p99).toBeCloseTo(40, -0.5);
    expect(b?.targets?.shop).toEqual({
      rcu: 10,
      wcu: 0,
      readThrottleEvents: 3,
      writeThrottleEvents: 0,
      provisionedRcu: 50,
      provisionedWcu: 20,
    });
    expect(b?.targets?.['shop/GSI1']).toMatchObject({ rcu: 5, provisionedRcu: 10, provisionedWcu: 5 });
  });

  it("counts from zero again when the gate's counters were reset, and uses its counts with no client in view", () => {
    let now = 0;
    const rec = new TimelineRecorder({ clock: () => now });
    now = 2000;
    rec.sample({ server: server({ checkout: { count: 40, errors: 2, values: range(40, () => 30) } }) });
    now = 4000;
    rec.sample({ server: server({ checkout: { count: 5, errors: 0, values: range(5, () => 90) } }) });
    const [a, b] = rec.points();
    expect(a).toMatchObject({ requests: 40, errors: 2 });
    expect(b?.patterns.checkout).toMatchObject({ requests: 5, serverRequests: 5 });
    expect(b?.patterns.checkout?.serverLatencyMs?.p50).toBeCloseTo(90, -0.5);
  });

  it('keeps a long run bounded: past maxPoints, neighbours merge (counts add, quantiles keep the higher)', () => {
    let now = 0;
    const rec = new TimelineRecorder({ clock: () => now, maxPoints: 4 });
    let total = 0;
    for (let i = 1; i <= 5; i += 1) {
      now = i * 2000;
      total += i;
      rec.client(client({ getProduct: { requests: total, errors: 0, values: range(total, () => i * 10) } }));
      rec.sample();
    }
    const points = rec.points();
    expect(points.length).toBeLessThanOrEqual(4);
    expect(points.reduce((s, p) => s + p.requests, 0)).toBe(15);
    expect(points.reduce((s, p) => s + p.dt, 0)).toBeCloseTo(10);
    expect(points[points.length - 1]?.t).toBe(10);
  });
});

describe('the local charts', () => {
  const points: TimelinePoint[] = [1, 2, 3].map((i) => ({
    t: i * 2,
    dt: 2,
    requests: 10 * i,
    errors: i === 2 ? 2 : 0,
    throttleEvents: i,
    patterns: {
      getProduct: {
        requests: 10 * i,
        errors: i === 2 ? 2 : 0,
        // The last interval's 4 throttled attempts consumed nothing: 5 RCU over the 10 answered.
        serverRequests: i === 3 ? 14 : 10,
        ...(i === 3 ? { serverAnswered: 10 } : {}),
        rcu: 5,
        throttleEvents: i,
      },
    },
  }));

  it('draws rates per second, running totals and the error rate so far, with threshold lines', () => {
    const rows = localCharts(
      dashboardDefinition({
        patterns: ['getProduct'],
        thresholds: { getProduct: ['throttleEvents <= 4', 'errorRate < 0.1'] },
      }),
      points,
    );
    const chart = (id: string) => rows.flatMap((r) => r.charts).find((c) => c.id === id);
    expect(chart('header-requests')?.data).toEqual([
      [2, 4, 6],
      [5, 10, 15],
    ]);
    expect(chart('getProduct-throttles')?.data[1]).toEqual([1, 3, 6]);
    expect(chart('getProduct-throttles')?.annotations).toEqual([{ label: 'throttleEvents <= 4', value: 4 }]);
    expect(chart('getProduct-errorRate')?.data[1]).toEqual([0, 0.067, 0.033]);
    expect(chart('getProduct-capacityPerRequest')?.data[1]).toEqual([0.5, 0.5, 0.5]);
    // No gate in this timeline: the capacity charts have nothing to draw and are left out.
    expect(chart('header-capacity-shop')).toBeUndefined();
  });

  it('draws a header chart per table and GSI of the project, and a pattern the gate named with the declared ones', () => {
    const withTargets = points.map((p) => ({
      ...p,
      patterns: {
        ...p.patterns,
        'Query orders customerId = ?': { requests: 0, errors: 0, serverRequests: 4, rcu: 2 },
      },
      targets: {
        orders: { rcu: 2, wcu: 0, readThrottleEvents: 0, writeThrottleEvents: 0 },
        'orders/byProduct': { rcu: 1, wcu: 0, readThrottleEvents: 0, writeThrottleEvents: 0 },
      },
    }));
    const def = dashboardDefinition({
      tables: [{ name: 'orders', indexes: ['byProduct'] }],
      patterns: [{ id: 'getProduct', description: 'one product' }],
      rows: ['getProduct', 'Query orders customerId = ?'],
    });
    expect(def.rows.map((r) => r.subtitle)).toEqual([
      'one product',
      'not a declared pattern: a request name, or a pattern the capacity gate named',
    ]);
    // Only the declared pattern has the app's EMF metrics on CloudWatch.
    expect(def.rows[0]?.widgets.some((w) => w.series.some((x) => x.cloudwatch))).toBe(true);
    expect(def.rows[1]?.widgets.some((w) => w.series.some((x) => x.cloudwatch))).toBe(false);
    const rows = localCharts(def, withTargets);
    const chart = (id: string) => rows.flatMap((r) => r.charts).find((c) => c.id === id);
    expect(chart('header-capacity-orders')?.data[1]).toEqual([1, 1, 1]);
    expect(chart('header-capacity-orders/byProduct')?.title).toBe(
      'orders/byProduct: consumed vs provisioned capacity',
    );
    // The gate's own pattern draws its DynamoDB side (capacity per call) with no client side.
    expect(chart('Query orders customerId = ?-capacityPerRequest')?.data[1]).toEqual([0.5, 0.5, 0.5]);
  });
});

const report = emptyReport;

const row = (id: string, pattern = true): Report['patterns'][number] => ({
  id,
  pattern,
  source: pattern ? 'declared' : null,
  requestName: true,
  calls: 10,
  dynamodbErrors: {},
  requests: 10,
  errors: 0,
  errorRate: 0,
  latencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
  serverLatencyMs: { p50: 1, p95: 2, p99: 3 },
  rcu: 5,
  wcu: 0,
  rcuPerRequest: 0.5,
  wcuPerRequest: 0,
  throttleEvents: 0,
  throttledRequests: 0,
  retries: 0,
  costPerMillionUsd: 0.0625,
});

describe('the HTML report', () => {
  it('escapes every string from the report: names from scenarios cannot become markup or script', () => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const html = renderHtml(
      report({
        scenario: `"><svg onload=alert(3)>`,
        patterns: [row('getProduct'), row(evil, false)],
        thresholds: [{ pattern: evil, metric: 'errorRate', op: '<', value: 0.1, actual: 0, passed: true }],
        hotKeys: [
          {
            table: 'shop',
            index: null,
            partitionKey: `PRODUCT#<b>${evil}`,
            rcu: 1,
            wcu: 0,
            throttleEvents: 0,
          },
        ],
        tables: [
          {
            table: 'shop',
            index: null,
            consumedRcu: 1,
            consumedWcu: 0,
            readThrottleEvents: 1,
            writeThrottleEvents: 0,
            throttleReasons: { '<i>TableReadProvisionedThroughputExceeded</i>': 1 },
            provisioned: null,
          },
        ],
        timeline: [
          {
            t: 2,
            dt: 2,
            requests: 1,
            errors: 0,
            throttleEvents: 0,
            patterns: { [evil]: { requests: 1, errors: 0 } },
          },
        ],
      }),
    );
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    // Inside the chart data, `<` is \u003c: the JSON cannot close its <script> element.
    expect(html).toContain('\\u003c/script\\u003e');
    // Exactly our four scripts: the config, the data, uPlot and the page's own.
    expect(html.match(/<script[\s>]/g)).toHaveLength(4);
  });

  it('counts checks as the console and JUnit do: a non-strict ensure check is one that warns', () => {
    const r = emptyReport({
      ensure: [
        { expression: 'a < 1', strict: true, passed: false },
        { expression: 'b < 1', strict: false, passed: false },
        { expression: 'c < 1', strict: true, passed: true },
      ],
    });
    const html = renderHtml(r);
    expect(html).toContain('1 of 3 check(s) failed');
    expect(renderConsole(r)).toContain('FAILED: 1 of 3 check(s)');
    expect(renderJUnit(r)).toMatch(/tests="3"/);
  });

  it('needs no network: no src or href, and a CSP that allows no connection', () => {
    const html = renderHtml(report({ patterns: [row('getProduct')] }));
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).toMatch(
      /Content-Security-Policy" content="default-src &#39;none&#39;;[^"]*connect-src &#39;none&#39;/,
    );
  });

  it('stays under 2 MB with the longest timeline the recorder keeps, for every pattern of the registry', () => {
    // 500 points (the recorder's cap: a longer run is merged down to it) with every registry pattern and
    // every field: an upper bound for `mixed` (60 s = 30 points) and for any other scenario.
    const timeline: TimelinePoint[] = range(500, (i) => ({
      t: (i + 1) * 2.003,
      dt: 2.003,
      requests: 1234,
      errors: 12,
      throttleEvents: 7,
      patterns: Object.fromEntries(
        patternIds.map((id) => [
          id,
          {
            requests: 123,
            errors: 1,
            latencyMs: { p50: 12.345, p95: 45.678, p99: 123.456 },
            serverRequests: 234,
            serverLatencyMs: { p50: 5.432, p95: 21.098, p99: 87.654 },
            rcu: 117.5,
            wcu: 23.25,
            throttleEvents: 3,
            throttledRequests: 1,
            retries: 3,
          },
        ]),
      ),
      targets: Object.fromEntries(
        ['shop', 'shop/GSI1', 'shop/GSI2', 'shop/GSI3'].map((t) => [
          t,
          {
            rcu: 523.5,
            wcu: 211.25,
            readThrottleEvents: 3,
            writeThrottleEvents: 1,
            provisionedRcu: 300,
            provisionedWcu: 100,
          },
        ]),
      ),
    }));
    const size = Buffer.byteLength(
      renderHtml(
        report({
          patterns: patternIds.map((id) => row(id)),
          thresholds: patternIds.map((id) => ({
            pattern: id,
            metric: 'p99',
            op: '<',
            value: 250,
            actual: 3,
            passed: true,
          })),
          timeline,
        }),
      ),
    );
    console.info(
      `HTML with a 500-point timeline for all ${patternIds.length} patterns: ${(size / 1024).toFixed(0)} KB`,
    );
    expect(size).toBeLessThan(2 * 1024 * 1024);
  });

  it('still renders a report written before timelines existed', () => {
    const html = renderHtml(report({ patterns: [row('getProduct')] }));
    expect(html).toContain('data-pattern="getProduct"');
    expect(html).toContain('"rows":[');
  });

  it('shows an unmeasured figure as – and says which source was missing', () => {
    const blind = {
      ...row('getProduct'),
      ...UNMEASURED,
    };
    const html = renderHtml(
      report({
        patterns: [blind],
        notMeasured: 'DynamoDB side not measured: no capacity gate in front of the app',
        thresholds: [
          {
            pattern: 'getProduct',
            metric: 'rcuPerRequest',
            op: '<=',
            value: 1,
            actual: null,
            passed: false,
            note: 'not measured',
          },
        ],
      }),
    );
    expect(html).toContain('id="not-measured"');
    expect(html).toContain('– DynamoDB side not measured: no capacity gate in front of the app');
    expect(html).toContain('<td>not measured</td>');
    expect(html).not.toMatch(/<td>0\.000<\/td>/);
  });
});
