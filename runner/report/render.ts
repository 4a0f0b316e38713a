import { isFailingCode } from '../engine/client-stats.js';
import type { EnsureResult, PatternRow, Report, ThresholdResult } from './types.js';

/** Console table, JUnit XML and Markdown views of one report. A figure not measured is shown as –. */
export const UNKNOWN = '–';
const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined ? UNKNOWN : Number.isInteger(n) ? String(n) : n.toFixed(digits);

/** What a row is: a pattern and a request of the same name, a pattern only, or a request only. */
export function rowLabel(r: PatternRow): string {
  if (!r.pattern) return `${r.id} (not a pattern)`;
  if (r.source === 'auto') return `${r.id} (auto)`;
  return r.id;
}

const COLUMNS: [string, (r: PatternRow) => string][] = [
  ['pattern', rowLabel],
  ['reqs', (r) => String(r.requests)],
  ['err%', (r) => (r.errorRate === null ? UNKNOWN : (r.errorRate * 100).toFixed(1))],
  ['p50', (r) => fmt(r.latencyMs?.p50)],
  ['p95', (r) => fmt(r.latencyMs?.p95)],
  ['p99', (r) => fmt(r.latencyMs?.p99)],
  ['ddb p99', (r) => fmt(r.serverLatencyMs?.p99)],
  ['calls', (r) => fmt(r.calls)],
  ['RCU/call', (r) => fmt(r.rcuPerRequest, 2)],
  ['WCU/call', (r) => fmt(r.wcuPerRequest, 2)],
  ['thr', (r) => fmt(r.throttleEvents)],
  ['retries', (r) => fmt(r.retries)],
  ['$/1M', (r) => (r.costPerMillionUsd === null ? UNKNOWN : r.costPerMillionUsd.toFixed(3))],
];

/** `shop` or `shop/GSI1`. */
export function targetName(t: { table: string; index: string | null }): string {
  return t.index ? `${t.table}/${t.index}` : t.table;
}

export function textTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r, k) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .concat(k === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : ''),
    )
    .join('\n');
}

/** What the run was against: a run that never started has no target. */
export const targetOf = (report: Report) => report.target || '(no target: the run did not start)';

export function describeThreshold(t: ThresholdResult): string {
  return `${t.pattern}: ${t.metric} ${t.op} ${t.value} (actual ${t.actual === null ? (t.note ?? 'no data') : fmt(t.actual, 3)})`;
}

/** The figures an ensure check judged, and why it could not be judged, if so ('' when neither). */
function ensureDetail(e: EnsureResult): string {
  const figures = Object.entries(e.values ?? {}).map(([metric, v]) => `${metric} = ${fmt(v, 3)}`);
  return [...figures, ...(e.error ? [e.error] : [])].join('; ');
}

/** An ensure check as written, with its detail (above) in brackets. */
export function describeEnsure(e: EnsureResult): string {
  const detail = ensureDetail(e);
  return `${e.expression}${detail ? ` (${detail})` : ''}`;
}

/** Per request name, each failing code (and failed expectation) with its count and samples. */
export function errorRows(
  report: Report,
): { name: string; code: string; n: number; samples: string[]; sample: string | undefined }[] {
  const rows = report.patterns.flatMap((r) => [
    ...Object.entries(r.codes ?? {})
      .filter(([code]) => isFailingCode(code))
      .map(([code, n]) => ({ name: r.id, code, n })),
    ...Object.entries(r.failedExpectations ?? {}).map(([type, n]) => ({
      name: r.id,
      code: `expect.${type}`,
      n,
    })),
  ]);
  rows.sort((a, b) => b.n - a.n || a.name.localeCompare(b.name));
  return rows.map((e) => {
    const samples = report.patterns.find((r) => r.id === e.name)?.errorSamples?.[e.code] ?? [];
    return { ...e, samples, sample: samples[0] };
  });
}

/** Failing answers per request name, most frequent first: "me: 401 x1000 (HTTP 401: {...})". */
export function topErrors(report: Report, limit = 5): string[] {
  const rows = errorRows(report);
  const lines = rows
    .slice(0, limit)
    .map((e) => `${e.name}: ${e.code} x${e.n}${e.sample ? ` (${e.sample.slice(0, 120)})` : ''}`);
  for (const [code, n] of Object.entries(report.errors ?? {}))
    if (!rows.some((r) => r.code === code)) lines.push(`(run) ${code} x${n}`);
  return lines;
}

export function renderConsole(report: Report): string {
  const out: string[] = [];
  out.push(
    `scenario ${report.scenario}${report.project ? ` (project ${report.project.name})` : ''} against ${targetOf(report)}: ${report.durationSec.toFixed(1)} s`,
  );
  out.push(
    'latency in ms (p50..p99: client, time to first byte; ddb p99: DynamoDB side); capacity per DynamoDB call; $ per million calls',
  );
  out.push(textTable([COLUMNS.map(([h]) => h), ...report.patterns.map((r) => COLUMNS.map(([, f]) => f(r)))]));
  const errors = topErrors(report);
  if (errors.length > 0) out.push(`errors: ${errors.join('; ')}`);
  if (report.vusersSkipped)
    out.push(
      `skipped: ${report.vusersSkipped} arrival(s) started no virtual user (a phase's maxVusers was reached)`,
    );
  if (report.notMeasured) out.push(`${UNKNOWN}: ${report.notMeasured}`);
  else if (report.sources?.dynamodb) out.push(`DynamoDB side: ${report.sources.dynamodb}`);
  const tables = report.tables ?? [];
  if (tables.length > 0) {
    out.push('');
    out.push(
      `consumed capacity: ${tables
        .filter((t) => t.index === null || t.consumedRcu + t.consumedWcu > 0)
        .map((t) => `${targetName(t)} ${fmt(t.consumedRcu, 1)} RCU / ${fmt(t.consumedWcu, 1)} WCU`)
        .join(', ')}`,
    );
  }
  for (const t of tables) {
    const events = (t.readThrottleEvents ?? 0) + (t.writeThrottleEvents ?? 0);
    if (events > 0) {
      const reasons = Object.entries(t.throttleReasons)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      out.push(
        `throttled: ${targetName(t)} ${t.readThrottleEvents} reads, ${t.writeThrottleEvents} writes (${reasons})`,
      );
    }
  }
  const hot = (report.hotKeys ?? []).slice(0, 3);
  if (hot.length > 0) {
    out.push(
      `hot keys: ${hot
        .map(
          (k) =>
            `${k.partitionKey} on ${targetName(k)} (${k.rcu === null && k.wcu === null ? `${fmt(k.accesses)} accesses` : `${fmt(k.rcu, 1)} RCU, ${fmt(k.wcu, 1)} WCU`}, ${k.throttleEvents} throttles)`,
        )
        .join('; ')}`,
    );
  }
  if (report.hotKeysNotMeasured) out.push(`${UNKNOWN}: ${report.hotKeysNotMeasured}`);
  out.push(
    `prices: on-demand ${report.pricing.region}, $${report.pricing.readPerMillionUsd}/M reads, $${report.pricing.writePerMillionUsd}/M writes`,
  );
  if (report.forecast)
    out.push(
      `forecast at ${report.forecast.rate} requests/s: ${report.forecast.verdict} (details: loadtest forecast <report.json>)`,
    );
  else if (report.forecastError) out.push(report.forecastError);
  out.push('');
  for (const t of report.thresholds.filter((x) => !x.passed))
    out.push(`FAILED threshold ${describeThreshold(t)}`);
  for (const e of report.ensure.filter((x) => !x.passed)) {
    out.push(`${e.strict ? 'FAILED' : 'warning:'} ensure ${describeEnsure(e)}`);
  }
  for (const w of report.workers.filter((x) => x.status !== 'ok'))
    out.push(`worker ${w.worker} ${w.status}${w.error ? `: ${w.error.split('\n')[0]}` : ''}`);
  if (report.partial) out.push(`PARTIAL: ${report.error ?? 'the run did not complete'}`);
  const checks = report.thresholds.length + report.ensure.length;
  const failed =
    report.thresholds.filter((t) => !t.passed).length +
    report.ensure.filter((e) => !e.passed && e.strict).length;
  out.push(
    report.passed
      ? `PASSED: ${checks} check(s)`
      : report.partial
        ? 'INCOMPLETE: the run did not finish'
        : report.allFailed
          ? `FAILED: ${report.allFailed}`
          : `FAILED: ${failed} of ${checks} check(s)`,
  );
  return out.join('\n');
}

const xml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

export function renderJUnit(report: Report): string {
  const cases: string[] = [];
  for (const t of report.thresholds) {
    const name = `${t.metric} ${t.op} ${t.value}`;
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}.${t.pattern}`)}" name="${xml(name)}">` +
        (t.passed ? '' : `<failure message="${xml(describeThreshold(t))}" type="threshold"/>`) +
        '</testcase>',
    );
  }
  for (const e of report.ensure) {
    // A failed non-strict check does not fail the run, as in Artillery: a passing case that says so.
    const verdict = e.passed
      ? ''
      : e.strict
        ? `<failure message="${xml(`ensure ${describeEnsure(e)}`)}" type="ensure"/>`
        : `<system-out>${xml(`warning: ensure ${describeEnsure(e)} failed (not strict: the run does not fail on it)`)}</system-out>`;
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}.ensure`)}" name="${xml(e.expression)}">${verdict}</testcase>`,
    );
  }
  if (report.partial) {
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}`)}" name="run completed"><error message="${xml(report.error ?? 'partial run')}" type="partial"/></testcase>`,
    );
  }
  if (report.allFailed) {
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}`)}" name="some request succeeded"><failure message="${xml(report.allFailed)}" type="all-failed"/></testcase>`,
    );
  }
  const errorLines = topErrors(report, 20);
  const failures =
    report.thresholds.filter((t) => !t.passed).length +
    report.ensure.filter((e) => !e.passed && e.strict).length +
    (report.allFailed ? 1 : 0);
  // What went wrong, per request name: JUnit's place for a suite's output.
  const systemOut =
    errorLines.length > 0 ? [`    <system-out>${xml(`errors:\n${errorLines.join('\n')}`)}</system-out>`] : [];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="loadtest" tests="${cases.length}" failures="${failures}" errors="${report.partial ? 1 : 0}">`,
    `  <testsuite name="${xml(`loadtest ${report.scenario}`)}" tests="${cases.length}" failures="${failures}" errors="${report.partial ? 1 : 0}" time="${report.durationSec}" timestamp="${report.startedAt}">`,
    ...cases,
    ...systemOut,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Text in a Markdown table cell or list item as it is: no HTML, emphasis, link or cell break. */
const mdText = (s: string) => s.replace(/[\\`*_[\]<>|&~]/g, '\\$&');

/** A code span in a table cell: a | would still end the cell, and a ` the span. */
const mdCode = (s: string) => {
  const text = s.replace(/\|/g, '\\|');
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
};

export function renderMarkdown(report: Report): string {
  const head = [
    'pattern',
    'requests',
    'errors',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'ddb p99 ms',
    'calls',
    'RCU/call',
    'WCU/call',
    'throttles',
    'retries',
    '$/1M calls',
  ];
  const lines = [
    `### Load test ${mdCode(report.scenario)}: ${report.passed ? 'passed' : report.partial ? 'incomplete' : 'FAILED'}`,
    '',
    `${report.durationSec.toFixed(1)} s against ${mdText(targetOf(report))}, on-demand prices ${mdText(report.pricing.region)}.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...report.patterns.map(
      (r) =>
        `| ${r.pattern ? `${mdCode(r.id)}${r.source === 'auto' ? ' _(auto)_' : ''}` : `${mdText(r.id)} _(not a pattern)_`} | ${r.requests} | ${r.errors} | ${fmt(r.latencyMs?.p50)} | ${fmt(r.latencyMs?.p95)} | ${fmt(r.latencyMs?.p99)} | ${fmt(r.serverLatencyMs?.p99)} | ${fmt(r.calls)} | ${fmt(r.rcuPerRequest, 2)} | ${fmt(r.wcuPerRequest, 2)} | ${fmt(r.throttleEvents)} | ${fmt(r.retries)} | ${r.costPerMillionUsd === null ? UNKNOWN : r.costPerMillionUsd.toFixed(3)} |`,
    ),
    '',
    ...(report.notMeasured ? [`${UNKNOWN} ${mdText(report.notMeasured)}`, ''] : []),
    ...(report.forecast
      ? [`**Forecast at ${report.forecast.rate} requests/s:** ${mdText(report.forecast.verdict)}`, '']
      : []),
  ];
  if (report.allFailed) lines.push(`**FAILED:** ${mdText(report.allFailed)}`, '');
  const errors = topErrors(report, 10);
  if (errors.length > 0) lines.push('**Errors**', '', ...errors.map((e) => `- ${mdText(e)}`), '');
  const failed = report.thresholds.filter((t) => !t.passed);
  if (failed.length > 0) {
    lines.push('**Failed thresholds**', '', ...failed.map((t) => `- ${mdText(describeThreshold(t))}`), '');
  }
  for (const e of report.ensure.filter((x) => !x.passed))
    lines.push(
      `- ensure ${mdCode(e.expression)} ${e.strict ? 'failed' : '(warning)'}${ensureDetail(e) ? `: ${mdText(ensureDetail(e))}` : ''}`,
    );
  if (report.partial) lines.push(`**Partial run:** ${mdText(report.error ?? 'did not complete')}`, '');
  return `${lines.join('\n')}\n`;
}
