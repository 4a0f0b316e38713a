import type { DDSketch } from '@datadog/sketches-js';
import { compileExpression } from 'filtrex';
import { decodeSketch, mergeSketches, quantiles } from '../../instrument/index.js';
import { type ClientResult, isFailingCode } from '../engine/client-stats.js';
import {
  type Forecast,
  ForecastError,
  type ForecastOptions,
  forecast as forecastOf,
} from '../forecast/index.js';
import type { DynamoView, ServerPattern, ServerSnapshot } from '../metrics/index.js';
import {
  type EnsureCheck,
  ensureIdentifier,
  metricOfIdentifier,
  rewriteEnsureExpression,
} from '../scenario/load.js';
import { compare, type Threshold, type ThresholdMetric } from '../scenario/thresholds.js';
import type { EnsureResult, LoadProfile, PatternRow, Report, ThresholdResult } from './types.js';

/**
 * On-demand prices we assume unless told otherwise: us-east-1, USD per million request units
 * (read request unit = one 4 KB strongly consistent read; write = one 1 KB write).
 */
export const DEFAULT_PRICING = { region: 'us-east-1', readPerMillionUsd: 0.125, writePerMillionUsd: 0.625 };

export interface BuildInput {
  readonly scenario: string;
  readonly target: string;
  readonly client: ClientResult;
  /** The DynamoDB side per pattern for the run window; undefined when nothing measured it. */
  readonly server: ServerSnapshot | undefined;
  /** Per table and index, and the hot keys, when measured. */
  readonly dynamodb?: DynamoView | undefined;
  /** The project's declared pattern ids, in order (rows are sorted by it). */
  readonly declared?: readonly string[];
  readonly project?: Report['project'];
  /** Where each view comes from, for the report (`dynamodb` undefined: not measured). */
  readonly sources?: { readonly client?: string; readonly dynamodb?: string };
  /** Why the DynamoDB side was not measured, when it was not. */
  readonly notMeasured?: string;
  readonly thresholds: readonly Threshold[];
  readonly ensure: readonly EnsureCheck[];
  readonly pricing?: Report['pricing'];
  readonly partial?: boolean;
  readonly error?: string;
  readonly workers?: Report['workers'];
  /** The traffic to forecast the run at (the scenario's or project's `forecast`). */
  readonly forecast?: ForecastOptions;
  /** The run over time (see timeline.ts), carried into the report as recorded. */
  readonly timeline?: Report['timeline'];
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

function order(names: Iterable<string>, declared: readonly string[]): string[] {
  const list = [...new Set(names)];
  const rank = (n: string) => {
    const i = declared.indexOf(n);
    return i >= 0 ? i : declared.length;
  };
  return list.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function row(id: string, input: BuildInput, pricing: Report['pricing']): PatternRow {
  const c = input.client.byName[id];
  const declared = input.declared ?? [];
  const measured = input.server !== undefined;
  const s: ServerPattern | undefined = input.server?.patterns[id];
  const isPattern = declared.includes(id) || s !== undefined;
  // The DynamoDB side: measured for a pattern (a declared one with no call has zeros), else null.
  const ddb = measured && isPattern;
  const calls = ddb ? (s?.count ?? 0) : null;
  // Units per call divide by the calls DynamoDB answered: a throttled attempt consumes nothing, and
  // counting it would make a pattern look cheaper the more it was throttled.
  const answered = ddb ? (s?.answered ?? s?.count ?? 0) : null;
  const perCall = (units: number | undefined) =>
    answered !== null && answered > 0 && units !== undefined ? round(units / answered) : null;
  const rcuPerRequest = ddb ? perCall(s?.rcu ?? 0) : null;
  const wcuPerRequest = ddb ? perCall(s?.wcu ?? 0) : null;
  const requests = c?.requests ?? calls ?? 0;
  const errors = c ? c.errors : (s?.errors ?? 0);
  const client = c && c.latency.count > 0 ? quantiles(decodeSketch(c.latency)) : null;
  const source: PatternRow['source'] = s?.source ?? (declared.includes(id) ? 'declared' : null);
  return {
    id,
    pattern: isPattern,
    source,
    requestName: c !== undefined,
    requests,
    errors,
    errorRate: requests > 0 ? round(errors / requests) : null,
    ...(c && Object.keys(c.codes).length > 0 ? { codes: c.codes } : {}),
    ...(c?.samples && Object.keys(c.samples).length > 0 ? { errorSamples: c.samples } : {}),
    ...(c?.expect && Object.keys(c.expect).length > 0 ? { failedExpectations: c.expect } : {}),
    latencyMs: client,
    calls,
    dynamodbErrors: ddb ? (s?.errorCodes ?? {}) : null,
    serverLatencyMs:
      s && s.count > 0 ? { p50: s.latencyMs.p50, p95: s.latencyMs.p95, p99: s.latencyMs.p99 } : null,
    rcu: ddb ? round(s?.rcu ?? 0) : null,
    wcu: ddb ? round(s?.wcu ?? 0) : null,
    rcuPerRequest,
    wcuPerRequest,
    throttleEvents: ddb ? (s?.throttleEvents ?? 0) : null,
    throttledRequests: ddb ? (s?.throttledRequests ?? 0) : null,
    retries: ddb ? (s?.retries ?? 0) : null,
    // {} when measured and none; null when nothing measured them (no gate, or a source without them).
    throttleReasons: !ddb ? null : s ? (s.throttleReasons ?? null) : {},
    costPerMillionUsd:
      rcuPerRequest !== null && wcuPerRequest !== null
        ? round(rcuPerRequest * pricing.readPerMillionUsd + wcuPerRequest * pricing.writePerMillionUsd, 4)
        : null,
  };
}

/** Metrics of the DynamoDB side: null on a row that is not a pattern (and on every row when unmeasured). */
const DYNAMODB_METRICS: ReadonlySet<ThresholdMetric> = new Set([
  'throttleEvents',
  'throttledRequests',
  'retries',
  'rcuPerRequest',
  'wcuPerRequest',
]);

function metricOf(r: PatternRow, metric: Threshold['metric']): number | null {
  switch (metric) {
    case 'forecast.maxRate':
    case 'forecast.headroom':
      return null;
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

/**
 * A forecast threshold: per pattern, the rate at which it first throttles (or that over the forecast's
 * rate). A pattern that takes no capacity never throttles: it passes, with a note.
 */
function forecastThreshold(t: Threshold, forecast: Forecast | string | undefined): ThresholdResult[] {
  const base = { metric: t.metric, op: t.op, value: t.value };
  if (forecast === undefined || typeof forecast === 'string') {
    const note = forecast ?? 'no forecast (the DynamoDB side was not measured by the capacity gate)';
    return [{ ...base, pattern: t.pattern, actual: null, passed: false, note }];
  }
  const rows = t.pattern === '*' ? forecast.patterns : forecast.patterns.filter((p) => p.id === t.pattern);
  if (rows.length === 0)
    return [{ ...base, pattern: t.pattern, actual: null, passed: false, note: 'no data' }];
  return rows.map((p) => {
    const actual = t.metric === 'forecast.maxRate' ? p.maxRate : p.headroom;
    if (actual === null)
      return { ...base, pattern: p.id, actual, passed: true, note: 'takes no capacity: never throttles' };
    return { ...base, pattern: p.id, actual, passed: compare(actual, t.op, t.value) };
  });
}

export function evaluateThresholds(
  rows: readonly PatternRow[],
  thresholds: readonly Threshold[],
  dynamodbMeasured = true,
  /** The run's forecast, or why there is none. */
  forecast?: Forecast | string,
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  const result = (t: Threshold, pattern: string, actual: number | null, note?: string): ThresholdResult => ({
    pattern,
    metric: t.metric,
    op: t.op,
    value: t.value,
    actual,
    passed: actual !== null && compare(actual, t.op, t.value),
    ...(actual === null && note ? { note } : {}),
  });
  // Calls the gate named by their shape: where a pattern's calls go when its rule matches none.
  const auto = rows.filter((r) => r.source === 'auto' && (r.calls ?? 0) > 0).map((r) => r.id);
  const noCalls =
    auto.length === 0
      ? 'no data'
      : `no data: no DynamoDB call matched its rule; the gate named ${auto.length} shape(s) of call itself: ${auto.slice(0, 3).join('; ')}${auto.length > 3 ? '; ...' : ''}`;
  for (const t of thresholds) {
    if (t.metric.startsWith('forecast.')) {
      results.push(...forecastThreshold(t, forecast));
      continue;
    }
    const ddbMetric = DYNAMODB_METRICS.has(t.metric);
    if (ddbMetric && !dynamodbMeasured) {
      // Nothing measured the DynamoDB side: no figure to judge, so the gate cannot pass.
      results.push(result(t, t.pattern, null, 'not measured'));
      continue;
    }
    let targets = rows.filter((r) => r.id === t.pattern);
    // "*": every row with traffic; a DynamoDB figure only on the rows that are patterns.
    if (t.pattern === '*') targets = rows.filter((r) => r.requests > 0 && (!ddbMetric || r.pattern));
    if (targets.length === 0 && t.pattern !== '*') {
      // A gate on a pattern the run never exercised cannot pass.
      results.push(result(t, t.pattern, null, 'no data'));
    }
    for (const r of targets) {
      const actual = metricOf(r, t.metric);
      const note =
        ddbMetric && !r.pattern
          ? 'not measured (not an access pattern)'
          : r.pattern && r.source !== 'auto' && r.calls === 0
            ? noCalls
            : 'no data';
      results.push(result(t, r.id, actual, note));
    }
  }
  return results;
}

/** The figures Artillery's summary of a histogram has, in its order. */
const SUMMARY_FIGURES = [
  'min',
  'max',
  'count',
  'mean',
  'p50',
  'median',
  'p75',
  'p90',
  'p95',
  'p99',
  'p999',
] as const;

/**
 * A histogram as Artillery's summaries name its figures (`<name>.p99`, ...), rounded as they are (one
 * decimal: a check Artillery passes at 100.04 ms as 100.0 passes here too); none when empty.
 */
function summary(name: string, h: DDSketch): Record<string, number> {
  if (h.count === 0) return {};
  const r = (n: number) => round(n, 1);
  const q = (x: number) => r(h.getValueAtQuantile(x));
  const figures: Record<(typeof SUMMARY_FIGURES)[number], number> = {
    min: r(h.min),
    max: r(h.max),
    count: h.count,
    mean: r(h.sum / h.count),
    p50: q(0.5),
    median: q(0.5),
    p75: q(0.75),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    p999: q(0.999),
  };
  return Object.fromEntries(Object.entries(figures).map(([f, v]) => [`${name}.${f}`, v]));
}

/** The report's `artillery` section: the counters, and each histogram's figures from the ensure variables. */
function artilleryAggregate(
  client: ClientResult,
  vars: Record<string, number>,
): NonNullable<Report['artillery']> {
  const summaries: Record<string, Record<string, number>> = {};
  for (const name of ['http.response_time', ...Object.keys(client.summaries ?? {})]) {
    const figures: Record<string, number> = {};
    for (const f of SUMMARY_FIGURES) {
      const v = vars[`${name}.${f}`];
      if (v !== undefined) figures[f] = v;
    }
    if (Object.keys(figures).length > 0) summaries[name] = figures;
  }
  return { counters: { ...client.counters }, summaries };
}

/** Artillery's aggregate metrics, flattened the way its `ensure` plugin sees them. */
export function ensureVariables(client: ClientResult, durationSec: number): Record<string, number> {
  // Artillery counts only what happened: no failed virtual user is vusers.failed 0, not a missing one.
  // So is none completed: maxErrorRate's check then reads 100 %, not "no metric vusers.completed".
  const vars: Record<string, number> = {
    'vusers.created': 0,
    'vusers.failed': 0,
    'vusers.completed': 0,
    ...client.counters,
  };
  // Artillery's own histograms first (session length, per status class, a processor's), then the
  // response time from the per-name sketches: the same clock, and every worker's answers in it.
  for (const [name, s] of Object.entries(client.summaries ?? {}))
    Object.assign(vars, summary(name, decodeSketch(s)));
  Object.assign(
    vars,
    summary('http.response_time', mergeSketches(Object.values(client.byName).map((n) => n.latency))),
  );
  vars['http.request_rate'] = durationSec > 0 ? round((vars['http.requests'] ?? 0) / durationSec, 3) : 0;
  return vars;
}

/**
 * filtrex names a missing metric by the identifier it was rewritten to: named back, with the figures
 * the run has under the same prefix. A metric the run did not record fails the check, as it does in
 * Artillery's ensure plugin.
 */
function ensureError(message: string, vars: Record<string, number>): string {
  const m = /^Property “(m_[A-Za-z0-9_]+)” does not exist\.$/.exec(message);
  const name = m ? Object.keys(vars).find((k) => ensureIdentifier(k) === m[1]) : undefined;
  if (!m || name !== undefined) return message;
  const missing = metricOfIdentifier(m[1] as string);
  const prefix = missing.includes('.') ? missing.slice(0, missing.lastIndexOf('.') + 1) : '';
  const near = Object.keys(vars)
    .filter((k) => prefix !== '' && k.startsWith(prefix))
    .sort();
  return `the run recorded no metric ${missing}${near.length > 0 ? ` (it has ${near.slice(0, 12).join(', ')}${near.length > 12 ? ', ...' : ''})` : ''}`;
}

export function evaluateEnsure(checks: readonly EnsureCheck[], vars: Record<string, number>): EnsureResult[] {
  const data: Record<string, number> = {};
  for (const [k, v] of Object.entries(vars)) data[ensureIdentifier(k)] = v;
  return checks.map((check) => {
    const rewritten = rewriteEnsureExpression(check.expression);
    // The figures judged, so a failed check says by how much (Artillery's own says only "fail").
    const values: Record<string, number> = {};
    for (const id of new Set(rewritten.match(/\bm_[A-Za-z0-9_]+/g) ?? [])) {
      const value = data[id];
      if (value !== undefined) values[metricOfIdentifier(id)] = value;
    }
    try {
      const result = compileExpression(rewritten)(data) as unknown;
      if (result instanceof Error)
        return { ...check, passed: false, error: ensureError(result.message, vars), values };
      return { ...check, passed: result === true || result === 1, values };
    } catch (err) {
      return { ...check, passed: false, error: (err as Error).message, values };
    }
  });
}

/** The load profile a forecast scales: only when the capacity gate measured the run. */
function loadProfile(
  input: BuildInput,
  rows: readonly PatternRow[],
  durationSec: number,
): LoadProfile | undefined {
  const d = input.dynamodb;
  if (!input.server || !d?.capacity || !d.keyLoad || !d.keySpread) return undefined;
  const patterns: LoadProfile['patterns'] = [];
  for (const r of rows) {
    const s = input.server.patterns[r.id];
    // Two counts: the demand (each request once, throttled or not: SDK retries are not traffic) sets
    // the mix, and the calls DynamoDB answered set what a call costs (a throttled attempt costs
    // nothing). Answered calls alone understated a throttled pattern's share of the traffic.
    const answered = s?.answered ?? s?.count ?? 0;
    if (!s || answered === 0) continue;
    const calls = Math.max(answered, s.count - (s.retries ?? 0));
    patterns.push({ id: r.id, calls, answered, capacity: s.capacity });
  }
  const requests = Object.values(input.client.byName).reduce((n, c) => n + c.requests, 0);
  return { requests, durationSec, patterns, keys: d.keyLoad, keySpread: d.keySpread, capacity: d.capacity };
}

/**
 * When every request of the run failed: its main cause in one line ("401 x1000 on getUser"), the
 * most frequent answer first; or when none was sent because its virtual users failed first (a
 * processor function that throws, a request with no URL). A run like that never passes, whatever
 * its thresholds say: with no request, every per-pattern threshold has nothing to judge.
 */
export function everyRequestFailed(client: ClientResult): string | undefined {
  const names = Object.entries(client.byName);
  const requests = names.reduce((n, [, c]) => n + c.requests, 0);
  const errors = names.reduce((n, [, c]) => n + c.errors, 0);
  if (requests === 0) {
    const failures = Object.entries(client.counters)
      .filter(([k, n]) => k.startsWith('errors.') && n > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (failures.length === 0) {
      // Nothing failed and nothing was sent (arrivalRate 0, a flow of think steps): nothing measured.
      const created = client.counters['vusers.created'] ?? 0;
      return `no request was sent: ${created > 0 ? `its ${created} virtual user(s) made none` : 'the phases started no virtual user'}`;
    }
    const top = failures.slice(0, 3).map(([k, n]) => `${k.slice('errors.'.length)} x${n}`);
    return `no request was sent: the virtual users failed before their first (${top.join(', ')}${failures.length > 3 ? ', ...' : ''})`;
  }
  if (errors < requests) return undefined;
  const causes = names
    .flatMap(([name, c]) => Object.entries(c.codes).map(([code, n]) => ({ name, code, n })))
    .filter((c) => isFailingCode(c.code))
    .sort((a, b) => b.n - a.n || a.name.localeCompare(b.name));
  const top = causes.slice(0, 3).map((c) => `${c.code} x${c.n} on ${c.name}`);
  return `every request failed (${requests}): ${top.join(', ')}${causes.length > 3 ? ', ...' : ''}`;
}

export function buildReport(input: BuildInput): Report {
  const pricing = input.pricing ?? DEFAULT_PRICING;
  const declared = input.declared ?? [];
  const serverIds = Object.entries(input.server?.patterns ?? {})
    .filter(([, s]) => (s?.count ?? 0) > 0)
    .map(([id]) => id);
  const rows = order([...Object.keys(input.client.byName), ...serverIds], declared).map((id) =>
    row(id, input, pricing),
  );
  const started = new Date(input.client.startedAt);
  const ended = new Date(input.client.endedAt);
  const durationSec = round(Math.max(0, (ended.getTime() - started.getTime()) / 1000), 3);
  const load = loadProfile(input, rows, durationSec);
  // A forecast the run's data cannot make (a mix naming a pattern this run never called) is said,
  // not thrown: the run's report must still be written.
  let forecast: Forecast | undefined;
  let forecastError: string | undefined;
  if (input.forecast && load) {
    try {
      forecast = forecastOf(load, input.forecast);
    } catch (err) {
      if (!(err instanceof ForecastError)) throw err;
      forecastError = `no forecast: ${err.message}`;
    }
  } else if (input.forecast)
    forecastError = 'no forecast: the DynamoDB side was not measured by the capacity gate';
  const thresholdResults = evaluateThresholds(
    rows,
    input.thresholds,
    input.server !== undefined,
    forecast ?? forecastError,
  );
  const ensureVars = ensureVariables(input.client, durationSec);
  const ensure = evaluateEnsure(input.ensure, ensureVars);
  // A run that did not complete and sent nothing has its own reason (`error`): "no request was
  // sent" would lead the summaries with the symptom instead.
  const sent = Object.values(input.client.byName).some((c) => c.requests > 0);
  const allFailed = input.partial && !sent ? undefined : everyRequestFailed(input.client);
  const artilleryErrors = Object.fromEntries(
    Object.entries(input.client.counters)
      .filter(([k, n]) => k.startsWith('errors.') && n > 0)
      .map(([k, n]) => [k.slice('errors.'.length), n]),
  );
  const passed =
    !input.partial &&
    allFailed === undefined &&
    thresholdResults.every((t) => t.passed) &&
    ensure.every((e) => e.passed || !e.strict);
  const dynamodbSource = input.server !== undefined ? (input.sources?.dynamodb ?? 'measured') : null;
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
    ...(input.project ? { project: input.project } : {}),
    sources: { client: input.sources?.client ?? "Artillery's engine", dynamodb: dynamodbSource },
    ...(dynamodbSource === null
      ? {
          notMeasured:
            input.notMeasured ??
            'DynamoDB side not measured (no capacity gate or CloudWatch source): capacity, throttles and retries are unknown',
        }
      : {}),
    patterns: rows,
    // Unmeasured is null, as a figure is: an empty list would read as "no table was touched".
    // From the table view (the gate's, or CloudWatch's even when the app published no pattern metrics).
    tables: input.dynamodb ? input.dynamodb.tables : null,
    hotKeys: input.dynamodb
      ? input.dynamodb.hotKeys.filter(
          (k) => (k.rcu ?? 0) + (k.wcu ?? 0) + (k.accesses ?? 0) + k.throttleEvents > 0,
        )
      : null,
    ...(input.dynamodb?.hotKeysNotMeasured ? { hotKeysNotMeasured: input.dynamodb.hotKeysNotMeasured } : {}),
    thresholds: thresholdResults,
    ensure,
    ...(load ? { load } : {}),
    ...(forecast ? { forecast } : {}),
    ...(forecastError ? { forecastError } : {}),
    ...(allFailed ? { allFailed } : {}),
    ...((input.client.counters['vusers.skipped'] ?? 0) > 0
      ? { vusersSkipped: input.client.counters['vusers.skipped'] }
      : {}),
    ...(Object.keys(artilleryErrors).length > 0 ? { errors: artilleryErrors } : {}),
    artillery: artilleryAggregate(input.client, ensureVars),
    ...(input.timeline ? { timeline: input.timeline } : {}),
  };
}
