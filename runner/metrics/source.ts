import type { PatternSnapshot, SerializedSketch } from '../../instrument/index.js';
import type {
  AttributionSource,
  GateMetric,
  KeyLoad,
  KeySpread,
  ResolvedCapacity,
  TargetStats,
} from '../../local/index.js';

/**
 * Where the DynamoDB side of a report comes from: per access pattern (calls, capacity, throttles,
 * retries, latency), and per table and index in DynamoDB's own CloudWatch names. Locally that is the
 * capacity gate (its admin endpoint); on AWS it is CloudWatch (the app's EMF metrics and
 * AWS/DynamoDB, with GetMetricData).
 */
export interface RunWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * One pattern, DynamoDB side: the instrument's snapshot shape (count: DynamoDB calls at the gate, the
 * app's operations from EMF), and what the gate adds. CloudWatch has no mergeable sketch: optional.
 */
export type ServerPattern = Omit<PatternSnapshot, 'sketch' | 'latencyMs'> & {
  readonly latencyMs: { p50: number; p95: number; p99: number; max?: number };
  readonly sketch?: SerializedSketch;
  /** How the gate named it. */
  readonly source?: AttributionSource;
  readonly operations?: readonly string[];
  readonly errorCodes?: Record<string, number>;
  readonly throttleReasons?: Record<string, number>;
  readonly items?: number;
  /**
   * Calls DynamoDB answered (not throttled away): what units per call divide by, since a throttled
   * request consumes no capacity. The gate counts them per attempt; from EMF, the operations that
   * did not fail throttled. Absent (an older report's gate): `count`.
   */
  readonly answered?: number;
};

export interface ServerSnapshot {
  readonly since: string;
  readonly at: string;
  readonly patterns: Partial<Record<string, ServerPattern>>;
}

/**
 * One hot partition key of a table or GSI. The capacity gate measures the capacity each key consumed
 * (rcu, wcu) and its throttle events. On AWS, Contributor Insights for DynamoDB counts requests per key
 * (its "most accessed" rule: `accesses`) and throttled requests per key (its "most throttled" rule:
 * `throttleEvents`); it measures no capacity per key, so rcu and wcu are null there, never 0.
 */
export interface HotKey {
  readonly table: string;
  readonly index: string | null;
  readonly partitionKey: string;
  /** Read capacity units this key consumed; null when not measured (Contributor Insights). */
  readonly rcu: number | null;
  readonly wcu: number | null;
  /** Requests that accessed this key (Contributor Insights' most-accessed rule); absent when not counted. */
  readonly accesses?: number;
  readonly throttleEvents: number;
}

/** Per table and index, DynamoDB's CloudWatch metrics, and the hot partition keys. */
export interface DynamoView {
  readonly tables: TargetStats[];
  readonly hotKeys: HotKey[];
  /** Why the hot keys (or some of them) are not measured, e.g. Contributor Insights is off. */
  readonly hotKeysNotMeasured?: string;
  readonly metrics: GateMetric[];
  /** The capacity gate only: partition keys per pattern, and the capacity it enforced. */
  readonly keyLoad?: KeyLoad[];
  readonly keySpread?: KeySpread[];
  readonly capacity?: Record<string, ResolvedCapacity>;
}

export interface ServerView {
  /** Per access pattern; undefined when nothing measured the DynamoDB side. */
  readonly patterns: ServerSnapshot | undefined;
  readonly dynamodb: DynamoView | undefined;
}

export interface MetricsSource {
  /** Where the numbers come from, for the report and for messages. */
  readonly describe: string;
  /** `keys: false`: a poll during the run, with no use for per-key figures (the gate skips them). */
  read(window: RunWindow, options?: { keys?: boolean }): Promise<ServerView>;
}
