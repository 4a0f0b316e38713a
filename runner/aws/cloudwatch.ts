import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMF_COUNTERS, EMF_NAMESPACE, type EmfCounter } from '../../instrument/index.js';
import type { GateMetric, TargetStats } from '../../local/index.js';
import type { DynamoView, MetricsSource, RunWindow, ServerPattern, ServerView } from '../metrics/index.js';
import { OPERATIONS } from '../project/index.js';
import { ContributorInsightsReader } from './contributor-insights.js';

/**
 * The server side of a run on AWS, read back from CloudWatch with GetMetricData for the run's
 * window: the app's per-pattern EMF metrics (what `dynamo-loadtest/instrument`'s EmfPublisher
 * writes) and DynamoDB's own (AWS/DynamoDB) for every table and GSI of the project. It fills the
 * same shapes the capacity gate does locally, so one report builder serves both. Nothing here
 * knows any particular app: the tables, the pattern ids and the EMF `Service` come from the project.
 */
export interface CloudWatchTable {
  /** The deployed table's name (the AWS/DynamoDB `TableName` dimension). */
  readonly name: string;
  /** Its GSIs (`GlobalSecondaryIndexName`): CloudWatch has no per-LSI metrics. */
  readonly indexes: readonly string[];
}

export interface CloudWatchSourceOptions {
  readonly tables: readonly CloudWatchTable[];
  /** The project's declared pattern ids: the EMF `AccessPattern` dimension. */
  readonly patterns: readonly string[];
  /** The EMF `Service` dimension: the project's name. */
  readonly service: string;
  /** The EMF namespace (default `DynamoLoadtest/App`, the instrument's). */
  readonly namespace?: string;
  /**
   * DynamoDB's client, for the hot keys: the Contributor Insights rules of each table and GSI
   * (DescribeContributorInsights), read with GetInsightRuleReport. Without it, hot keys are not measured.
   */
  readonly dynamodb?: DynamoDBClient;
}

const APP_LATENCY = ['p50', 'p95', 'p99', 'Maximum'] as const;
const KINDS = ['Read', 'Write'] as const;
const REASONS = [
  'ProvisionedThroughput',
  'KeyRangeThroughput',
  'MaxOnDemandThroughput',
  'AccountLimit',
] as const;
const TABLE_SUMS = [
  'ConsumedReadCapacityUnits',
  'ConsumedWriteCapacityUnits',
  'ReadThrottleEvents',
  'WriteThrottleEvents',
  ...KINDS.flatMap((k) => REASONS.map((r) => `${k}${r}ThrottleEvents`)),
];
const OPERATION_STATS = ['Average', 'Maximum', 'SampleCount'] as const;

type Query =
  | { kind: 'app'; pattern: string; metric: string; stat: string }
  | { kind: 'table'; table: string; index: string | null; metric: string }
  | { kind: 'op'; table: string; operation: string; metric: string; stat: string };

const EMF_FLUSH_SLACK_MS = 15_000;
/** CloudWatch takes at most 500 queries per GetMetricData call. */
export const MAX_QUERIES_PER_REQUEST = 500;

export class CloudWatchMetricsSource implements MetricsSource {
  readonly describe: string;
  private readonly queries: Query[] = [];
  private readonly namespace: string;
  private readonly insights: ContributorInsightsReader | undefined;

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly options: CloudWatchSourceOptions,
  ) {
    this.namespace = options.namespace ?? EMF_NAMESPACE;
    const names = options.tables.map((t) => t.name).join(', ') || 'no table';
    this.describe = `CloudWatch (${this.namespace} Service=${options.service}, AWS/DynamoDB ${names}${options.dynamodb ? ', Contributor Insights' : ''})`;
    this.insights = options.dynamodb
      ? new ContributorInsightsReader(
          cloudwatch,
          options.dynamodb,
          options.tables.flatMap((t) =>
            [null, ...new Set(t.indexes)].map((index) => ({ table: t.name, index })),
          ),
        )
      : undefined;
    for (const pattern of new Set(options.patterns)) {
      for (const metric of Object.keys(EMF_COUNTERS))
        this.queries.push({ kind: 'app', pattern, metric, stat: 'Sum' });
      for (const stat of APP_LATENCY) this.queries.push({ kind: 'app', pattern, metric: 'Latency', stat });
    }
    for (const t of options.tables) {
      for (const index of [null, ...new Set(t.indexes)]) {
        for (const metric of TABLE_SUMS) this.queries.push({ kind: 'table', table: t.name, index, metric });
      }
      // Every data-plane operation: a project's patterns may use any of them, and DynamoDB publishes
      // a metric only for the operations a table saw, so the others cost nothing but a query slot.
      for (const operation of OPERATIONS) {
        for (const stat of OPERATION_STATS)
          this.queries.push({
            kind: 'op',
            table: t.name,
            operation,
            metric: 'SuccessfulRequestLatency',
            stat,
          });
        this.queries.push({ kind: 'op', table: t.name, operation, metric: 'ThrottledRequests', stat: 'Sum' });
      }
    }
  }

  /**
   * One period that covers the whole run, on minute boundaries (DynamoDB publishes per minute), so
   * sums add up and percentiles are over the whole window rather than averaged across periods.
   */
  static window(run: RunWindow): { start: Date; end: Date; period: number } {
    const start = Math.floor(run.start.getTime() / 60_000) * 60_000;
    // The app flushes EMF every 10 s, stamped at the flush: its last lines land after the run ends.
    const tail = run.end.getTime() + EMF_FLUSH_SLACK_MS;
    const end = Math.max(start + 60_000, Math.ceil(tail / 60_000) * 60_000);
    return { start: new Date(start), end: new Date(end), period: (end - start) / 1000 };
  }

  /** The GetMetricData requests for a run: exposed so tests check them against the SDK's input type. */
  requests(run: RunWindow): GetMetricDataCommandInput[] {
    const { start, end, period } = CloudWatchMetricsSource.window(run);
    const all: MetricDataQuery[] = this.queries.map((q, i) => {
      const Id = `q${i}`;
      if (q.kind === 'app') {
        return {
          Id,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: this.namespace,
              MetricName: q.metric,
              Dimensions: [
                { Name: 'Service', Value: this.options.service },
                { Name: 'AccessPattern', Value: q.pattern },
              ],
            },
            Period: period,
            Stat: q.stat,
          },
        };
      }
      const Dimensions =
        q.kind === 'table'
          ? [
              { Name: 'TableName', Value: q.table },
              ...(q.index ? [{ Name: 'GlobalSecondaryIndexName', Value: q.index }] : []),
            ]
          : [
              { Name: 'TableName', Value: q.table },
              { Name: 'Operation', Value: q.operation },
            ];
      return {
        Id,
        ReturnData: true,
        MetricStat: {
          Metric: { Namespace: 'AWS/DynamoDB', MetricName: q.metric, Dimensions },
          Period: period,
          Stat: q.kind === 'table' ? 'Sum' : q.stat,
        },
      };
    });
    const requests: GetMetricDataCommandInput[] = [];
    for (let i = 0; i < all.length; i += MAX_QUERIES_PER_REQUEST) {
      requests.push({
        MetricDataQueries: all.slice(i, i + MAX_QUERIES_PER_REQUEST),
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampAscending',
      });
    }
    return requests;
  }

  async read(run: RunWindow, options?: { keys?: boolean }): Promise<ServerView> {
    const results: MetricDataResult[] = [];
    for (const input of this.requests(run)) {
      let NextToken: string | undefined;
      do {
        const res = await this.cloudwatch.send(
          new GetMetricDataCommand({ ...input, ...(NextToken ? { NextToken } : {}) }),
        );
        results.push(...(res.MetricDataResults ?? []));
        NextToken = res.NextToken;
      } while (NextToken);
    }
    const view = this.parse(run, results);
    if (options?.keys === false || !view.dynamodb) return view;
    const hot = this.insights
      ? await this.insights.read(CloudWatchMetricsSource.window(run))
      : { hotKeys: [], notMeasured: 'hot keys not measured: no DynamoDB client for Contributor Insights' };
    return {
      ...view,
      dynamodb: {
        ...view.dynamodb,
        hotKeys: hot.hotKeys,
        ...(hot.notMeasured ? { hotKeysNotMeasured: hot.notMeasured } : {}),
      },
    };
  }

  /**
   * Turns GetMetricData results into the report's shapes. The per-pattern view is undefined (not
   * measured, rather than zeros) when CloudWatch holds no EMF datapoint of the project's at all for
   * the window: the app publishes none, or CloudWatch has not published them yet (--metrics-delay).
   */
  parse(run: RunWindow, results: readonly MetricDataResult[]): ServerView {
    const values = new Map<string, number[]>();
    for (const r of results) if (r.Id) values.set(r.Id, [...(values.get(r.Id) ?? []), ...(r.Values ?? [])]);
    const value = (i: number, how: 'sum' | 'max'): number | undefined => {
      const v = values.get(`q${i}`);
      if (!v || v.length === 0) return undefined;
      return how === 'sum' ? v.reduce((a, b) => a + b, 0) : Math.max(...v);
    };

    let appDatapoints = 0;
    const apps = new Map<string, Record<string, number | undefined>>();
    // Keyed by table, then by index (null: the table itself), in the options' order.
    const targets = new Map<string, Map<string | null, Record<string, number>>>();
    const ops = new Map<string, Map<string, Record<string, number | undefined>>>();
    this.queries.forEach((q, i) => {
      if (q.kind === 'app') {
        const v = value(i, q.metric === 'Latency' ? 'max' : 'sum');
        if (v !== undefined) appDatapoints += 1;
        const p = apps.get(q.pattern) ?? {};
        p[q.metric === 'Latency' ? q.stat : q.metric] = v;
        apps.set(q.pattern, p);
      } else if (q.kind === 'table') {
        const byIndex = targets.get(q.table) ?? new Map<string | null, Record<string, number>>();
        const t = byIndex.get(q.index) ?? {};
        t[q.metric] = value(i, 'sum') ?? 0;
        byIndex.set(q.index, t);
        targets.set(q.table, byIndex);
      } else {
        const byOp = ops.get(q.table) ?? new Map<string, Record<string, number | undefined>>();
        const o = byOp.get(q.operation) ?? {};
        o[`${q.metric}:${q.stat}`] = value(i, q.stat === 'Sum' || q.stat === 'SampleCount' ? 'sum' : 'max');
        byOp.set(q.operation, o);
        ops.set(q.table, byOp);
      }
    });

    const patterns: Record<string, ServerPattern> = {};
    for (const [id, m] of apps) {
      if ((m.Requests ?? 0) === 0) continue;
      const counts = Object.fromEntries(
        (Object.entries(EMF_COUNTERS) as [EmfCounter, (typeof EMF_COUNTERS)[EmfCounter]][]).map(
          ([name, field]) => [field, m[name] ?? 0],
        ),
      ) as Record<(typeof EMF_COUNTERS)[EmfCounter], number>;
      patterns[id] = {
        ...counts,
        // EMF counts operations; one that failed throttled after its retries consumed nothing.
        answered: Math.max(0, counts.count - counts.throttledRequests),
        // The EMF metrics carry totals per pattern; per table/GSI capacity comes from AWS/DynamoDB.
        capacity: {},
        latencyMs: { p50: m.p50 ?? 0, p95: m.p95 ?? 0, p99: m.p99 ?? 0, max: m.Maximum ?? 0 },
      };
    }

    const dynamodb: DynamoView = { tables: [], hotKeys: [], metrics: [] };
    for (const [table, byIndex] of targets) {
      for (const [index, t] of byIndex) {
        const dims: Record<string, string> = index
          ? { TableName: table, GlobalSecondaryIndexName: index }
          : { TableName: table };
        const reasons: Record<string, number> = {};
        for (const k of KINDS) {
          for (const r of REASONS) {
            const n = t[`${k}${r}ThrottleEvents`] ?? 0;
            if (n > 0) reasons[`${index ? 'Index' : 'Table'}${k}${r}Exceeded`] = n;
          }
        }
        const row: TargetStats = {
          table,
          index,
          consumedRcu: t.ConsumedReadCapacityUnits ?? 0,
          consumedWcu: t.ConsumedWriteCapacityUnits ?? 0,
          readThrottleEvents: t.ReadThrottleEvents ?? 0,
          writeThrottleEvents: t.WriteThrottleEvents ?? 0,
          throttleReasons: reasons,
          // Not read back: the run's report judges consumption; the dashboard draws provisioned capacity.
          provisioned: null,
        };
        dynamodb.tables.push(row);
        for (const [name, sum] of Object.entries(t))
          dynamodb.metrics.push({ name, dimensions: dims, sum, count: 1 });
      }
    }
    for (const [table, byOp] of ops) {
      for (const [operation, o] of byOp) {
        const dims = { TableName: table, Operation: operation };
        const throttled = o['ThrottledRequests:Sum'];
        const samples = o['SuccessfulRequestLatency:SampleCount'] ?? 0;
        // Only the operations the table saw: DynamoDB publishes nothing for the others.
        if (throttled !== undefined) {
          const m: GateMetric = { name: 'ThrottledRequests', dimensions: dims, sum: throttled, count: 1 };
          dynamodb.metrics.push(m);
        }
        if (samples > 0) {
          dynamodb.metrics.push({
            name: 'SuccessfulRequestLatency',
            dimensions: dims,
            sum: (o['SuccessfulRequestLatency:Average'] ?? 0) * samples,
            count: samples,
            max: o['SuccessfulRequestLatency:Maximum'] ?? 0,
          });
        }
      }
    }
    return {
      patterns:
        appDatapoints > 0
          ? { since: run.start.toISOString(), at: run.end.toISOString(), patterns }
          : undefined,
      dynamodb,
    };
  }
}
