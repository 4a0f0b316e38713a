import type { HotKey } from '../../local/index.js';
import type { TimelinePoint } from './timeline.js';

/** The report: the JSON contract for CI and for `loadtest compare` (see DESIGN.md). */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max?: number;
}

export interface PatternRow {
  id: string;
  /** False for a request whose name is not an access-pattern id (a plain Artillery script). */
  pattern: boolean;
  requests: number;
  errors: number;
  errorRate: number;
  /** Client side (Artillery, time to first byte); null when no request of the scenario has this name. */
  latencyMs: Latency | null;
  /** App side, from the app's own per-pattern metrics; null when the app's metrics are not reachable. */
  serverLatencyMs: Latency | null;
  rcu: number;
  wcu: number;
  rcuPerRequest: number;
  wcuPerRequest: number;
  throttleEvents: number;
  throttledRequests: number;
  retries: number;
  costPerMillionUsd: number;
}

export interface TableRow {
  table: string;
  index: string | null;
  consumedRcu: number;
  consumedWcu: number;
  /** null: not measured (needs the capacity gate or CloudWatch). */
  readThrottleEvents: number | null;
  writeThrottleEvents: number | null;
  throttleReasons: Record<string, number>;
}

/** The capacity gate's hot-key rows go into the report as they are. */
export type { HotKey } from '../../local/index.js';

export interface ThresholdResult {
  pattern: string;
  metric: string;
  op: string;
  value: number;
  actual: number | null;
  passed: boolean;
}

export interface EnsureResult {
  expression: string;
  strict: boolean;
  passed: boolean;
  error?: string;
}

export interface Report {
  scenario: string;
  target: string;
  startedAt: string;
  endedAt: string;
  durationSec: number;
  passed: boolean;
  /** True when the run did not complete (Ctrl-C, a component died, a worker failed). */
  partial: boolean;
  error?: string;
  workers: { worker: number; status: string; error?: string }[];
  pricing: { region: string; readPerMillionUsd: number; writePerMillionUsd: number };
  patterns: PatternRow[];
  tables: TableRow[];
  hotKeys: HotKey[];
  thresholds: ThresholdResult[];
  ensure: EnsureResult[];
  /** The run over time (a point every 2 s), for the HTML report's charts; absent in older reports. */
  timeline?: TimelinePoint[];
}
