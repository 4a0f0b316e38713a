import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { accessPatterns, patternIds, SHOP_SERVICE, tableDefinition } from '../../app/index.js';
import {
  DashboardDefinitionError,
  dashboardDefinition,
  LoadtestDashboard,
  type LoadtestDashboardProps,
} from '../../dashboards/index.js';
import { DEFAULT_SERVICE, EMF_NAMESPACE } from '../../instrument/index.js';
import { ROOT } from '../helpers/cli.js';

type Json = Record<string, unknown>;
interface CwWidget {
  type: 'metric' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Json & {
    markdown?: string;
    title?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: { value: number; label: string }[] };
  };
}

const GSIS = tableDefinition.indexes.map((i) => i.name);
// The shop's project, as its deployment (infra/loadtest-app.ts) hands it to the generic construct.
const SHOP_PATTERNS = accessPatterns.map((p) => ({ id: p.id, description: p.description }));
const APP_METRICS = [
  'Requests',
  'Errors',
  'ThrottleEvents',
  'ThrottledRequests',
  'Retries',
  'ConsumedRCU',
  'ConsumedWCU',
  'Latency',
];
const DYNAMODB_METRICS = [
  'ConsumedReadCapacityUnits',
  'ConsumedWriteCapacityUnits',
  'ProvisionedReadCapacityUnits',
  'ProvisionedWriteCapacityUnits',
  'ReadThrottleEvents',
  'WriteThrottleEvents',
];
const STATS = ['Sum', 'Average', 'p50', 'p95', 'p99'];

/** Synthesizes a tiny app and returns the dashboard body with Fn::Join resolved (the region is a Ref). */
function synth(props: Partial<LoadtestDashboardProps> = {}): {
  name: unknown;
  widgets: CwWidget[];
} {
  const app = new App();
  const stack = new Stack(app, 'Observability');
  new LoadtestDashboard(stack, 'Loadtest', {
    tableName: 'shop-prod',
    indexes: GSIS,
    patterns: SHOP_PATTERNS,
    service: SHOP_SERVICE,
    ...props,
  });
  const template = app.synth().getStackByName('Observability').template as {
    Resources: Record<string, { Type: string; Properties: Json }>;
  };
  const dashboards = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const props0 = dashboards[0]?.Properties ?? {};
  const join = props0.DashboardBody as { 'Fn::Join': [string, (string | Json)[]] };
  const [sep, parts] = join['Fn::Join'];
  const text = parts.map((p) => (typeof p === 'string' ? p : 'eu-west-1')).join(sep);
  return { name: props0.DashboardName, widgets: (JSON.parse(text) as { widgets: CwWidget[] }).widgets };
}

/** A metric array: [namespace, name, dim, value, ..., {options}?] or [{expression, ...}]. */
function checkMetricArray(entry: unknown[], ids: Set<string>): void {
  const last = entry[entry.length - 1];
  const options = typeof last === 'object' && last !== null ? (last as Json) : undefined;
  if (options && 'expression' in options) {
    expect(entry).toHaveLength(1);
    const refs = String(options.expression).match(/\b[a-z][a-zA-Z0-9_]*\b/g) ?? [];
    for (const ref of refs) expect(ids, `expression ${options.expression} uses ${ref}`).toContain(ref);
    return;
  }
  const strings = options ? entry.slice(0, -1) : entry;
  for (const s of strings) expect(typeof s).toBe('string');
  expect(strings.length % 2, `namespace, name, then dimension pairs: ${JSON.stringify(entry)}`).toBe(0);
  const [namespace, name, ...dims] = strings as string[];
  const dimensions = Object.fromEntries(
    dims.flatMap((_, i) => (i % 2 === 0 ? [[dims[i], dims[i + 1]]] : [])),
  );
  if (options?.stat !== undefined) expect(STATS).toContain(options.stat);
  if (namespace === EMF_NAMESPACE) {
    expect(APP_METRICS).toContain(name);
    expect(Object.keys(dimensions).sort()).toEqual(['AccessPattern', 'Service']);
    expect(dimensions.Service).toBe('shop');
    expect(patternIds).toContain(dimensions.AccessPattern);
  } else {
    expect(namespace).toBe('AWS/DynamoDB');
    expect(DYNAMODB_METRICS).toContain(name);
    expect(dimensions.TableName).toBe('shop-prod');
    const keys = Object.keys(dimensions).sort();
    if (keys.length === 2) {
      expect(keys).toEqual(['GlobalSecondaryIndexName', 'TableName']);
      expect(GSIS).toContain(dimensions.GlobalSecondaryIndexName);
    } else expect(keys).toEqual(['TableName']);
  }
}

const metricsOf = (w: CwWidget) => (w.properties.metrics ?? []) as unknown[][];
const idsOf = (w: CwWidget) =>
  new Set(
    metricsOf(w).flatMap((m) => {
      const last = m[m.length - 1] as Json | undefined;
      return typeof last === 'object' && last && typeof last.id === 'string' ? [last.id] : [];
    }),
  );

describe('the CloudWatch dashboard', () => {
  const thresholds = {
    '*': ['errorRate < 0.01', 'requests >= 10'],
    getProduct: ['p99 < 150', 'rcuPerRequest <= 0.5'],
  };
  const { name, widgets } = synth({ dashboardName: 'loadtest-shop', thresholds });

  it('has one titled row per access pattern, in registry order, whose graphs show only that pattern', () => {
    expect(name).toBe('loadtest-shop');
    const titles = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown?.split('\n')[0]);
    expect(titles.slice(2)).toEqual(patternIds.map((id) => `### ${id}`));
    const rowStarts = widgets
      .filter((w) => w.type === 'text' && w.properties.markdown?.startsWith('### '))
      .map((w) => ({ y: w.y, title: w.properties.markdown?.split('\n')[0]?.slice(4) ?? '' }));
    for (const [i, row] of rowStarts.entries()) {
      const end = rowStarts[i + 1]?.y ?? Number.POSITIVE_INFINITY;
      const graphs = widgets.filter((w) => w.type === 'metric' && w.y > row.y && w.y < end);
      expect(graphs.length, row.title).toBeGreaterThan(0);
      if (i === 0) continue; // the header row: the table and its GSIs
      expect(graphs.map((g) => g.properties.title)).toEqual([
        'Latency (ms)',
        'Error rate (run so far)',
        'Capacity per DynamoDB call',
        'Throttles (run so far)',
        'SDK retries (run so far)',
      ]);
      // All five graphs sit on one line of the 24-column grid.
      expect(new Set(graphs.map((g) => g.y)).size).toBe(1);
      for (const g of graphs) {
        for (const m of metricsOf(g)) {
          if (typeof m[0] === 'string') expect(m).toContain(row.title);
        }
      }
    }
  });

  it('uses valid metric arrays: DynamoDB and EMF names, dimensions and statistics as they are published', () => {
    const graphs = widgets.filter((w) => w.type === 'metric');
    for (const g of graphs) {
      expect(metricsOf(g).length).toBeGreaterThan(0);
      const ids = idsOf(g);
      for (const m of metricsOf(g)) checkMetricArray(m, ids);
    }
    // Every DynamoDB metric for the table and for each GSI (dimension order is CloudWatch's business).
    const seen = new Set(
      graphs.flatMap((g) =>
        metricsOf(g)
          .filter((m) => m[0] === 'AWS/DynamoDB')
          .map((m) => {
            const dims = (m.filter((x) => typeof x === 'string') as string[]).slice(2);
            const index = dims[dims.indexOf('GlobalSecondaryIndexName') + 1];
            return `${m[1]}@${dims.includes('GlobalSecondaryIndexName') ? index : 'table'}`;
          }),
      ),
    );
    for (const target of ['table', ...GSIS]) {
      for (const metric of DYNAMODB_METRICS) expect(seen).toContain(`${metric}@${target}`);
    }
    // Server latency per pattern: the EMF Latency metric with percentile statistics.
    const latency = graphs.find((g) => g.properties.title === 'Latency (ms)');
    const stats = metricsOf(latency as CwWidget).map((m) => (m[m.length - 1] as Json).stat);
    expect(stats).toEqual(['p50', 'p95', 'p99']);
  });

  it("draws requests/s and errors/s over the graph's own PERIOD, pattern by pattern, never a fixed divisor", () => {
    for (const [title, metricName] of [
      ['Requests/s', 'Requests'],
      ['Errors/s', 'Errors'],
    ] as const) {
      const graph = widgets.find((w) => w.type === 'metric' && w.properties.title === title) as CwWidget;
      const entries = metricsOf(graph).map((m) => ({ m, options: m[m.length - 1] as Json }));
      const shown = entries.filter((e) => e.options.visible !== false && 'expression' in e.options);
      expect(shown, title).toHaveLength(1);
      const rates = /^SUM\(\[(.*)\]\)$/.exec(String(shown[0]?.options.expression))?.[1]?.split(', ') ?? [];
      expect(rates, title).toHaveLength(patternIds.length);
      // Each term is one pattern's metric divided by its own PERIOD: CloudWatch's period for the
      // time range shown (a 3-hour range is drawn in 5-minute periods, say), not 60.
      const metricIds = new Set<string>();
      for (const rate of rates) {
        const expr = entries.find((e) => e.options.id === rate);
        const m = /^(\w+) \/ PERIOD\((\w+)\)$/.exec(String(expr?.options.expression));
        expect(m, `${title}: ${rate} = ${expr?.options.expression}`).not.toBeNull();
        expect(m?.[1]).toBe(m?.[2]);
        expect(expr?.options.visible).toBe(false);
        const source = entries.find((e) => e.options.id === m?.[1]);
        expect(source?.m.slice(0, 2)).toEqual([EMF_NAMESPACE, metricName]);
        expect(source?.options.stat).toBe('Sum');
        metricIds.add(String(m?.[1]));
      }
      expect(metricIds.size).toBe(patternIds.length);
      expect(JSON.stringify(metricsOf(graph))).not.toMatch(/\/ ?60\b/);
    }
  });

  it('stays inside CloudWatch limits for the full registry, on a grid that does not overlap', () => {
    const metricCount = widgets.reduce((n, w) => n + metricsOf(w).length, 0);
    expect(widgets.length).toBeLessThanOrEqual(500);
    expect(metricCount).toBeLessThanOrEqual(2500);
    const cells = new Set<string>();
    for (const w of widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x += 1) {
        for (let y = w.y; y < w.y + w.height; y += 1) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `overlap at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
    // The READMEs state these figures: they follow the registry (they said 342 entries once, at 402).
    for (const readme of ['README.md', 'dashboards/README.md'])
      expect(readFileSync(join(ROOT, readme), 'utf8').replace(/\s+/g, ' '), readme).toContain(
        `the dashboard has ${widgets.length} widgets and ${metricCount} metric entries`,
      );
  });

  it('draws thresholds as annotations on the graph of their metric, "*" on every pattern row', () => {
    const annotated = (title: string) =>
      widgets
        .filter((w) => w.properties.title === title)
        .map((w) => (w.properties.annotations?.horizontal ?? []).map((a) => `${a.label}=${a.value}`));
    expect(annotated('Error rate (run so far)')).toEqual(patternIds.map(() => ['errorRate < 0.01=0.01']));
    const latency = annotated('Latency (ms)');
    expect(latency[patternIds.indexOf('getProduct')]).toEqual(['p99 < 150=150']);
    expect(latency.filter((a) => a.length > 0)).toHaveLength(1);
    expect(annotated('Capacity per DynamoDB call')[patternIds.indexOf('getProduct')]).toEqual([
      'rcuPerRequest <= 0.5=0.5',
    ]);
    // A run total cannot be a line on a per-period graph: it is named in the row's title instead.
    const getProductTitle = widgets.find((w) => w.properties.markdown?.startsWith('### getProduct\n'));
    expect(getProductTitle?.properties.markdown).toContain('`requests >= 10`');
  });

  it('takes the namespace, service and GSIs it is given', () => {
    const { widgets: custom } = synth({ namespace: 'Other/App', service: 'shop-2', indexes: ['GSI1'] });
    const arrays = custom.flatMap(metricsOf).filter((m) => typeof m[0] === 'string') as string[][];
    expect(arrays.some((m) => m[0] === 'Other/App' && m.includes('shop-2'))).toBe(true);
    expect(arrays.some((m) => m[0] === EMF_NAMESPACE)).toBe(false);
    expect(arrays.some((m) => m.includes('GSI2'))).toBe(false);
  });

  it('refuses a threshold on an unknown pattern, naming the known ones', () => {
    const patterns = patternIds;
    expect(() => dashboardDefinition({ patterns, thresholds: { getProdct: ['p99 < 1'] } })).toThrow(
      DashboardDefinitionError,
    );
    expect(() => dashboardDefinition({ patterns, thresholds: { getProdct: ['p99 < 1'] } })).toThrow(
      /known: \* registerUser/,
    );
    expect(() => dashboardDefinition({ patterns, thresholds: { getProduct: ['p42 < 1'] } })).toThrow(
      /unknown metric "p42"/,
    );
  });
});

describe('the dashboard of any project (definition options)', () => {
  it("titles each row with the pattern's description, and uses the instrument's defaults", () => {
    const def = dashboardDefinition({
      tables: [{ name: 'orders', indexes: ['byCustomer'] }],
      patterns: [{ id: 'placeOrder', description: 'a customer places an order' }, 'getOrder'],
    });
    expect(def.rows.map((r) => [r.title, r.subtitle])).toEqual([
      ['placeOrder', 'a customer places an order'],
      ['getOrder', 'an access pattern of the project'],
    ]);
    expect(def.service).toBe(DEFAULT_SERVICE);
    expect(def.namespace).toBe(EMF_NAMESPACE);
    expect(def.title).toBe(`Load test: ${DEFAULT_SERVICE} on orders`);
  });

  it('draws every table of the project and each GSI in the header, by its own TableName', () => {
    const { widgets } = synth({
      tableName: undefined,
      indexes: undefined,
      tables: [
        { name: 'orders', indexes: ['byCustomer'] },
        { name: 'customers', indexes: [] },
      ],
      patterns: ['placeOrder'],
      service: 'orders-app',
    });
    const capacity = widgets
      .filter((w) => w.properties.title?.endsWith(': consumed vs provisioned capacity'))
      .map((w) => w.properties.title?.split(':')[0]);
    expect(capacity).toEqual(['orders', 'orders/byCustomer', 'customers']);
    const tables = new Set(
      widgets
        .flatMap(metricsOf)
        .filter((m) => m[0] === 'AWS/DynamoDB')
        .map((m) => m[(m as string[]).indexOf('TableName') + 1]),
    );
    expect(tables).toEqual(new Set(['orders', 'customers']));
    const header = widgets.find((w) => w.properties.markdown?.startsWith('# '));
    expect(header?.properties.markdown).toContain('Load test: orders-app on orders, customers');
  });

  it('with no table known, says so in the header and draws no empty throttle chart', () => {
    const none = dashboardDefinition({ patterns: ['placeOrder'] }).header;
    expect(none?.title).toBe('All patterns');
    expect(none?.subtitle).toMatch(/no table is known, so capacity and throttles are not charted/);
    expect(none?.widgets.map((w) => w.id)).toEqual(['header-requests', 'header-errors']);
    const one = dashboardDefinition({ patterns: ['placeOrder'], tables: [{ name: 'orders' }] }).header;
    expect(one?.title).toBe('Table orders');
    expect(one?.subtitle).toMatch(/capacity and throttles of 1 table\(s\) and 0 GSI\(s\)/);
    expect(one?.widgets.map((w) => w.id)).toContain('header-throttles');
  });

  it('gives CloudWatch series only to declared patterns: other rows are drawn locally only', () => {
    const def = dashboardDefinition({
      tables: [{ name: 'orders' }],
      patterns: ['placeOrder'],
      rows: ['placeOrder', 'Query orders customerId = ?'],
    });
    const cloudwatchSeries = (id: string) =>
      def.rows
        .find((r) => r.id === id)
        ?.widgets.flatMap((w) => w.series)
        .filter((s) => s.cloudwatch !== undefined).length;
    expect(cloudwatchSeries('placeOrder')).toBeGreaterThan(0);
    expect(cloudwatchSeries('Query orders customerId = ?')).toBe(0);
    expect(def.rows[1]?.subtitle).toMatch(/not a declared pattern/);
  });
});
