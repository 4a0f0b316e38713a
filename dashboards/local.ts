import type { TimelinePoint } from '../runner/report/timeline.js';
import type { DashboardDefinition, LocalSeries, Row } from './definition.js';

/**
 * Renderer 2's core: the dashboard definition evaluated over a run's timeline, as plain chart data
 * (x = seconds since the start, one array per series) that the page draws with uPlot. Pure, so the
 * HTML report and the live dashboard draw exactly the same rows.
 */
export interface ChartSeries {
  readonly label: string;
  readonly dashed: boolean;
}

export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly series: readonly ChartSeries[];
  readonly annotations: readonly { label: string; value: number }[];
  /** uPlot's shape: [x, y1, y2, ...]; null where a series has no value. */
  readonly data: readonly (readonly (number | null)[])[];
}

export interface ChartRow {
  readonly id: string;
  readonly title: string;
  readonly subtitle: string;
  readonly pattern?: string;
  /** Thresholds no chart can show (run totals such as `requests >= 100`), as text. */
  readonly notes: readonly string[];
  readonly charts: readonly Chart[];
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** One value per point for a series; running totals need the points before, so it maps the whole list. */
export function seriesValues(spec: LocalSeries, points: readonly TimelinePoint[]): (number | null)[] {
  switch (spec.of) {
    case 'all':
      return points.map((p) => round(p[spec.field] / p.dt));
    case 'target':
      return points.map((p) => {
        const t = p.targets?.[spec.target];
        const v = t?.[spec.field];
        if (v === undefined) return null;
        return spec.as === 'rate' ? round(v / p.dt) : v;
      });
    case 'pattern': {
      if (spec.as === 'latency') {
        return points.map((p) => {
          const x = p.patterns[spec.pattern];
          const q = spec.side === 'client' ? x?.latencyMs : x?.serverLatencyMs;
          return q ? q[spec.quantile] : null;
        });
      }
      if (spec.as === 'perRequest') {
        return points.map((p) => {
          const x = p.patterns[spec.pattern];
          // Over the calls DynamoDB answered: a throttled attempt consumes nothing (a timeline from
          // before they were counted has only serverRequests).
          const n = x?.serverAnswered ?? x?.serverRequests ?? 0;
          const v = x?.[spec.field];
          return n > 0 && v !== undefined ? round(v / n) : null;
        });
      }
      if (spec.as === 'running') {
        let sum = 0;
        let seen = false;
        return points.map((p) => {
          const v = p.patterns[spec.pattern]?.[spec.field];
          if (v !== undefined) {
            seen = true;
            sum += v;
          }
          return seen ? round(sum) : null;
        });
      }
      let requests = 0;
      let errors = 0;
      return points.map((p) => {
        const x = p.patterns[spec.pattern];
        requests += x?.requests ?? 0;
        errors += x?.errors ?? 0;
        return requests > 0 ? round(errors / requests) : null;
      });
    }
  }
}

function rowCharts(row: Row, points: readonly TimelinePoint[]): ChartRow {
  const x = points.map((p) => p.t);
  const charts: Chart[] = [];
  for (const widget of row.widgets) {
    const drawn = widget.series.flatMap((s) => {
      if (!s.local) return [];
      const values = seriesValues(s.local, points);
      // A series with no value at all (provisioned capacity of an on-demand table, server latency of
      // a name the app does not know) would only be an empty legend entry.
      return values.some((v) => v !== null) ? [{ s, values }] : [];
    });
    if (drawn.length === 0) continue;
    charts.push({
      id: widget.id,
      title: widget.title,
      unit: widget.unit,
      series: drawn.map(({ s }) => ({ label: s.label, dashed: s.dashed ?? false })),
      annotations: widget.annotations.map((a) => ({ label: a.label, value: a.value })),
      data: [x, ...drawn.map(({ values }) => values)],
    });
  }
  return {
    id: row.id,
    title: row.title,
    subtitle: row.subtitle,
    ...(row.pattern ? { pattern: row.pattern } : {}),
    notes: row.thresholds.map((t) => `${t.metric} ${t.op} ${t.value}`),
    charts,
  };
}

/** The header row, then one row per pattern, as chart data over the timeline. */
export function localCharts(def: DashboardDefinition, points: readonly TimelinePoint[]): ChartRow[] {
  return [def.header, ...def.rows].map((row) => rowCharts(row, points));
}
