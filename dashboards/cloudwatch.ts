import { createRequire } from 'node:module';
import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  type CloudWatchExpression,
  type CloudWatchMetric,
  type CloudWatchSeries,
  type DashboardDefinition,
  type DashboardPattern,
  type DashboardTable,
  dashboardDefinition,
  describeThresholdLine,
  type Row,
  type ThresholdsInput,
  type Widget,
} from './definition.js';

/** Renderer 1: the dashboard definition as a CloudWatch dashboard (CDK). */
export interface LoadtestDashboardProps {
  /** The DynamoDB table (AWS/DynamoDB `TableName` dimension), with its GSIs; or `tables` for several. */
  readonly tableName?: string;
  readonly indexes?: readonly string[];
  readonly tables?: readonly DashboardTable[];
  readonly dashboardName?: string;
  /** The app's EMF `Service` dimension (its project name; default "app"). */
  readonly service?: string;
  /** The app's EMF namespace (default `DynamoLoadtest/App`). */
  readonly namespace?: string;
  /** Drawn as horizontal lines: the scenario's shape (`{"*": ["errorRate < 0.01"]}`) or parsed thresholds. */
  readonly thresholds?: ThresholdsInput;
  /** The app's access patterns: one row each, with its EMF metrics. */
  readonly patterns: readonly (string | DashboardPattern)[];
  /** The graphs' period (default 1 minute: DynamoDB publishes per minute). */
  readonly period?: Duration;
}

/**
 * The CLI imports this folder for the local renderer; loading aws-cdk-lib costs it ~0.3 s on every
 * command, so the CDK is required when a dashboard is built, not when the module loads. (require and
 * ESM import share one module cache, so a CDK app gets the same aws-cdk-lib instance either way.)
 */
const require = createRequire(import.meta.url);
let loaded: { cw: typeof cloudwatch; Duration: typeof Duration } | undefined;
function cdk(): { cw: typeof cloudwatch; Duration: typeof Duration } {
  loaded ??= {
    cw: require('aws-cdk-lib/aws-cloudwatch') as typeof cloudwatch,
    Duration: (require('aws-cdk-lib') as typeof import('aws-cdk-lib')).Duration,
  };
  return loaded;
}

const GRID = 24;
const GRAPH_HEIGHT = 6;
const THRESHOLD_COLOR = '#d62728';

export class LoadtestDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly definition: DashboardDefinition;

  constructor(scope: Construct, id: string, props: LoadtestDashboardProps) {
    super(scope, id);
    this.definition = dashboardDefinition({
      tables: [
        ...(props.tableName ? [{ name: props.tableName, indexes: props.indexes ?? [] }] : []),
        ...(props.tables ?? []),
      ],
      ...(props.service ? { service: props.service } : {}),
      ...(props.namespace ? { namespace: props.namespace } : {}),
      ...(props.thresholds ? { thresholds: props.thresholds } : {}),
      patterns: props.patterns,
    });
    const { cw, Duration } = cdk();
    const period = props.period ?? Duration.minutes(1);
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(1),
    });
    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: `# ${this.definition.title}\nPer access pattern: app metrics from \`${this.definition.namespace}\` (Service=${this.definition.service}), table metrics from \`AWS/DynamoDB\`. Client-side latency is in the run's report (\`loadtest run --html\`). Counts marked "run so far" are running totals over the dashboard's time range.`,
        width: GRID,
        height: 2,
      }),
    );
    for (const row of [this.definition.header, ...this.definition.rows]) this.addRow(row, period);
  }

  private addRow(row: Row, period: Duration): void {
    const { cw } = cdk();
    const listed = row.thresholds.map((t) => `\`${describeThresholdLine(t)}\``).join(', ');
    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: `### ${row.title}\n${row.subtitle}${listed ? ` · also gated: ${listed}` : ''}`,
        width: GRID,
        height: 2,
      }),
    );
    // addWidgets places its widgets side by side: one call per line of at most 24 columns.
    let line: cloudwatch.IWidget[] = [];
    let used = 0;
    for (const widget of row.widgets) {
      const graph = graphWidget(widget, period);
      if (!graph) continue;
      if (used + widget.width > GRID && line.length > 0) {
        this.dashboard.addWidgets(...line);
        line = [];
        used = 0;
      }
      line.push(graph);
      used += widget.width;
    }
    if (line.length > 0) this.dashboard.addWidgets(...line);
  }
}

function metric(m: CloudWatchMetric, period: Duration, label?: string): cloudwatch.Metric {
  const { cw } = cdk();
  return new cw.Metric({
    namespace: m.namespace,
    metricName: m.metricName,
    dimensionsMap: { ...m.dimensions },
    statistic: m.stat,
    period,
    ...(label ? { label } : {}),
  });
}

/**
 * Metric math ids are per graph: the definition's ids are per series, so each series' ids get its
 * index as a prefix (`m` of the third series becomes `s2_m`), in nested expressions too.
 */
function series(s: CloudWatchSeries, label: string, period: Duration, index: number): cloudwatch.IMetric {
  if (s.kind === 'metric') return metric(s.metric, period, label);
  return mathExpression(s, period, (id) => `s${index}_${id}`, label);
}

function mathExpression(
  e: CloudWatchExpression,
  period: Duration,
  rename: (id: string) => string,
  label?: string,
): cloudwatch.MathExpression {
  const { cw } = cdk();
  let expression = e.expression;
  for (const id of Object.keys(e.using)) {
    expression = expression.replace(new RegExp(`\\b${id}\\b`, 'g'), rename(id));
  }
  return new cw.MathExpression({
    expression,
    usingMetrics: Object.fromEntries(
      Object.entries(e.using).map(([id, m]) => [
        rename(id),
        'kind' in m ? mathExpression(m, period, rename) : metric(m, period),
      ]),
    ),
    ...(label ? { label } : {}),
    period,
  });
}

/** Undefined when no series of the widget exists in CloudWatch. */
function graphWidget(widget: Widget, period: Duration): cloudwatch.GraphWidget | undefined {
  const left = widget.series.flatMap((s, i) =>
    s.cloudwatch ? [series(s.cloudwatch, s.label, period, i)] : [],
  );
  if (left.length === 0) return undefined;
  const { cw } = cdk();
  return new cw.GraphWidget({
    title: widget.title,
    width: widget.width,
    height: GRAPH_HEIGHT,
    left,
    leftYAxis: { label: widget.unit, showUnits: false, min: 0 },
    leftAnnotations: widget.annotations.map((a) => ({
      value: a.value,
      label: a.label,
      color: THRESHOLD_COLOR,
    })),
    legendPosition: cw.LegendPosition.BOTTOM,
  });
}
