import type { PatternId, PatternSnapshot } from '../../app/index.js';
import type { GateSnapshot } from '../../local/index.js';

/**
 * Where the server-side half of a report comes from: the app's per-pattern numbers and DynamoDB's
 * own metrics (consumed capacity, throttle events by reason, latency per operation). Locally that is
 * the app's /__metrics and the capacity gate; on AWS it is CloudWatch (GetMetricData).
 */
export interface RunWindow {
  readonly start: Date;
  readonly end: Date;
}

/** One pattern as the server saw it. CloudWatch has no mergeable sketch, so that part is optional. */
export type ServerPattern = Omit<PatternSnapshot, 'sketch' | 'latencyMs'> & {
  readonly latencyMs: { p50: number; p95: number; p99: number; max?: number };
};

export interface ServerSnapshot {
  readonly since: string;
  readonly at: string;
  readonly patterns: Partial<Record<PatternId, ServerPattern>>;
}

export interface ServerView {
  /** The app's per-pattern numbers; undefined when they cannot be read. */
  readonly app: ServerSnapshot | undefined;
  /** DynamoDB's view in CloudWatch's names (per table/GSI and per operation), when available. */
  readonly dynamodb: GateSnapshot | undefined;
}

export interface MetricsSource {
  /** Where the numbers come from, for the report and for messages. */
  readonly describe: string;
  read(window: RunWindow): Promise<ServerView>;
}
