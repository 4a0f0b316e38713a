import { compileExpression } from 'filtrex';
import { decodeSketch, isPatternId, mergeSketches, patternIds, quantiles } from '../../app/index.js';
import type { GateSnapshot } from '../../local/index.js';
import type { ClientResult } from '../engine/client-stats.js';
import type { ServerPattern, ServerSnapshot } from '../metrics/index.js';
import { type EnsureCheck, ensureIdentifier, rewriteEnsureExpression } from '../scenario/load.js';
import { compare, type Threshold } from '../scenario/thresholds.js';
import type { EnsureResult, PatternRow, Report, TableRow, ThresholdResult } from './types.js';

/**
 * On-demand prices we assume unless told otherwise: us-east-1, USD per million request units
 * (read request unit = one 4 KB strongly consistent read; write = one 1 KB write).
 */
export const DEFAULT_PRICING = { region: 'us-east-1', readPerMillionUsd: 0.125, writePerMillionUsd: 0.625 };

export interface BuildInput {
  /** The capacity gate's view (tables and hot keys as DynamoDB would report them), when it ran. */
  readonly gate?: GateSnapshot;
  readonly scenario: string;
  readonly target: string;
  readonly client: ClientResult;
  /** The app's per-pattern numbers for the run window; undefined if it exposes none. */
  readonly server: ServerSnapshot | undefined;
  readonly thresholds: readonly Threshold[];
  readonly ensure: readonly EnsureCheck[];
  readonly pricing?: Report['pricing'];
  readonly partial?: boolean;
  readonly error?: string;
  readonly workers?: Report['workers'];
  /** The run over time (see timeline.ts), carried into the report as recorded. */
  readonly timeline?: Report['timeline'];
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

function order(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  const rank = (n: string) => (isPatternId(n) ? patternIds.indexOf(n) : patternIds.length);
  return list.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function row(id: string, input: BuildInput, pricing: Report['pricing']): PatternRow {
  const c = input.client.byName[id];
  const s: ServerPattern | undefined = isPatternId(id) ? input.server?.patterns[id] : undefined;
  const requests = c?.requests ?? s?.count ?? 0;
  const errors = c?.errors ?? s?.errors ?? 0;
  const serverCount = s?.count ?? 0;
  const rcu = s?.rcu ?? 0;
  const wcu = s?.wcu ?? 0;
  const rcuPerRequest = serverCount > 0 ? rcu / serverCount : 0;
  const wcuPerRequest = serverCount > 0 ? wcu / serverCount : 0;
  const client = c && c.latency.count > 0 ? quantiles(decodeSketch(c.latency)) : null;
  return {
    id,
    pattern: isPatternId(id),
    requests,
    errors,
    errorRate: requests > 0 ? round(errors / requests) : 0,
    latencyMs: client,
    serverLatencyMs: s ? { p50: s.latencyMs.p50, p95: s.latencyMs.p95, p99: s.latencyMs.p99 } : null,
    rcu: round(rcu),
    wcu: round(wcu),
    rcuPerRequest: round(rcuPerRequest),
    wcuPerRequest: round(wcuPerRequest),
    throttleEvents: s?.throttleEvents ?? 0,
    throttledRequests: s?.throttledRequests ?? 0,
    retries: s?.retries ?? 0,
    costPerMillionUsd: round(
      rcuPerRequest * pricing.readPerMillionUsd + wcuPerRequest * pricing.writePerMillionUsd,
      4,
    ),
  };
}

function metricOf(r: PatternRow, metric: Threshold['metric']): number | null {
  switch (metric) {
    case 'p50':
    case 'p95':
    case 'p99':
      return (r.latencyMs ?? r.serverLatencyMs)?.[metric] ?? null;
    case 'max':
      return r.latencyMs?.max ?? null;
    default:
      return r[metric];
  }
}

export function evaluateThresholds(
  rows: readonly PatternRow[],
  thresholds: readonly Threshold[],
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const t of thresholds) {
    const targets =
      t.pattern === '*' ? rows.filter((r) => r.requests > 0) : rows.filter((r) => r.id === t.pattern);
    if (targets.length === 0 && t.pattern !== '*') {
      // A gate on a pattern the run never exercised cannot pass.
      results.push({
        pattern: t.pattern,
        metric: t.metric,
        op: t.op,
        value: t.value,
        actual: null,
        passed: false,
      });
    }
    for (const r of targets) {
      const actual = metricOf(r, t.metric);
      results.push({
        pattern: r.id,
        metric: t.metric,
        op: t.op,
        value: t.value,
        actual,
        passed: actual !== null && compare(actual, t.op, t.value),
      });
    }
  }
  return results;
}

/** Artillery's aggregate metrics, flattened the way its `ensure` plugin sees them. */
export function ensureVariables(client: ClientResult, durationSec: number): Record<string, number> {
  const vars: Record<string, number> = { ...client.counters };
  const all = Object.values(client.byName);
  const merged = mergeSketches(all.map((n) => n.latency));
  if (merged.count > 0) {
    const q = (x: number) => round(merged.getValueAtQuantile(x), 3);
    Object.assign(vars, {
      'http.response_time.min': round(merged.min, 3),
      'http.response_time.max': round(merged.max, 3),
      'http.response_time.mean': round(merged.sum / merged.count, 3),
      'http.response_time.median': q(0.5),
      'http.response_time.p50': q(0.5),
      'http.response_time.p75': q(0.75),
      'http.response_time.p90': q(0.9),
      'http.response_time.p95': q(0.95),
      'http.response_time.p99': q(0.99),
      'http.response_time.p999': q(0.999),
    });
  }
  vars['http.request_rate'] = durationSec > 0 ? round((vars['http.requests'] ?? 0) / durationSec, 3) : 0;
  return vars;
}

export function evaluateEnsure(checks: readonly EnsureCheck[], vars: Record<string, number>): EnsureResult[] {
  const data: Record<string, number> = {};
  for (const [k, v] of Object.entries(vars)) data[ensureIdentifier(k)] = v;
  return checks.map((check) => {
    try {
      const result = compileExpression(rewriteEnsureExpression(check.expression))(data) as unknown;
      if (result instanceof Error) return { ...check, passed: false, error: result.message };
      return { ...check, passed: result === true || result === 1 };
    } catch (err) {
      return { ...check, passed: false, error: (err as Error).message };
    }
  });
}

function tables(server: ServerSnapshot | undefined, tableName: string): TableRow[] {
  if (!server) return [];
  const sums = new Map<string, { rcu: number; wcu: number }>();
  for (const p of Object.values(server.patterns)) {
    for (const [target, c] of Object.entries(p?.capacity ?? {})) {
      const cur = sums.get(target) ?? { rcu: 0, wcu: 0 };
      cur.rcu += c.rcu;
      cur.wcu += c.wcu;
      sums.set(target, cur);
    }
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a === 'table' ? -1 : b === 'table' ? 1 : a.localeCompare(b)))
    .map(([target, c]) => ({
      table: tableName,
      index: target === 'table' ? null : target,
      consumedRcu: round(c.rcu),
      consumedWcu: round(c.wcu),
      readThrottleEvents: null,
      writeThrottleEvents: null,
      throttleReasons: {},
    }));
}

export function buildReport(input: BuildInput & { tableName?: string }): Report {
  const pricing = input.pricing ?? DEFAULT_PRICING;
  const serverIds = Object.entries(input.server?.patterns ?? {})
    .filter(([, s]) => (s?.count ?? 0) > 0)
    .map(([id]) => id);
  const rows = order([...Object.keys(input.client.byName), ...serverIds]).map((id) =>
    row(id, input, pricing),
  );
  const started = new Date(input.client.startedAt);
  const ended = new Date(input.client.endedAt);
  const durationSec = round(Math.max(0, (ended.getTime() - started.getTime()) / 1000), 3);
  const thresholdResults = evaluateThresholds(rows, input.thresholds);
  const ensure = evaluateEnsure(input.ensure, ensureVariables(input.client, durationSec));
  const passed =
    !input.partial && thresholdResults.every((t) => t.passed) && ensure.every((e) => e.passed || !e.strict);
  return {
    scenario: input.scenario,
    target: input.target,
    startedAt: input.client.startedAt,
    endedAt: input.client.endedAt,
    durationSec,
    passed,
    partial: input.partial ?? false,
    ...(input.error ? { error: input.error } : {}),
    workers: input.workers ?? [],
    pricing,
    patterns: rows,
    tables: input.gate ? input.gate.tables : tables(input.server, input.tableName ?? 'shop'),
    hotKeys: input.gate ? input.gate.hotKeys.filter((k) => k.rcu + k.wcu + k.throttleEvents > 0) : [],
    thresholds: thresholdResults,
    ensure,
    ...(input.timeline ? { timeline: input.timeline } : {}),
  };
}
