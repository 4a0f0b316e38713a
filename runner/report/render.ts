import type { PatternRow, Report, ThresholdResult } from './types.js';

/** Console table, JUnit XML and Markdown views of one report. */
const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(digits);

const COLUMNS: [string, (r: PatternRow) => string][] = [
  ['pattern', (r) => (r.pattern ? r.id : `${r.id} (not a pattern)`)],
  ['reqs', (r) => String(r.requests)],
  ['err%', (r) => (r.errorRate * 100).toFixed(1)],
  ['p50', (r) => fmt(r.latencyMs?.p50)],
  ['p95', (r) => fmt(r.latencyMs?.p95)],
  ['p99', (r) => fmt(r.latencyMs?.p99)],
  ['srv p99', (r) => fmt(r.serverLatencyMs?.p99)],
  ['RCU/req', (r) => fmt(r.rcuPerRequest, 2)],
  ['WCU/req', (r) => fmt(r.wcuPerRequest, 2)],
  ['thr', (r) => String(r.throttleEvents)],
  ['retries', (r) => String(r.retries)],
  ['$/1M', (r) => r.costPerMillionUsd.toFixed(3)],
];

function table(rows: string[][]): string {
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

export function describeThreshold(t: ThresholdResult): string {
  return `${t.pattern}: ${t.metric} ${t.op} ${t.value} (actual ${t.actual === null ? 'no data' : fmt(t.actual, 3)})`;
}

export function renderConsole(report: Report): string {
  const out: string[] = [];
  out.push(`scenario ${report.scenario} against ${report.target}: ${report.durationSec.toFixed(1)} s`);
  out.push(
    'latency in ms (client: time to first byte; srv: inside the app); capacity per request; $ per million requests',
  );
  out.push(table([COLUMNS.map(([h]) => h), ...report.patterns.map((r) => COLUMNS.map(([, f]) => f(r)))]));
  if (report.tables.length > 0) {
    out.push('');
    out.push(
      `consumed capacity: ${report.tables
        .filter((t) => t.index === null || t.consumedRcu + t.consumedWcu > 0)
        .map((t) => `${t.index ?? 'table'} ${fmt(t.consumedRcu, 1)} RCU / ${fmt(t.consumedWcu, 1)} WCU`)
        .join(', ')}`,
    );
  }
  for (const t of report.tables) {
    const events = (t.readThrottleEvents ?? 0) + (t.writeThrottleEvents ?? 0);
    if (events > 0) {
      const reasons = Object.entries(t.throttleReasons)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      out.push(
        `throttled: ${t.index ?? 'table'} ${t.readThrottleEvents} reads, ${t.writeThrottleEvents} writes (${reasons})`,
      );
    }
  }
  const hot = report.hotKeys.slice(0, 3);
  if (hot.length > 0) {
    out.push(
      `hot keys: ${hot
        .map(
          (k) =>
            `${k.partitionKey} on ${k.index ?? 'table'} (${fmt(k.rcu, 1)} RCU, ${fmt(k.wcu, 1)} WCU, ${k.throttleEvents} throttles)`,
        )
        .join('; ')}`,
    );
  }
  out.push(
    `prices: on-demand ${report.pricing.region}, $${report.pricing.readPerMillionUsd}/M reads, $${report.pricing.writePerMillionUsd}/M writes`,
  );
  out.push('');
  for (const t of report.thresholds.filter((x) => !x.passed))
    out.push(`FAILED threshold ${describeThreshold(t)}`);
  for (const e of report.ensure.filter((x) => !x.passed)) {
    out.push(`${e.strict ? 'FAILED' : 'warning:'} ensure ${e.expression}${e.error ? ` (${e.error})` : ''}`);
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
    const failedStrict = !e.passed && e.strict;
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}.ensure`)}" name="${xml(e.expression)}">` +
        (failedStrict
          ? `<failure message="${xml(`ensure ${e.expression}${e.error ? `: ${e.error}` : ''}`)}" type="ensure"/>`
          : '') +
        '</testcase>',
    );
  }
  if (report.partial) {
    cases.push(
      `    <testcase classname="${xml(`loadtest.${report.scenario}`)}" name="run completed"><error message="${xml(report.error ?? 'partial run')}" type="partial"/></testcase>`,
    );
  }
  const failures =
    report.thresholds.filter((t) => !t.passed).length +
    report.ensure.filter((e) => !e.passed && e.strict).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="loadtest" tests="${cases.length}" failures="${failures}" errors="${report.partial ? 1 : 0}">`,
    `  <testsuite name="${xml(`loadtest ${report.scenario}`)}" tests="${cases.length}" failures="${failures}" errors="${report.partial ? 1 : 0}" time="${report.durationSec}" timestamp="${report.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function renderMarkdown(report: Report): string {
  const head = [
    'pattern',
    'requests',
    'errors',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'RCU/req',
    'WCU/req',
    'throttles',
    'retries',
    '$/1M req',
  ];
  const lines = [
    `### Load test \`${report.scenario}\`: ${report.passed ? 'passed' : report.partial ? 'incomplete' : 'FAILED'}`,
    '',
    `${report.durationSec.toFixed(1)} s against ${report.target}, on-demand prices ${report.pricing.region}.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...report.patterns.map(
      (r) =>
        `| ${r.pattern ? `\`${r.id}\`` : `${r.id} _(not a pattern)_`} | ${r.requests} | ${r.errors} | ${fmt(r.latencyMs?.p50)} | ${fmt(r.latencyMs?.p95)} | ${fmt(r.latencyMs?.p99)} | ${fmt(r.rcuPerRequest, 2)} | ${fmt(r.wcuPerRequest, 2)} | ${r.throttleEvents} | ${r.retries} | ${r.costPerMillionUsd.toFixed(3)} |`,
    ),
    '',
  ];
  const failed = report.thresholds.filter((t) => !t.passed);
  if (failed.length > 0) {
    lines.push('**Failed thresholds**', '', ...failed.map((t) => `- ${describeThreshold(t)}`), '');
  }
  for (const e of report.ensure.filter((x) => !x.passed))
    lines.push(`- ensure \`${e.expression}\` ${e.strict ? 'failed' : '(warning)'}`);
  if (report.partial) lines.push(`**Partial run:** ${report.error ?? 'did not complete'}`, '');
  return `${lines.join('\n')}\n`;
}
