/**
 * `npm run bench`: runs each section in SECTIONS in turn and prints one table of ratios, then one
 * line `BENCH_SUMMARY {json}` for machines.
 *
 * Every figure is a ratio against a baseline measured in the same run on the same machine, so the
 * output compares across machines where absolute timings would not. Goals are shown as met/missed
 * and never fail the process; a row whose measurement saw errors is marked INVALID. The exit code
 * is 0 unless a section crashed (1), or the run was interrupted (130).
 *
 * Adding a section: write bench/<id>.ts exporting a BenchSection (see bench/types.ts) and append it
 * to SECTIONS. `npm run bench -- <id> ...` runs only the named sections.
 */

import { availableParallelism, loadavg } from 'node:os';
import { appThroughput } from './app-throughput.js';
import { RUNS_COMPILED, SOURCES_WHY } from './env.js';
import { gateCost } from './gate-cost.js';
import { importThroughput } from './import-throughput.js';
import { killLoadDrivers } from './load.js';
import { loadEfficiency } from './load-efficiency.js';
import { merge } from './merge.js';
import { scale } from './scale.js';
import { seedThroughput } from './seed-throughput.js';
import { timeToFirstResult } from './time-to-first-result.js';
import { type BenchRow, type BenchSection, completeRow } from './types.js';

const SECTIONS: readonly BenchSection[] = [
  appThroughput,
  timeToFirstResult,
  loadEfficiency,
  gateCost,
  seedThroughput,
  scale,
  merge,
  importThroughput,
];

interface SectionOutcome {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: string;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function pick(args: readonly string[]): BenchSection[] {
  if (args.length === 0) return [...SECTIONS];
  const known = new Map(SECTIONS.map((s) => [s.id, s]));
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length > 0) {
    log(`unknown section(s): ${unknown.join(', ')}; known: ${[...known.keys()].join(', ')}`);
    process.exit(2);
  }
  return args.map((a) => known.get(a) as BenchSection);
}

function num(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: readonly BenchRow[]): string {
  const head = ['section', 'measure', 'value', 'baseline', 'ratio', 'goal', 'verdict', 'notes'];
  const body = rows.map((r) => [
    r.section,
    r.name,
    `${num(r.value)} ${r.unit}`,
    `${num(r.baseline)} ${r.unit}`,
    num(r.ratio, 3),
    `${r.goal.op} ${r.goal.ratio}`,
    !r.valid ? 'INVALID' : r.met ? 'met' : 'MISSED',
    r.notes.join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping (again to force)`);
    controller.abort();
    killLoadDrivers();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Other work on the machine skews every figure: the load averages go in the summary.
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
  log(`load average ${loadBefore.join(' ')} on ${availableParallelism()} cpu(s)`);
  log(
    RUNS_COMPILED
      ? 'the shop and the gate run compiled (dist/ is a build of these sources)'
      : `the shop and the gate run from their sources through tsx (${SOURCES_WHY})`,
  );
  const rows: BenchRow[] = [];
  const outcomes: SectionOutcome[] = [];
  for (const section of pick(process.argv.slice(2))) {
    if (controller.signal.aborted) break;
    const started = performance.now();
    log(`section ${section.id}: ${section.title}`);
    try {
      const got = await section.run({ log: (l) => log(`${section.id}: ${l}`), signal: controller.signal });
      rows.push(...got.map((r) => completeRow(section.id, r)));
      outcomes.push({
        id: section.id,
        title: section.title,
        ok: true,
        seconds: (performance.now() - started) / 1000,
      });
    } catch (err) {
      const error = controller.signal.aborted
        ? 'interrupted'
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
      log(`section ${section.id} ${controller.signal.aborted ? 'interrupted' : `crashed: ${error}`}`);
      outcomes.push({
        id: section.id,
        title: section.title,
        ok: false,
        seconds: (performance.now() - started) / 1000,
        error,
      });
    }
  }

  if (rows.length > 0) process.stdout.write(`\n${table(rows)}\n\n`);
  const summary = {
    ok: outcomes.every((o) => o.ok) && !interrupted,
    goalsMet: rows.filter((r) => r.met).length,
    goalsMissed: rows.filter((r) => r.valid && !r.met).length,
    invalid: rows.filter((r) => !r.valid).length,
    node: process.version,
    cpus: availableParallelism(),
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100),
    sections: outcomes,
    rows,
  };
  process.stdout.write(
    `BENCH_SUMMARY ${JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`,
  );
  if (interrupted) return 130;
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

main().then(
  (code) => {
    // Anything still holding the event loop (sockets in keep-alive) must not keep the bench alive.
    process.exit(code);
  },
  (err) => {
    log(`crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
