/**
 * Section "load-generation efficiency": requests per CPU-second of `loadtest run` (Artillery's
 * engine in our worker process) vs the bare `artillery run` CLI, on the same trivial local target.
 *
 * Method
 * - Target: bench/ok-server.ts, a bare node:http server in its own child process on 127.0.0.1 that
 *   answers 200 "ok" (GET /health included). Not the shop app: the target must cost next to
 *   nothing, so that what differs between the runs is the load generator alone. Its CPU is not
 *   counted on either side.
 * - Scenario (temp dir): one phase of DURATION_S at RATE arrivals/s, each virtual user sending
 *   GETS named GETs to `/`: RATE x DURATION_S x GETS requests (4000 by default).
 * - Ours: `loadtest run <file> --url <target> --state-dir <tmp>/state --quiet --output <json>`.
 *   --url wants GET /health and a seed file: the server answers the first, and a dummy seed.json
 *   (no users, no products; this scenario has no processor to read it) is written for the second.
 *   Requests = sum of patterns[].requests of the JSON report.
 * - Bare: `artillery run <file> --output <json>` with ARTILLERY_DISABLE_TELEMETRY=true. Requests =
 *   aggregate counter http.responses. Its telemetry stall (no network) is idle time: it costs wall
 *   time, not CPU, and wall time plays no part here.
 * - CPU: user + system time of each tool's *whole process tree* (the CLI process plus every
 *   descendant it waited for: our load worker; Artillery runs in one process), read as the growth
 *   of this process's cutime + cstime in /proc/self/stat across the run (the kernel adds a child's
 *   tree when it is reaped). Whole trees, not just our worker, because that is what the machine
 *   pays for each tool: our CLI process (its poll of the target, the report) and both tools' start-up
 *   (loading Node modules, ~3 CPU-s each here) are part of the price. The start-up part is
 *   the same kind of cost on both sides and is amortised over the run's requests; it is why the
 *   run is not shorter.
 * - ROUNDS paired runs, the order flipped each round (ours/bare, bare/ours) so drift cancels.
 *   ratio = median of the per-round ratios (ours req/CPU-s / bare req/CPU-s); value and baseline
 *   are the medians of the req/CPU-s.
 * - Validity: every run must exit 0 with no failed request (non-2xx, errors.*, failed virtual
 *   users) and the expected request count.
 *
 * Knobs (environment): BENCH_EFF_ROUNDS (2), BENCH_EFF_DURATION_S (10), BENCH_EFF_RATE (100).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNumber, median } from './stats.js';
import {
  artilleryProblems,
  artilleryResponses,
  loadtestProblems,
  loadtestRequests,
  readJson,
} from './tool-reports.js';
import {
  ARTILLERY_BIN,
  exitProblems,
  LOADTEST_BIN,
  runTool,
  type Service,
  startOkServer,
  steadyGetsYaml,
  type ToolRun,
} from './tools.js';
import type { BenchContext, BenchSection, Goal, SectionRow } from './types.js';

const GOAL: Goal = { op: '>=', ratio: 0.95 };
const GETS = 4;
const RUN_GRACE_MS = 60_000;
/** Largest max/min of the per-round ratios still called a steady measurement. */
const NOISY_SPREAD = 1.1;

type Tool = 'ours' | 'bare';

interface Measurement {
  readonly requests: number;
  readonly cpuS: number;
  readonly wallS: number;
  readonly perCpuS: number;
  readonly problems: string[];
}

function measurement(tool: Tool, run: ToolRun, report: unknown, expected: number): Measurement {
  const problems: string[] = exitProblems(run);
  problems.push(
    ...(tool === 'ours' ? loadtestProblems(report, expected) : artilleryProblems(report, expected)),
  );
  const requests = tool === 'ours' ? loadtestRequests(report) : artilleryResponses(report);
  if (run.cpuMs === undefined) problems.push('CPU time unknown (needs Linux /proc)');
  const cpuS = (run.cpuMs ?? Number.NaN) / 1000;
  return { requests, cpuS, wallS: run.wallMs / 1000, perCpuS: requests / cpuS, problems };
}

export const loadEfficiency: BenchSection = {
  id: 'load-efficiency',
  title: 'load-generation efficiency: requests per CPU-second, loadtest run vs bare artillery run',
  async run(ctx: BenchContext): Promise<SectionRow[]> {
    const rounds = Math.round(envNumber('BENCH_EFF_ROUNDS', 2, 1));
    const durationS = envNumber('BENCH_EFF_DURATION_S', 10, 1);
    const rate = envNumber('BENCH_EFF_RATE', 100, 1);
    const expected = Math.round(durationS * rate) * GETS;
    const dir = await mkdtemp(join(tmpdir(), 'bench-eff-'));
    let server: Service<number> | undefined;
    try {
      server = await startOkServer(dir, ctx.signal);
      const target = `http://127.0.0.1:${server.value}`;
      ctx.log(
        `target ${target}; ${durationS} s at ${rate} arrivals/s x ${GETS} GETs = ${expected} requests per run, ${rounds} round(s)`,
      );
      const stateDir = join(dir, 'state');
      await mkdir(stateDir, { recursive: true });
      await writeFile(join(stateDir, 'seed.json'), `${JSON.stringify({ users: [], products: [] })}\n`);
      const scenarioFile = join(dir, 'gets.yml');
      await writeFile(
        scenarioFile,
        steadyGetsYaml({
          comment:
            'bench/load-efficiency.ts: plain GETs against a trivial server; only the load generator costs.',
          target,
          durationS,
          rate,
          scenario: 'gets',
          gets: Array.from({ length: GETS }, (_, i) => ({ url: '/', name: `get${i + 1}` })),
        }),
      );
      const timeoutMs = durationS * 1000 + RUN_GRACE_MS;

      const runOnce = async (tool: Tool, round: number): Promise<Measurement> => {
        const out = join(dir, `${tool}-${round}.json`);
        const argv =
          tool === 'ours'
            ? [
                process.execPath,
                LOADTEST_BIN,
                'run',
                scenarioFile,
                '--url',
                target,
                '--state-dir',
                stateDir,
                '--quiet',
                '--output',
                out,
              ]
            : [process.execPath, ARTILLERY_BIN, 'run', scenarioFile, '--output', out];
        const run = await runTool(argv, {
          cwd: dir,
          ...(tool === 'bare' ? { env: { ARTILLERY_DISABLE_TELEMETRY: 'true' } } : {}),
          timeoutMs,
          signal: ctx.signal,
        });
        const m = measurement(tool, run, await readJson(out), expected);
        ctx.log(
          `round ${round + 1}/${rounds} ${tool}: ${m.requests} requests, cpu ${m.cpuS.toFixed(2)} s, ` +
            `${m.perCpuS.toFixed(0)} req/CPU-s (wall ${m.wallS.toFixed(1)} s)` +
            (m.problems.length ? `; ${m.problems.join('; ')}` : ''),
        );
        return m;
      };

      const measured: Record<Tool, Measurement[]> = { ours: [], bare: [] };
      const paired: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const order: readonly Tool[] = round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours'];
        const got: Partial<Record<Tool, Measurement>> = {};
        for (const tool of order) {
          const m = await runOnce(tool, round);
          got[tool] = m;
          measured[tool].push(m);
        }
        paired.push((got.ours?.perCpuS ?? Number.NaN) / (got.bare?.perCpuS ?? Number.NaN));
      }

      const problems = [
        ...measured.ours.flatMap((m) => m.problems.map((p) => `ours: ${p}`)),
        ...measured.bare.flatMap((m) => m.problems.map((p) => `bare: ${p}`)),
      ];
      const spread = Math.max(...paired) / Math.min(...paired);
      const cpuList = (ms: readonly Measurement[]) => ms.map((m) => m.cpuS.toFixed(2)).join('/');
      return [
        {
          name: `requests per CPU-s, ${durationS} s at ${rate}/s x ${GETS} GETs, whole process trees`,
          unit: 'req/CPU-s',
          value: median(measured.ours.map((m) => m.perCpuS)),
          baseline: median(measured.bare.map((m) => m.perCpuS)),
          ratio: median(paired),
          goal: GOAL,
          valid: problems.length === 0,
          notes: [
            ...problems,
            `per-round ratios ${paired.map((r) => r.toFixed(3)).join(', ')}${spread > NOISY_SPREAD ? ' (NOISY)' : ''}`,
            `CPU s ours ${cpuList(measured.ours)} vs bare ${cpuList(measured.bare)} for ${expected} requests each`,
          ],
          details: {
            expectedRequests: expected,
            pairedRatios: paired,
            ours: measured.ours,
            bare: measured.bare,
            cpuScope: 'whole process tree (cutime+cstime of reaped children), start-up included',
            bareTelemetry: 'ARTILLERY_DISABLE_TELEMETRY=true',
          },
        },
      ];
    } finally {
      await server?.stop(3000).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  },
};
