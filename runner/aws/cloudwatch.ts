import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { EMF_COUNTERS, EMF_NAMESPACE, type PatternId, patternIds, tableDefinition } from '../../app/index.js';
import type { GateSnapshot } from '../../local/index.js';
import type { MetricsSource, RunWindow, ServerPattern, ServerView } from '../metrics/index.js';

/**
 * The server side of a run on AWS, read back from CloudWatch with GetMetricData for the run's
 * window: the app's per-pattern EMF metrics and DynamoDB's own (AWS/DynamoDB). It fills the same
 * shapes the local app and capacity gate do, so one report builder serves both.
 */
export interface CloudWatchSourceOptions {
  readonly tableName: string;
  /** GSI names (default: the app's key definition). */
  readonly indexes?: readonly string[];
  readonly namespace?: string;
  /** The EMF `Service` dimension (the app's default is "shop"). */
  readonly service?: string;
  readonly patterns?: readonly PatternId[];
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
/** The operations the app's patterns use (plus BatchWriteItem, which the seed uses). */
const OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactWriteItems',
] as const;

type Query =
  | { kind: 'app'; pattern: PatternId; metric: string; stat: string }
  | { kind: 'table'; index: string | null; metric: string }
  | { kind: 'op'; operation: string; metric: string; stat: string };

const EMF_FLUSH_SLACK_MS = 15_000;
/** CloudWatch takes at most 500 queries per GetMetricData call. */
const MAX_QUERIES = 500;

export class CloudWatchMetricsSource implements MetricsSource {
  readonly describe: string;
  private readonly queries: Query[] = [];

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly options: CloudWatchSourceOptions,
  ) {
    this.describe = `CloudWatch (${options.namespace ?? EMF_NAMESPACE} and AWS/DynamoDB ${options.tableName})`;
    for (const pattern of options.patterns ?? patternIds) {
      for (const metric of Object.keys(EMF_COUNTERS))
        this.queries.push({ kind: 'app', pattern, metric, stat: 'Sum' });
      for (const stat of APP_LATENCY) this.queries.push({ kind: 'app', pattern, metric: 'Latency', stat });
    }
    const indexes = options.indexes ?? tableDefinition.indexes.map((i) => i.name);
    for (const index of [null, ...indexes]) {
      for (const metric of TABLE_SUMS) this.queries.push({ kind: 'table', index, metric });
    }
    for (const operation of OPERATIONS) {
      for (const stat of ['Average', 'Maximum', 'SampleCount'])
        this.queries.push({ kind: 'op', operation, metric: 'SuccessfulRequestLatency', stat });
      this.queries.push({ kind: 'op', operation, metric: 'ThrottledRequests', stat: 'Sum' });
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
    const table = this.options.tableName;
    const service = this.options.service ?? 'shop';
    const namespace = this.options.namespace ?? EMF_NAMESPACE;
    const all: MetricDataQuery[] = this.queries.map((q, i) => {
      const Id = `q${i}`;
      if (q.kind === 'app') {
        return {
          Id,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: namespace,
              MetricName: q.metric,
              Dimensions: [
                { Name: 'Service', Value: service },
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
              { Name: 'TableName', Value: table },
              ...(q.index ? [{ Name: 'GlobalSecondaryIndexName', Value: q.index }] : []),
            ]
          : [
              { Name: 'TableName', Value: table },
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
    for (let i = 0; i < all.length; i += MAX_QUERIES) {
      requests.push({
        MetricDataQueries: all.slice(i, i + MAX_QUERIES),
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampAscending',
      });
    }
    return requests;
  }

  async read(run: RunWindow): Promise<ServerView> {
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
    return this.parse(run, results);
  }

  /** Turns GetMetricData results into the app's and the gate's snapshot shapes. */
  parse(run: RunWindow, results: readonly MetricDataResult[]): ServerView {
    const values = new Map<string, number[]>();
    for (const r of results) if (r.Id) values.set(r.Id, [...(values.get(r.Id) ?? []), ...(r.Values ?? [])]);
    const value = (i: number, how: 'sum' | 'max'): number | undefined => {
      const v = values.get(`q${i}`);
      if (!v || v.length === 0) return undefined;
      return how === 'sum' ? v.reduce((a, b) => a + b, 0) : Math.max(...v);
    };

    const apps = new Map<PatternId, Record<string, number | undefined>>();
    const tables = new Map<string | null, Record<string, number>>();
    const ops = new Map<string, Record<string, number | undefined>>();
    this.queries.forEach((q, i) => {
      if (q.kind === 'app') {
        const p = apps.get(q.pattern) ?? {};
        p[q.metric === 'Latency' ? q.stat : q.metric] = value(i, q.metric === 'Latency' ? 'max' : 'sum');
        apps.set(q.pattern, p);
      } else if (q.kind === 'table') {
        const t = tables.get(q.index) ?? {};
        t[q.metric] = value(i, 'sum') ?? 0;
        tables.set(q.index, t);
      } else {
        const o = ops.get(q.operation) ?? {};
        o[`${q.metric}:${q.stat}`] = value(i, q.stat === 'Sum' || q.stat === 'SampleCount' ? 'sum' : 'max');
        ops.set(q.operation, o);
      }
    });

    const patterns: Partial<Record<PatternId, ServerPattern>> = {};
    for (const [id, m] of apps) {
      if ((m.Requests ?? 0) === 0) continue;
      const counts = Object.fromEntries(
        Object.entries(EMF_COUNTERS).map(([name, field]) => [field, m[name] ?? 0]),
      ) as Record<(typeof EMF_COUNTERS)[keyof typeof EMF_COUNTERS], number>;
      patterns[id] = {
        ...counts,
        // The EMF metrics carry totals per pattern; per table/GSI capacity comes from AWS/DynamoDB.
        capacity: {},
        latencyMs: { p50: m.p50 ?? 0, p95: m.p95 ?? 0, p99: m.p99 ?? 0, max: m.Maximum ?? 0 },
      };
    }

    const table = this.options.tableName;
    const dynamodb: GateSnapshot = { tables: [], hotKeys: [], metrics: [] };
    for (const [index, t] of tables) {
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
      dynamodb.tables.push({
        table,
        index,
        consumedRcu: t.ConsumedReadCapacityUnits ?? 0,
        consumedWcu: t.ConsumedWriteCapacityUnits ?? 0,
        readThrottleEvents: t.ReadThrottleEvents ?? 0,
        writeThrottleEvents: t.WriteThrottleEvents ?? 0,
        throttleReasons: reasons,
      });
      for (const [name, sum] of Object.entries(t))
        dynamodb.metrics.push({ name, dimensions: dims, sum, count: 1 });
    }
    for (const [operation, o] of ops) {
      const dims = { TableName: table, Operation: operation };
      const samples = o['SuccessfulRequestLatency:SampleCount'] ?? 0;
      dynamodb.metrics.push({
        name: 'ThrottledRequests',
        dimensions: dims,
        sum: o['ThrottledRequests:Sum'] ?? 0,
        count: 1,
      });
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
    return {
      app: { since: run.start.toISOString(), at: run.end.toISOString(), patterns },
      dynamodb,
    };
  }
}
