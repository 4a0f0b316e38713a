import type { PatternSnapshot, SerializedSketch } from '../../instrument/index.js';
import type {
  AttributionSource,
  GateMetric,
  HotKey,
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
};

export interface ServerSnapshot {
  readonly since: string;
  readonly at: string;
  readonly patterns: Partial<Record<string, ServerPattern>>;
}

/** Per table and index, DynamoDB's CloudWatch metrics, and the hot partition keys. */
export interface DynamoView {
  readonly tables: TargetStats[];
  readonly hotKeys: HotKey[];
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
