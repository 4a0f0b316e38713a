import { DEFAULT_SERVICE, EMF_NAMESPACE } from '../instrument/index.js';
// A leaf module (no imports of its own): the thresholds grammar is the scenario's, parsed the same way.
import { parseThreshold, type ThresholdMetric, type ThresholdOp } from '../runner/scenario/thresholds.js';

/**
 * The dashboard, defined once and rendered twice: to a CloudWatch dashboard (`cloudwatch.ts`, CDK) and
 * to charts over the run's timeline (`local.ts`, the HTML report and the live page). Every series says
 * how CloudWatch computes it (a metric as DynamoDB or the app's EMF publish it, or metric math over such
 * metrics) and how the local timeline computes it; a series with only one of the two is drawn only there
 * (client-side latency exists only where the load generator runs).
 *
 * Time semantics, the same in both renderers: rates are per second; latencies and capacity per request
 * are per interval (a CloudWatch period, a 2 s timeline point); what the thresholds judge over the whole
 * run as a total (error rate, throttle events, throttled requests, retries) is drawn as a running total,
 * so a threshold line means what the verdict means.
 */

/** A metric exactly as CloudWatch knows it. */
export interface CloudWatchMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
}

/** Metric math over metrics; ids in `using` are lower camel case as CloudWatch requires. */
export interface CloudWatchExpression {
  readonly kind: 'expression';
  readonly expression: string;
  /** Metrics, or expressions over metrics (drawn hidden), by the ids the expression uses. */
  readonly using: Readonly<Record<string, CloudWatchMetric | CloudWatchExpression>>;
}

export type CloudWatchSeries =
  | { readonly kind: 'metric'; readonly metric: CloudWatchMetric }
  | CloudWatchExpression;

export type TotalField = 'requests' | 'errors';
export type TargetField =
  | 'rcu'
  | 'wcu'
  | 'readThrottleEvents'
  | 'writeThrottleEvents'
  | 'provisionedRcu'
  | 'provisionedWcu';
export type PatternCountField =
  | 'requests'
  | 'errors'
  | 'serverRequests'
  | 'rcu'
  | 'wcu'
  | 'throttleEvents'
  | 'throttledRequests'
  | 'retries';
export type Quantile = 'p50' | 'p95' | 'p99';

/** How a series is computed from the local timeline (see runner/report/timeline.ts). */
export type LocalSeries =
  /** Sum over every request name in the interval, per second. */
  | { readonly of: 'all'; readonly field: TotalField; readonly as: 'rate' }
  /** The table ("table") or a GSI: per second, or the value as it is (provisioned capacity). */
  | {
      readonly of: 'target';
      readonly target: string;
      readonly field: TargetField;
      readonly as: 'rate' | 'value';
    }
  /** Client (Artillery) or server (the app) latency quantile for the interval. */
  | {
      readonly of: 'pattern';
      readonly pattern: string;
      readonly side: 'client' | 'server';
      readonly quantile: Quantile;
      readonly as: 'latency';
    }
  /** A count divided by the app's count of operations of the pattern, for the interval. */
  | {
      readonly of: 'pattern';
      readonly pattern: string;
      readonly field: 'rcu' | 'wcu';
      readonly as: 'perRequest';
    }
  /** A count summed from the start of the run. */
  | {
      readonly of: 'pattern';
      readonly pattern: string;
      readonly field: PatternCountField;
      readonly as: 'running';
    }
  /** Running errors over running requests (client side): the error rate so far. */
  | { readonly of: 'pattern'; readonly pattern: string; readonly as: 'runningErrorRate' };

export interface Series {
  /** Unique within its widget. */
  readonly id: string;
  readonly label: string;
  /** Absent: CloudWatch has no such metric; the series is drawn only locally. */
  readonly cloudwatch?: CloudWatchSeries;
  /** Absent: drawn only on CloudWatch. */
  readonly local?: LocalSeries;
  /** Drawn dashed (a limit, e.g. provisioned capacity). */
  readonly dashed?: boolean;
}

export interface Annotation {
  readonly label: string;
  readonly value: number;
  /** The threshold this line stands for. */
  readonly threshold: ThresholdLine;
}

export type WidgetRole =
  | 'requests'
  | 'errors'
  | 'tableThrottles'
  | 'capacity'
  | 'latency'
  | 'errorRate'
  | 'capacityPerRequest'
  | 'throttles'
  | 'retries';

export interface Widget {
  /** Unique within the dashboard. */
  readonly id: string;
  readonly role: WidgetRole;
  readonly title: string;
  readonly unit: string;
  /** CloudWatch grid columns (of 24). */
  readonly width: number;
  readonly series: readonly Series[];
  readonly annotations: readonly Annotation[];
}

export interface Row {
  readonly id: string;
  readonly title: string;
  /** The access pattern of a pattern row; absent for the header row. */
  readonly pattern?: string;
  /** A line under the title: operation, index, description. */
  readonly subtitle: string;
  /** Thresholds of this row that no chart can show (e.g. `requests >= 100`, a run total). */
  readonly thresholds: readonly ThresholdLine[];
  readonly widgets: readonly Widget[];
}

export interface DashboardDefinition {
  readonly title: string;
  readonly tables: readonly DashboardTable[];
  readonly service: string;
  readonly namespace: string;
  readonly header: Row;
  /** One per access pattern, in the project's order (then any other request names). */
  readonly rows: readonly Row[];
}

/** A table and its GSIs: a capacity chart each in the header row. */
export interface DashboardTable {
  readonly name: string;
  readonly indexes?: readonly string[];
}

/** A project's declared access pattern; only these have the app's EMF metrics on CloudWatch. */
export interface DashboardPattern {
  readonly id: string;
  readonly description?: string;
}

/** A parsed threshold: structurally the scenario's `Threshold`, so `scenario.thresholds` fits. */
export interface ThresholdLine {
  readonly pattern: string;
  readonly metric: ThresholdMetric;
  readonly op: ThresholdOp;
  readonly value: number;
}

/** Thresholds as a scenario writes them (`{"*": ["errorRate < 0.01"], getProduct: ["p99 < 150"]}`) or parsed. */
export type ThresholdsInput = Readonly<Record<string, string | readonly string[]>> | readonly ThresholdLine[];

export class DashboardDefinitionError extends Error {
  override name = 'DashboardDefinitionError';
}

export interface DefinitionOptions {
  /** The project's tables (one header chart each, and per GSI). */
  readonly tables?: readonly DashboardTable[];
  /** The EMF `Service` dimension (default "app"; the project's name). */
  readonly service?: string;
  /** The EMF namespace (default `DynamoLoadtest/App`). */
  readonly namespace?: string;
  /** The project's declared patterns (ids or with descriptions): rows with CloudWatch series too. */
  readonly patterns?: readonly (string | DashboardPattern)[];
  /** Rows to draw, in order (default the declared patterns); others get local series only. */
  readonly rows?: readonly string[];
  readonly thresholds?: ThresholdsInput;
  readonly title?: string;
}

/** Which widget of a pattern row draws a threshold on which metric; `requests` (a run total) and the forecast's are listed, not drawn. */
const THRESHOLD_WIDGET: Record<ThresholdMetric, WidgetRole | undefined> = {
  p50: 'latency',
  p95: 'latency',
  p99: 'latency',
  max: 'latency',
  errorRate: 'errorRate',
  rcuPerRequest: 'capacityPerRequest',
  wcuPerRequest: 'capacityPerRequest',
  throttleEvents: 'throttles',
  throttledRequests: 'throttles',
  retries: 'retries',
  requests: undefined,
  'forecast.maxRate': undefined,
  'forecast.headroom': undefined,
};

export function parseThresholds(
  input: ThresholdsInput | undefined,
  known: readonly string[],
): ThresholdLine[] {
  if (!input) return [];
  if (Array.isArray(input)) return [...(input as readonly ThresholdLine[])];
  const out: ThresholdLine[] = [];
  for (const [pattern, list] of Object.entries(input as Record<string, string | readonly string[]>)) {
    if (pattern !== '*' && !known.includes(pattern)) {
      throw new DashboardDefinitionError(
        `thresholds: unknown access pattern "${pattern}"; known: * ${known.join(' ')}`,
      );
    }
    for (const text of typeof list === 'string' ? [list] : list) {
      try {
        out.push(parseThreshold(pattern, text));
      } catch (err) {
        throw new DashboardDefinitionError(`thresholds.${pattern}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }
  return out;
}

export function describeThresholdLine(t: ThresholdLine): string {
  return `${t.metric} ${t.op} ${t.value}`;
}

const DYNAMODB = 'AWS/DynamoDB';

/** Builds the definition: a header row for the tables and their GSIs, then one row per access pattern. */
export function dashboardDefinition(options: DefinitionOptions = {}): DashboardDefinition {
  const tables = options.tables ?? [];
  const service = options.service ?? DEFAULT_SERVICE;
  const namespace = options.namespace ?? EMF_NAMESPACE;
  const declared = (options.patterns ?? []).map((p) => (typeof p === 'string' ? { id: p } : p));
  const declaredIds = declared.map((p) => p.id);
  const patterns = [...new Set(options.rows ?? declaredIds)];
  const thresholds = parseThresholds(options.thresholds, [...new Set([...declaredIds, ...patterns])]);

  const app = (metricName: string, pattern: string, stat = 'Sum'): CloudWatchMetric => ({
    namespace,
    metricName,
    dimensions: { Service: service, AccessPattern: pattern },
    stat,
  });
  const dynamodb = (
    metricName: string,
    tableName: string,
    index: string | null,
    stat = 'Sum',
  ): CloudWatchMetric => ({
    namespace: DYNAMODB,
    metricName,
    dimensions: index ? { TableName: tableName, GlobalSecondaryIndexName: index } : { TableName: tableName },
    stat,
  });
  const perSecond = (m: CloudWatchMetric): CloudWatchSeries => ({
    kind: 'expression',
    expression: 'm / PERIOD(m)',
    using: { m },
  });
  const running = (m: CloudWatchMetric): CloudWatchSeries => ({
    kind: 'expression',
    expression: 'RUNNING_SUM(m)',
    using: { m },
  });
  // The app's own metrics exist only for declared patterns (the EMF dimension is the pattern id).
  const appPatterns = patterns.filter((p) => declaredIds.includes(p));
  // Per second over the graph's own period, which CloudWatch widens for a long time range (a fixed
  // divisor would then overstate the rate). Each pattern is divided by its own PERIOD before the sum:
  // PERIOD(p0) alone would be empty wherever the first pattern has no data.
  const sumOverPatterns = (metricName: string): CloudWatchSeries | undefined =>
    appPatterns.length === 0
      ? undefined
      : {
          kind: 'expression',
          expression: `SUM([${appPatterns.map((_, i) => `r${i}`).join(', ')}])`,
          using: Object.fromEntries(
            appPatterns.map((p, i) => [
              `r${i}`,
              {
                kind: 'expression',
                expression: `p${i} / PERIOD(p${i})`,
                using: { [`p${i}`]: app(metricName, p) },
              },
            ]),
          ),
        };

  // Timeline ids: `shop` for a table, `shop/GSI1` for an index (what the gate's counters are keyed by).
  const targets: { id: string; table: string; index: string | null; label: string }[] = tables.flatMap(
    (t) => [
      { id: t.name, table: t.name, index: null, label: t.name },
      ...(t.indexes ?? []).map((i) => ({
        id: `${t.name}/${i}`,
        table: t.name,
        index: i,
        label: `${t.name}/${i}`,
      })),
    ],
  );
  const indexCount = targets.length - tables.length;
  const withCw = (s: Omit<Series, 'cloudwatch'>, cw: CloudWatchSeries | undefined): Series =>
    cw ? { ...s, cloudwatch: cw } : s;

  const header: Row = {
    id: 'header',
    // No table known (a run nothing measured the DynamoDB side of): "0 table(s)" would read as a
    // measured nothing.
    title:
      tables.length === 0
        ? 'All patterns'
        : tables.length === 1
          ? `Table ${tables[0]?.name}`
          : `Tables ${tables.map((t) => t.name).join(', ')}`,
    subtitle:
      tables.length === 0
        ? 'requests and errors of every pattern; no table is known, so capacity and throttles are not charted'
        : `requests and errors of every pattern; capacity and throttles of ${tables.length} table(s) and ${indexCount} GSI(s)`,
    thresholds: [],
    widgets: [
      {
        id: 'header-requests',
        role: 'requests',
        title: 'Requests/s',
        unit: 'requests/s',
        width: 8,
        series: [
          withCw(
            { id: 'requests', label: 'requests/s', local: { of: 'all', field: 'requests', as: 'rate' } },
            sumOverPatterns('Requests'),
          ),
        ],
        annotations: [],
      },
      {
        id: 'header-errors',
        role: 'errors',
        title: 'Errors/s',
        unit: 'errors/s',
        width: 8,
        series: [
          withCw(
            { id: 'errors', label: 'errors/s', local: { of: 'all', field: 'errors', as: 'rate' } },
            sumOverPatterns('Errors'),
          ),
        ],
        annotations: [],
      },
      // Throttles are per table: with no table known there is nothing to chart.
      ...(targets.length === 0
        ? []
        : [
            {
              id: 'header-throttles',
              role: 'tableThrottles',
              title: 'Throttle events/s (DynamoDB)',
              unit: 'events/s',
              width: 8,
              series: targets.flatMap((t) =>
                (['Read', 'Write'] as const).map(
                  (kind): Series => ({
                    id: `${t.id}-${kind.toLowerCase()}-throttles`,
                    label: `${t.label} ${kind.toLowerCase()}s`,
                    cloudwatch: perSecond(dynamodb(`${kind}ThrottleEvents`, t.table, t.index)),
                    local: {
                      of: 'target',
                      target: t.id,
                      field: kind === 'Read' ? 'readThrottleEvents' : 'writeThrottleEvents',
                      as: 'rate',
                    },
                  }),
                ),
              ),
              annotations: [],
            } satisfies Widget,
          ]),
      ...targets.map(
        (t): Widget => ({
          id: `header-capacity-${t.id}`,
          role: 'capacity',
          title: `${t.label}: consumed vs provisioned capacity`,
          unit: 'units/s',
          width: Math.max(6, Math.floor(24 / targets.length)),
          series: [
            {
              id: 'rcu',
              label: 'consumed RCU/s',
              cloudwatch: perSecond(dynamodb('ConsumedReadCapacityUnits', t.table, t.index)),
              local: { of: 'target', target: t.id, field: 'rcu', as: 'rate' },
            },
            {
              id: 'provisioned-rcu',
              label: 'provisioned RCU',
              dashed: true,
              cloudwatch: {
                kind: 'metric',
                metric: dynamodb('ProvisionedReadCapacityUnits', t.table, t.index, 'Average'),
              },
              local: { of: 'target', target: t.id, field: 'provisionedRcu', as: 'value' },
            },
            {
              id: 'wcu',
              label: 'consumed WCU/s',
              cloudwatch: perSecond(dynamodb('ConsumedWriteCapacityUnits', t.table, t.index)),
              local: { of: 'target', target: t.id, field: 'wcu', as: 'rate' },
            },
            {
              id: 'provisioned-wcu',
              label: 'provisioned WCU',
              dashed: true,
              cloudwatch: {
                kind: 'metric',
                metric: dynamodb('ProvisionedWriteCapacityUnits', t.table, t.index, 'Average'),
              },
              local: { of: 'target', target: t.id, field: 'provisionedWcu', as: 'value' },
            },
          ],
          annotations: [],
        }),
      ),
    ],
  };

  const rows = patterns.map((pattern) =>
    patternRow(
      pattern,
      declared.find((p) => p.id === pattern),
      thresholds,
      app,
      running,
    ),
  );
  return {
    title:
      options.title ??
      `Load test: ${service}${tables.length ? ` on ${tables.map((t) => t.name).join(', ')}` : ''}`,
    tables,
    service,
    namespace,
    header,
    rows,
  };
}

function patternRow(
  pattern: string,
  registered: DashboardPattern | undefined,
  thresholds: readonly ThresholdLine[],
  app: (metricName: string, pattern: string, stat?: string) => CloudWatchMetric,
  running: (m: CloudWatchMetric) => CloudWatchSeries,
): Row {
  const mine = thresholds.filter((t) => t.pattern === '*' || t.pattern === pattern);
  const annotations = (role: WidgetRole): Annotation[] =>
    mine
      .filter((t) => THRESHOLD_WIDGET[t.metric] === role)
      .map((t) => ({ label: describeThresholdLine(t), value: t.value, threshold: t }));
  // Only declared patterns have the app's EMF metrics on CloudWatch; locally the gate counts any pattern.
  const cw = registered ? app : undefined;
  const quantiles = ['p50', 'p95', 'p99'] as const;
  const widget = (
    role: WidgetRole,
    title: string,
    unit: string,
    width: number,
    series: Series[],
  ): Widget => ({
    id: `${pattern}-${role}`,
    role,
    title,
    unit,
    width,
    series,
    annotations: annotations(role),
  });
  const maybe = (s: Omit<Series, 'cloudwatch'>, series: CloudWatchSeries | undefined): Series =>
    series ? { ...s, cloudwatch: series } : s;

  return {
    id: pattern,
    pattern,
    title: pattern,
    subtitle: registered
      ? (registered.description ?? 'an access pattern of the project')
      : 'not a declared pattern: a request name, or a pattern the capacity gate named',
    thresholds: mine.filter((t) => THRESHOLD_WIDGET[t.metric] === undefined),
    widgets: [
      widget('latency', 'Latency (ms)', 'ms', 6, [
        ...quantiles.map(
          (q): Series => ({
            id: `client-${q}`,
            label: `client ${q}`,
            local: { of: 'pattern', pattern, side: 'client', quantile: q, as: 'latency' },
          }),
        ),
        ...quantiles.map(
          (q): Series =>
            maybe(
              {
                id: `server-${q}`,
                label: `DynamoDB ${q}`,
                local: { of: 'pattern', pattern, side: 'server', quantile: q, as: 'latency' },
              },
              cw ? { kind: 'metric', metric: cw('Latency', pattern, q) } : undefined,
            ),
        ),
      ]),
      widget('errorRate', 'Error rate (run so far)', 'ratio', 3, [
        maybe(
          {
            id: 'error-rate',
            label: 'error rate',
            local: { of: 'pattern', pattern, as: 'runningErrorRate' },
          },
          cw
            ? {
                kind: 'expression',
                expression: 'RUNNING_SUM(e) / RUNNING_SUM(n)',
                using: { e: cw('Errors', pattern), n: cw('Requests', pattern) },
              }
            : undefined,
        ),
      ]),
      widget(
        'capacityPerRequest',
        'Capacity per DynamoDB call',
        'units/call',
        5,
        (['rcu', 'wcu'] as const).map(
          (f): Series =>
            maybe(
              {
                id: `${f}-per-request`,
                label: `${f.toUpperCase()}/call`,
                local: { of: 'pattern', pattern, field: f, as: 'perRequest' },
              },
              cw
                ? {
                    kind: 'expression',
                    // Over the operations DynamoDB answered: one that failed throttled consumed nothing.
                    expression: 'c / (n - t)',
                    using: {
                      c: cw(f === 'rcu' ? 'ConsumedRCU' : 'ConsumedWCU', pattern),
                      n: cw('Requests', pattern),
                      t: cw('ThrottledRequests', pattern),
                    },
                  }
                : undefined,
            ),
        ),
      ),
      widget('throttles', 'Throttles (run so far)', 'count', 5, [
        maybe(
          {
            id: 'throttle-events',
            label: 'throttle events',
            local: { of: 'pattern', pattern, field: 'throttleEvents', as: 'running' },
          },
          cw ? running(cw('ThrottleEvents', pattern)) : undefined,
        ),
        maybe(
          {
            id: 'throttled-requests',
            label: 'throttled requests',
            local: { of: 'pattern', pattern, field: 'throttledRequests', as: 'running' },
          },
          cw ? running(cw('ThrottledRequests', pattern)) : undefined,
        ),
      ]),
      widget('retries', 'SDK retries (run so far)', 'count', 5, [
        maybe(
          {
            id: 'retries',
            label: 'retries',
            local: { of: 'pattern', pattern, field: 'retries', as: 'running' },
          },
          cw ? running(cw('Retries', pattern)) : undefined,
        ),
      ]),
    ],
  };
}
