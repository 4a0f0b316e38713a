/**
 * The contract between bench/index.ts and its sections. A section measures something against a
 * baseline taken in the same run and returns rows; index.ts prints them. No absolute timings are
 * judged anywhere: only ratios, and a missed goal is reported, never fatal.
 */

/** A goal on `ratio = value / baseline`: `>=` when higher is better (throughput), `<=` when lower is (latency). */
export interface Goal {
  readonly op: '>=' | '<=';
  readonly ratio: number;
}

export interface BenchRow {
  /** Section id, filled in by index.ts. */
  readonly section: string;
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: number;
  /** value / baseline (NaN when the baseline is 0). */
  readonly ratio: number;
  readonly goal: Goal;
  /** Goal met; false whenever the row is invalid. */
  readonly met: boolean;
  /** A measurement with errors (non-2xx answers, failed SDK calls) proves nothing. */
  readonly valid: boolean;
  /** Why the row is invalid, plus anything worth reading beside the figure. */
  readonly notes: readonly string[];
  /** Free-form figures for the JSON summary (latencies, counts, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * What a section returns. `ratio` defaults to value / baseline; a section that measures in paired
 * rounds may give the median of the per-round ratios instead (sturdier on a noisy machine).
 */
export type SectionRow = Omit<BenchRow, 'section' | 'ratio' | 'met'> & { readonly ratio?: number };

export interface BenchContext {
  /** Progress lines (stderr), so stdout keeps just the table and the JSON line. */
  readonly log: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: sections stop early and clean up. */
  readonly signal: AbortSignal;
}

export interface BenchSection {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionRow[]>;
}

export function meets(goal: Goal, ratio: number): boolean {
  if (!Number.isFinite(ratio)) return false;
  return goal.op === '>=' ? ratio >= goal.ratio : ratio <= goal.ratio;
}

export function completeRow(section: string, row: SectionRow): BenchRow {
  const ratio = row.ratio ?? (row.baseline === 0 ? Number.NaN : row.value / row.baseline);
  return { section, ...row, ratio, met: row.valid && meets(row.goal, ratio) };
}
