import type { KeyLoad, KeySpread, ResolvedCapacity, TargetStats } from '../../local/index.js';
import type { Forecast } from '../forecast/index.js';
import type { HotKey } from '../metrics/index.js';
import type { StartupTiming } from '../timings.js';
import type { TimelinePoint } from './timeline.js';

/** The report: the JSON contract for CI and for `loadtest compare` (see DESIGN.md). */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max?: number;
}

/**
 * One row per id: a request name of the scenario (client side), an access pattern (DynamoDB side), or
 * both when a request is named after the pattern it exercises. A figure that was not measured is
 * null, never 0.
 */
export interface PatternRow {
  id: string;
  /** The id is an access pattern: declared by the project, or named by the gate (tag, rule, automatic). */
  pattern: boolean;
  /** How the gate named it; null when no DynamoDB call has this id. */
  source: 'declared' | 'tag' | 'rule' | 'auto' | null;
  /** The scenario sends requests of this name (the client side of the row). */
  requestName: boolean;
  /** Client requests of this name; for a row with none, the DynamoDB calls of the pattern. */
  requests: number;
  errors: number;
  /** errors / requests; null for a row with no requests (0 of 0 is no rate, and not 0 %). */
  errorRate: number | null;
  /** Client side: answers by HTTP status, or by error code when there was none (ETIMEDOUT, ...). */
  codes?: Record<string, number>;
  /** Client side: up to three sample messages per failing code (the answer's start, the error). */
  errorSamples?: Record<string, string[]>;
  /** Client side, Artillery's expect plugin: failed expectations by type (each an error of the row). */
  failedExpectations?: Record<string, number>;
  /** Client side (Artillery, time to first byte); null when no request of the scenario has this name. */
  latencyMs: Latency | null;
  /** DynamoDB side (null: not measured, or no call of this pattern). Calls that reached DynamoDB. */
  calls: number | null;
  /** Non-2xx DynamoDB answers by error code (ConditionalCheckFailedException, ...). */
  dynamodbErrors: Record<string, number> | null;
  /** DynamoDB side latency (the gate's round trip to DynamoDB; the app's, from EMF, on AWS). */
  serverLatencyMs: Latency | null;
  rcu: number | null;
  wcu: number | null;
  /** Per DynamoDB call of the pattern that DynamoDB answered (a throttled attempt consumes no capacity). */
  rcuPerRequest: number | null;
  wcuPerRequest: number | null;
  throttleEvents: number | null;
  throttledRequests: number | null;
  retries: number | null;
  /** Throttle events by DynamoDB's reason: {} when none; null when not measured (absent in older reports). */
  throttleReasons?: Record<string, number> | null;
  /** DynamoDB cost of a million calls of the pattern, on-demand prices. */
  costPerMillionUsd: number | null;
}

/** A table or index as DynamoDB's CloudWatch metrics (or the gate, locally) count it. */
export type TableRow = Omit<TargetStats, 'provisioned'> & { provisioned?: TargetStats['provisioned'] };

/** The hot-key rows (capacity gate or Contributor Insights) go into the report as they are. */
export type { HotKey } from '../metrics/index.js';

/**
 * What a forecast scales up (see runner/forecast): per pattern, the DynamoDB calls the run made and
 * the units they took per table and index; the partition keys those units went to; the capacity the
 * gate enforced. Present when the capacity gate measured the run.
 */
export interface LoadProfile {
  /** Client requests the scenario sent (a forecast's rate counts these), and over how many seconds. */
  requests: number;
  durationSec: number;
  patterns: {
    id: string;
    /** The pattern's DynamoDB requests (attempts less SDK retries, throttled ones included): its demand. */
    calls: number;
    /**
     * Of its attempts, those DynamoDB answered: what `capacity` was spent on (a throttled attempt
     * costs nothing). Absent in reports before it, whose `calls` were these.
     */
    answered?: number;
    /** Units by target: `table` or `table/index` (an LSI's units are its table's partitions'). */
    capacity: Record<string, { rcu: number; wcu: number }>;
  }[];
  keys: KeyLoad[];
  keySpread: KeySpread[];
  /** By table: its mode and limits as the gate enforced them. */
  capacity: Record<string, ResolvedCapacity>;
}

export interface ThresholdResult {
  pattern: string;
  metric: string;
  op: string;
  value: number;
  actual: number | null;
  passed: boolean;
  /** Why there is no actual value: "not measured" (no source for it) or "no data" (nothing ran). */
  note?: string;
}

export interface EnsureResult {
  expression: string;
  strict: boolean;
  passed: boolean;
  error?: string;
  /** The run's figure for each metric the expression names (absent in older reports). */
  values?: Record<string, number>;
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
  /** The project whose patterns the rows are. */
  project?: { name: string; file: string };
  /** Where each view came from; `dynamodb` null when nothing measured it. */
  sources?: { client: string; dynamodb: string | null };
  /** One line saying which figures were not measured and why; absent when all were. */
  notMeasured?: string;
  patterns: PatternRow[];
  /** Per table and GSI; null when nothing measured the DynamoDB side (not "no table"). */
  tables: TableRow[] | null;
  /** The hottest partition keys; null when nothing measured the DynamoDB side. */
  hotKeys: HotKey[] | null;
  /** Why the hot keys are not (or not all) measured: Contributor Insights off on AWS, say. */
  hotKeysNotMeasured?: string;
  thresholds: ThresholdResult[];
  ensure: EnsureResult[];
  /** What a forecast needs (absent when the DynamoDB side was not measured by the capacity gate). */
  load?: LoadProfile;
  /** The forecast at the project's or scenario's expected rate, when one is configured. */
  forecast?: Forecast;
  /** Artillery's `errors.*` counters for the run (failed captures or matches, ...), by its names. */
  errors?: Record<string, number>;
  /**
   * Artillery's aggregate as its own JSON report has it: every counter (vusers.*, http.codes.*, a
   * processor's `events.emit('counter', ...)`) and every histogram summarised (vusers.session_length,
   * http.response_time and its per-status ones, a processor's). What `ensure` judges; absent in older
   * reports.
   */
  artillery?: { counters: Record<string, number>; summaries: Record<string, Record<string, number>> };
  /** Arrivals that started no virtual user because a phase's maxVusers was reached (absent: none). */
  vusersSkipped?: number;
  /** Set when every request failed, or none was sent because its virtual users failed, with the main cause: such a run never passes. */
  allFailed?: string;
  /** Why a configured forecast was not made (a mix naming a pattern this run never called, ...). */
  forecastError?: string;
  /** The run over time (a point every 2 s), for the HTML report's charts; absent in older reports. */
  timeline?: TimelinePoint[];
  /** Where the start-up time went: each phase's moment in ms since the CLI process started (null: did not happen). */
  timings?: StartupTiming[];
}
