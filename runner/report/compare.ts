import { isFailingCode } from '../engine/client-stats.js';
import type { PatternRow, Report } from './types.js';

/** Per-pattern deltas between two reports; a regression is a rise past the allowed percentage. */
export interface Delta {
  pattern: string;
  /** `error <code>`: a failing code the base report did not have for this request name. */
  metric: 'p99' | 'rcuPerRequest' | 'wcuPerRequest' | `error ${string}`;
  base: number | null;
  current: number | null;
  changePct: number | null;
  regression: boolean;
  /** The pattern is not in the new report at all. */
  missing?: true;
  /** A p99 past the percentage by less than the floor in milliseconds: noise, not a regression. */
  withinFloor?: true;
}

/**
 * The p99 of each report, from the same side: the client's, or the DynamoDB side's for a row with no
 * client side in the base (a pattern no request is named after). A client p99 is never compared with
 * a DynamoDB one: a row that lost its client side is not measured now.
 */
function p99s(b: PatternRow, c: PatternRow | undefined): [number | null, number | null] {
  if (b.latencyMs) return [b.latencyMs.p99, c?.latencyMs?.p99 ?? null];
  if (b.serverLatencyMs) return [b.serverLatencyMs.p99, c?.serverLatencyMs?.p99 ?? null];
  return [null, c?.latencyMs?.p99 ?? c?.serverLatencyMs?.p99 ?? null];
}

/**
 * `minP99Ms`: a p99 regresses only when it also rose by more than this many milliseconds. A p99 of a
 * short CI run is one of its slowest few requests: on a busy runner two runs of the same code differ
 * by a few milliseconds, which on a 3 ms p99 is +90 %; capacity per call is exact, with no floor.
 */
export function compareReports(
  base: Report,
  current: Report,
  maxRegressionPct: number,
  minP99Ms = 0,
): Delta[] {
  const deltas: Delta[] = [];
  const now = new Map(current.patterns.map((r) => [r.id, r]));
  for (const b of base.patterns) {
    const c = now.get(b.id);
    for (const metric of ['p99', 'rcuPerRequest', 'wcuPerRequest'] as const) {
      const [bv, cv] = metric === 'p99' ? p99s(b, c) : [b[metric], c ? c[metric] : null];
      if (bv === null && cv === null) continue;
      let changePct: number | null = null;
      // Measured before and not now (the pattern gone, the DynamoDB side not measured): the gate can
      // no longer say it did not rise, so it does not pass.
      let regression = bv !== null && cv === null;
      let withinFloor = false;
      if (bv !== null && cv !== null) {
        if (bv > 0) changePct = ((cv - bv) / bv) * 100;
        regression = bv > 0 ? cv > bv * (1 + maxRegressionPct / 100) : cv > 0 && metric !== 'p99';
        if (regression && metric === 'p99' && cv - bv <= minP99Ms) {
          regression = false;
          withinFloor = true;
        }
      }
      deltas.push({
        pattern: b.id,
        metric,
        base: bv,
        current: cv,
        changePct,
        regression,
        ...(c ? {} : { missing: true }),
        ...(withinFloor ? { withinFloor: true } : {}),
      });
    }
  }
  // A failing code (401, ETIMEDOUT, ...) the base did not have: something new went wrong.
  const failing = (r: PatternRow | undefined) =>
    Object.entries(r?.codes ?? {}).filter(([code, n]) => n > 0 && isFailingCode(code));
  const before = new Map(base.patterns.map((r) => [r.id, r]));
  for (const c of current.patterns) {
    const had = new Set(failing(before.get(c.id)).map(([code]) => code));
    for (const [code, n] of failing(c)) {
      if (had.has(code)) continue;
      deltas.push({
        pattern: c.id,
        metric: `error ${code}`,
        base: 0,
        current: n,
        changePct: null,
        regression: true,
      });
    }
  }
  return deltas;
}

export function renderDeltas(deltas: readonly Delta[], maxRegressionPct: number, minP99Ms = 0): string {
  const fmt = (n: number | null) => (n === null ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(3));
  const rows = deltas.map((d) => [
    d.pattern,
    d.metric,
    fmt(d.base),
    fmt(d.current),
    d.changePct === null ? '-' : `${d.changePct >= 0 ? '+' : ''}${d.changePct.toFixed(1)}%`,
    d.missing
      ? 'MISSING in new report'
      : d.current === null && d.base !== null
        ? 'NOT MEASURED in new report'
        : d.regression
          ? d.metric.startsWith('error ')
            ? 'NEW ERROR'
            : `REGRESSION (> ${maxRegressionPct}%)`
          : d.withinFloor
            ? `within ${minP99Ms} ms (--min-p99-ms)`
            : '',
  ]);
  const head = ['pattern', 'metric', 'base', 'new', 'change', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
