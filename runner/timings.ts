/**
 * Where a run's start-up time went (`loadtest run --timings`): each phase's moment, in milliseconds
 * since this process started (Node's performance.timeOrigin), so the process's own spawn and module
 * loading count too. Phases overlap (DynamoDB Local, the app and the workers start at once), so the
 * figure that adds up is each phase's moment, not a sum of durations; `+ms` is the wait since the
 * phase before it, i.e. what that phase added to the critical path.
 */
export const STARTUP_PHASES = [
  'cli', // the CLI's code is loaded and its command starts
  'dynamodb', // DynamoDB Local answers
  'tables', // the project's tables exist
  'seed', // the data command is done (and the app is ready: they run together)
  'app', // the app answers as ready (or, with --url, the running app answered)
  'firstRequest', // the first request is sent
  'lastResponse', // the last answer is in
  'report', // the report is written
] as const;
export type StartupPhase = (typeof STARTUP_PHASES)[number];

const LABELS: Record<StartupPhase, string> = {
  cli: 'CLI loaded (spawn, Node, modules)',
  dynamodb: 'DynamoDB Local ready',
  tables: 'tables created',
  seed: 'seed (data command) done',
  app: 'app ready',
  firstRequest: 'first request sent',
  lastResponse: 'last response received',
  report: 'report written',
};

/** One phase's moment: ms since the process started; null when the phase did not happen in this run. */
export interface StartupTiming {
  readonly phase: StartupPhase;
  readonly atMs: number | null;
}

export class StartupTimings {
  private readonly at = new Map<StartupPhase, number>();

  /**
   * @param clock now, in epoch milliseconds (injected: tests drive it)
   * @param origin when this process started, in epoch milliseconds
   */
  constructor(
    private readonly clock: () => number = () => performance.timeOrigin + performance.now(),
    private readonly origin: number = performance.timeOrigin,
  ) {}

  /** Records a phase now, or at `epochMs` (a worker's clock: same machine, same epoch). The first mark stands. */
  mark(phase: StartupPhase, epochMs: number = this.clock()): void {
    if (!this.at.has(phase) && Number.isFinite(epochMs)) this.at.set(phase, epochMs - this.origin);
  }

  /** Every phase in order; a phase that did not happen (no seed, --url) is null, never 0. */
  list(): StartupTiming[] {
    return STARTUP_PHASES.map((phase) => {
      const ms = this.at.get(phase);
      return { phase, atMs: ms === undefined ? null : Math.round(ms) };
    });
  }
}

/** The table `--timings` prints: each phase's moment and what it added since the phase before. */
export function renderTimings(timings: readonly StartupTiming[], notes: readonly string[] = []): string {
  // In the order they happened (the app may be ready before the seed is done), then what did not happen.
  const happened = timings
    .filter((t): t is StartupTiming & { atMs: number } => t.atMs !== null)
    .sort((a, b) => a.atMs - b.atMs);
  const rows: string[][] = [];
  let previous = 0;
  for (const t of happened) {
    rows.push([LABELS[t.phase], `${(t.atMs / 1000).toFixed(2)} s`, `+${t.atMs - previous} ms`]);
    previous = t.atMs;
  }
  for (const t of timings) if (t.atMs === null) rows.push([LABELS[t.phase], '–', '(did not happen)']);
  const first = timings.find((t) => t.phase === 'firstRequest')?.atMs ?? null;
  const width = Math.max(...rows.map((r) => (r[0] as string).length));
  const atWidth = Math.max(...rows.map((r) => (r[1] as string).length));
  return [
    `start-up timings (since the process started)${first === null ? '' : `: first request at ${(first / 1000).toFixed(2)} s`}`,
    ...rows.map(([label, at, added]) =>
      `  ${(label as string).padEnd(width)}  ${(at as string).padStart(atWidth)}  ${added}`.trimEnd(),
    ),
    ...notes.map((n) => `  note: ${n}`),
  ].join('\n');
}
