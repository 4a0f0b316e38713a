import {
  dashboardDefinition,
  html,
  localCharts,
  renderPage,
  type SafeHtml,
  type ThresholdLine,
} from '../../dashboards/index.js';
import type { ThresholdMetric, ThresholdOp } from '../scenario/thresholds.js';
import { errorRows, targetName, targetOf, UNKNOWN } from './render.js';
import type { PatternRow, Report, ThresholdResult } from './types.js';

/**
 * Renderer 2 for a finished run: one self-contained HTML file (uPlot inlined, no network) with the
 * dashboard's rows over the run's timeline, the threshold verdicts, the per-pattern table, capacity and
 * throttle reasons per table/GSI, and the hot keys. Every string of the report is escaped: pattern
 * names come from users' scenarios.
 */
const fmt = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined ? UNKNOWN : Number.isInteger(n) ? String(n) : n.toFixed(digits);

export function verdictOf(report: Report): 'passed' | 'failed' | 'incomplete' {
  return report.partial ? 'incomplete' : report.passed ? 'passed' : 'failed';
}

/** Failed ones first: they are what a reader opens the report for. */
function thresholdRows(all: readonly ThresholdResult[]): SafeHtml {
  const thresholds = [...all].sort((a, b) => Number(a.passed) - Number(b.passed));
  if (thresholds.length === 0) return html`<p class="muted">No thresholds in this scenario.</p>`;
  return html`<table id="thresholds">
<thead><tr><th>pattern</th><th class="text">threshold</th><th>actual</th><th>verdict</th></tr></thead>
<tbody>${thresholds.map(
    (
      t,
    ) => html`<tr class="threshold" data-pattern="${t.pattern}" data-metric="${t.metric}" data-op="${t.op}" data-value="${t.value}" data-passed="${t.passed}">
<td><code>${t.pattern}</code></td><td class="text"><code>${t.metric} ${t.op} ${t.value}</code></td><td>${t.actual === null ? (t.note ?? 'no data') : fmt(t.actual, 3)}</td><td class="verdict ${t.passed ? 'pass' : 'fail'}">${t.passed ? 'PASS' : 'FAIL'}</td></tr>
`,
  )}</tbody></table>`;
}

function ensureRows(report: Report): SafeHtml {
  if (report.ensure.length === 0) return html``;
  return html`<h3>Artillery <code>ensure</code></h3><table id="ensure">
<thead><tr><th class="text">expression</th><th>strict</th><th>verdict</th></tr></thead>
<tbody>${report.ensure.map(
    (e) =>
      html`<tr data-passed="${e.passed}"><td class="text"><code>${e.expression}</code>${Object.entries(e.values ?? {}).map(([m, v]) => html` <span class="figure">${m} = ${fmt(v, 3)}</span>`)}${e.error ? html` <span class="error">${e.error}</span>` : ''}</td><td>${e.strict ? 'yes' : 'no'}</td><td class="verdict ${e.passed ? 'pass' : 'fail'}">${e.passed ? 'PASS' : e.strict ? 'FAIL' : 'WARN'}</td></tr>
`,
  )}</tbody></table>`;
}

const PATTERN_COLUMNS: [string, (r: PatternRow) => string | SafeHtml][] = [
  [
    'pattern',
    (r) =>
      r.pattern
        ? html`<code>${r.id}</code>${r.source === 'auto' ? html` <span class="muted">(named by the gate)</span>` : ''}`
        : html`<code>${r.id}</code> <span class="muted">(not a pattern)</span>`,
  ],
  ['requests', (r) => String(r.requests)],
  ['errors', (r) => String(r.errors)],
  ['err %', (r) => (r.errorRate === null ? UNKNOWN : (r.errorRate * 100).toFixed(2))],
  ['p50 ms', (r) => fmt(r.latencyMs?.p50)],
  ['p95 ms', (r) => fmt(r.latencyMs?.p95)],
  ['p99 ms', (r) => fmt(r.latencyMs?.p99)],
  ['max ms', (r) => fmt(r.latencyMs?.max)],
  ['ddb p50', (r) => fmt(r.serverLatencyMs?.p50)],
  ['ddb p95', (r) => fmt(r.serverLatencyMs?.p95)],
  ['ddb p99', (r) => fmt(r.serverLatencyMs?.p99)],
  ['calls', (r) => fmt(r.calls)],
  ['RCU', (r) => fmt(r.rcu, 1)],
  ['WCU', (r) => fmt(r.wcu, 1)],
  ['RCU/call', (r) => fmt(r.rcuPerRequest, 2)],
  ['WCU/call', (r) => fmt(r.wcuPerRequest, 2)],
  ['throttle events', (r) => fmt(r.throttleEvents)],
  ['throttled reqs', (r) => fmt(r.throttledRequests)],
  ['retries', (r) => fmt(r.retries)],
  ['$/1M calls', (r) => (r.costPerMillionUsd === null ? UNKNOWN : r.costPerMillionUsd.toFixed(3))],
];

function patternTable(report: Report): SafeHtml {
  return html`<table id="patterns">
<thead><tr>${PATTERN_COLUMNS.map(([h]) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${report.patterns.map(
    (r) => html`<tr data-pattern="${r.id}">${PATTERN_COLUMNS.map(([, f]) => html`<td>${f(r)}</td>`)}</tr>
`,
  )}</tbody></table>
${report.notMeasured ? html`<p class="not-measured" id="not-measured">${UNKNOWN} ${report.notMeasured}</p>` : ''}
<p class="muted">Latency in ms: client = time to first byte seen by the load generator, ddb = the DynamoDB side (the capacity gate's round trip, or the app's on AWS). Capacity in DynamoDB units, per DynamoDB call of the pattern; $ per million calls at on-demand prices (${report.pricing.region}: $${report.pricing.readPerMillionUsd}/M reads, $${report.pricing.writePerMillionUsd}/M writes). ${UNKNOWN} = not measured.</p>`;
}

function capacityTable(report: Report): SafeHtml {
  if (!report.tables || report.tables.length === 0)
    return html`<p class="muted">No table metrics: ${report.notMeasured ?? 'none were measured'}.</p>`;
  return html`<table id="tables">
<thead><tr><th>table</th><th>index</th><th>consumed RCU</th><th>consumed WCU</th><th>read throttles</th><th>write throttles</th><th class="text">throttle reasons</th></tr></thead>
<tbody>${report.tables.map((t) => {
    const reasons = Object.entries(t.throttleReasons);
    return html`<tr data-index="${targetName(t)}"><td><code>${t.table}</code></td><td>${t.index ?? '(table)'}</td><td>${fmt(t.consumedRcu, 1)}</td><td>${fmt(t.consumedWcu, 1)}</td><td>${t.readThrottleEvents ?? 'not measured'}</td><td>${t.writeThrottleEvents ?? 'not measured'}</td><td class="text throttle-reasons">${
      reasons.length === 0
        ? html`<span class="muted">none</span>`
        : reasons.map(([reason, n], i) => html`${i > 0 ? ', ' : ''}<code>${reason}</code> ${n}`)
    }</td></tr>
`;
  })}</tbody></table>`;
}

function hotKeyTable(report: Report): SafeHtml {
  const note = report.hotKeysNotMeasured
    ? html`<p class="not-measured" id="hot-keys-not-measured">${UNKNOWN} ${report.hotKeysNotMeasured}</p>`
    : html``;
  if (!report.hotKeys || report.hotKeys.length === 0) {
    return html`<p class="muted" id="hot-keys">No partition-key counts (they come from the capacity gate, or Contributor Insights on AWS).</p>${note}`;
  }
  // Contributor Insights counts requests per key, the gate capacity: a column only when some row has it.
  const hotKeys = report.hotKeys;
  const accesses = hotKeys.some((k) => k.accesses !== undefined);
  return html`<table id="hot-keys">
<thead><tr><th class="text">partition key</th><th>table</th><th>index</th><th>RCU</th><th>WCU</th>${accesses ? html`<th>accesses</th>` : ''}<th>throttle events</th></tr></thead>
<tbody>${hotKeys.map(
    (k) =>
      html`<tr><td class="text"><code>${k.partitionKey}</code></td><td><code>${k.table}</code></td><td>${k.index ?? '(table)'}</td><td>${fmt(k.rcu, 1)}</td><td>${fmt(k.wcu, 1)}</td>${accesses ? html`<td>${fmt(k.accesses, 0)}</td>` : ''}<td>${k.throttleEvents}</td></tr>
`,
  )}</tbody></table>${note}`;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

/**
 * The forecast: per pattern, the share of its first limit it uses as the request rate grows (a line
 * through the origin reaching 100 % at the rate where it throttles), the forecast's rate marked; then
 * the per-pattern figures and the verdict. Inline SVG: the report stays one file with no network.
 */
function forecastSection(report: Report): SafeHtml {
  const f = report.forecast;
  if (!f) return html``;
  const limited = f.patterns.filter((p) => p.maxRate !== null);
  const xMax = Math.max(f.rate, f.maxRate ?? 0) * 1.25;
  const [w, h, left, bottom, top] = [720, 300, 56, 36, 12];
  const x = (rate: number) => left + ((w - left - 12) * rate) / xMax;
  const yTop = 150;
  const y = (pct: number) => top + (h - top - bottom) * (1 - Math.min(pct, yTop) / yTop);
  const lines = limited.map((p, i) => {
    const maxRate = p.maxRate ?? 1;
    // Utilisation is linear in the rate: 100 % at maxRate; clipped at the top of the chart.
    const end = Math.min(xMax, (maxRate * yTop) / 100);
    return html`<polyline class="forecast-line" data-pattern="${p.id}" fill="none" stroke="${PALETTE[i % PALETTE.length] ?? '#000'}" stroke-width="2" points="${x(0).toFixed(1)},${y(0).toFixed(1)} ${x(end).toFixed(1)},${y((100 * end) / maxRate).toFixed(1)}"/>`;
  });
  // Round ticks: a step of 1, 2 or 5 times a power of ten, about four of them.
  const raw = xMax / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks = Array.from({ length: Math.floor(xMax / step) + 1 }, (_, i) => i * step);
  const chart = html`<svg id="forecast-chart" viewBox="0 0 ${w} ${h}" width="${w}" role="img" aria-label="share of each pattern's first limit used, by request rate">
<line x1="${left}" y1="${y(0)}" x2="${w - 12}" y2="${y(0)}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${y(0)}" stroke="#888"/>
<line x1="${left}" y1="${y(100)}" x2="${w - 12}" y2="${y(100)}" stroke="#d62728" stroke-dasharray="6 4"/><text x="${left + 4}" y="${y(100) - 4}" font-size="11" fill="#d62728">100 %: throttling</text>
<line x1="${x(f.rate)}" y1="${top}" x2="${x(f.rate)}" y2="${y(0)}" stroke="#555" stroke-dasharray="2 3"/><text x="${x(f.rate) + 4}" y="${top + 10}" font-size="11">forecast ${Math.round(f.rate)} rps</text>
${[0, 50, 100, 150].map((pct) => html`<text x="${left - 6}" y="${y(pct) + 4}" font-size="11" text-anchor="end">${pct}%</text>`)}
${ticks.map((r) => html`<text x="${x(r)}" y="${h - bottom + 16}" font-size="11" text-anchor="middle">${Math.round(r).toLocaleString('en-US')}</text>`)}
<text x="${(left + w) / 2}" y="${h - 4}" font-size="11" text-anchor="middle">client requests a second</text>
${lines}
</svg>
<p>${limited.map((p, i) => html`<svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${PALETTE[i % PALETTE.length] ?? '#000'}"/></svg> <code>${p.id}</code> throttles at ${Math.round(p.maxRate ?? 0).toLocaleString('en-US')} rps &nbsp; `)}</p>`;
  const limitOf = (i: number | null) => (i === null ? undefined : f.limits[i]);
  return html`<h2>Forecast at ${f.rate} requests/s</h2>
<p id="forecast-verdict"><strong>${f.verdict}</strong></p>
${chart}
<table id="forecast">
<thead><tr><th>pattern</th><th>mix</th><th>calls/s</th><th class="text">busiest key</th><th>throttles at (rps)</th><th class="text">first limit</th><th>headroom</th></tr></thead>
<tbody>${f.patterns.map((p) => {
    const l = limitOf(p.firstLimit);
    return html`<tr data-pattern="${p.id}"><td><code>${p.id}</code></td><td>${((f.mix[p.id] ?? 0) * 100).toFixed(1)}%</td><td>${fmt(p.callsPerSecond, 1)}</td><td class="text">${p.busiestKey ? html`<code>${p.busiestKey.partitionKey}</code> ${Math.round(p.busiestKey.share * 100)}% of ${p.busiestKey.keys}` : UNKNOWN}</td><td>${p.maxRate === null ? 'never' : Math.round(p.maxRate).toLocaleString('en-US')}</td><td class="text">${l ? html`<code>${l.reason}</code> on ${targetName(l)}${l.partitionKey !== null ? html` key <code>${l.partitionKey}</code>` : ''}: ${l.limit}` : UNKNOWN}</td><td class="verdict ${p.throttles ? 'fail' : 'pass'}">${p.headroom === null ? UNKNOWN : `${p.headroom.toFixed(2)}x`}</td></tr>
`;
  })}</tbody></table>
<p class="muted">Monthly cost at that rate: on-demand $${f.cost.onDemandMonthlyUsd}, provisioned $${f.cost.provisionedMonthlyUsd} (at ${Math.round(f.cost.utilization * 100)} % utilisation; ${f.cost.region} prices). Assumes: ${f.assumptions.join('; ')}.${f.notes.length > 0 ? ` Notes: ${f.notes.join('; ')}.` : ''}</p>`;
}

/** What went wrong, per request name: each failing code, its count and up to three samples. */
function errorTable(report: Report): SafeHtml {
  const rows = errorRows(report);
  const run = Object.entries(report.errors ?? {});
  if (rows.length === 0 && run.length === 0) return html``;
  return html`<h2>Errors</h2>${report.allFailed ? html`<p class="error" id="all-failed">${report.allFailed}</p>` : ''}
<table id="errors">
<thead><tr><th>request</th><th>code</th><th>count</th><th class="text">samples</th></tr></thead>
<tbody>${rows.map(
    (e) =>
      html`<tr data-name="${e.name}" data-code="${e.code}"><td><code>${e.name}</code></td><td>${e.code}</td><td>${e.n}</td><td class="text">${e.samples.map((m, i) => html`${i > 0 ? html`<br>` : ''}<code>${m}</code>`)}</td></tr>
`,
  )}${run.map(
    ([code, n]) =>
      html`<tr data-name="(run)" data-code="${code}"><td class="muted">(whole run)</td><td>${code}</td><td>${n}</td><td class="text muted">Artillery's errors.${code}</td></tr>
`,
  )}</tbody></table>`;
}

function workerNotes(report: Report): SafeHtml {
  const bad = report.workers.filter((w) => w.status !== 'ok');
  return html`${report.partial ? html`<p class="error" id="partial">Partial run: ${report.error ?? 'the run did not complete'}</p>` : ''}${
    bad.length > 0
      ? html`<ul class="error">${bad.map((w) => html`<li>worker ${w.worker} ${w.status}${w.error ? `: ${w.error.split('\n')[0]}` : ''}</li>`)}</ul>`
      : ''
  }`;
}

/** The scenario's thresholds as lines to draw: one per (pattern, metric, op, value) the report judged. */
function thresholdLines(report: Report): ThresholdLine[] {
  const seen = new Map<string, ThresholdLine>();
  for (const t of report.thresholds) {
    const line = {
      pattern: t.pattern,
      metric: t.metric as ThresholdMetric,
      op: t.op as ThresholdOp,
      value: t.value,
    };
    seen.set(`${t.pattern}\u0000${t.metric}\u0000${t.op}\u0000${t.value}`, line);
  }
  return [...seen.values()];
}

export function renderHtml(report: Report): string {
  const verdict = verdictOf(report);
  const tables = new Map<string, string[]>();
  for (const t of report.tables ?? []) {
    const list = tables.get(t.table) ?? [];
    if (t.index) list.push(t.index);
    tables.set(t.table, list);
  }
  const definition = dashboardDefinition({
    tables: [...tables].map(([name, indexes]) => ({ name, indexes })),
    patterns: report.patterns.filter((p) => p.source === 'declared' || p.source === 'rule').map((p) => p.id),
    rows: report.patterns.map((p) => p.id),
    thresholds: thresholdLines(report),
  });
  const rows = localCharts(definition, report.timeline ?? []);
  // Counted as the console and JUnit count them: a non-strict ensure check is a check that only warns.
  const checks = report.thresholds.length + report.ensure.length;
  const failed =
    report.thresholds.filter((t) => !t.passed).length +
    report.ensure.filter((e) => e.strict && !e.passed).length;
  const before = html`<header>
<h1>Load test <code>${report.scenario}</code> <span class="badge ${verdict}" id="verdict" data-verdict="${verdict}">${verdict.toUpperCase()}</span></h1>
<p class="muted">${verdict === 'passed' ? `${checks} check(s) passed` : verdict === 'failed' ? `${failed} of ${checks} check(s) failed` : 'the run did not finish'}</p>
<dl class="meta">
<dt>target</dt><dd><code>${targetOf(report)}</code></dd>
<dt>started</dt><dd>${report.startedAt}</dd>
<dt>ended</dt><dd>${report.endedAt}</dd>
<dt>duration</dt><dd>${report.durationSec.toFixed(1)} s</dd>
<dt>workers</dt><dd>${report.workers.length > 0 ? report.workers.length : 1}</dd>
</dl>
${workerNotes(report)}
</header>
<h2>Thresholds</h2>
${thresholdRows(report.thresholds)}
${ensureRows(report)}
${forecastSection(report)}`;
  const after = html`<h2>Per access pattern</h2>
${patternTable(report)}
${errorTable(report)}
<h2>Capacity and throttles per table and GSI</h2>
${capacityTable(report)}
<h2>Hot keys</h2>
${hotKeyTable(report)}
<p class="muted">Charts: rates are per second, latencies and capacity per request per ${report.timeline?.[1] ? `${report.timeline[1].dt.toFixed(0)} s` : '2 s'} interval, counts marked "run so far" are running totals; red dashed lines are thresholds.</p>`;
  return renderPage({ title: `Load test ${report.scenario}: ${verdict}`, before, after, rows });
}
