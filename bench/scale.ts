/**
 * Section "scale": the most requests per second one machine drives through `loadtest run` against a
 * trivial local server, as a ratio to bare `artillery run` and to autocannon in the same run; the
 * peak memory of a load worker at that rate, and that it stays flat over a longer run.
 *
 * Method
 * - Target: bench/ok-server.ts (node:http, 127.0.0.1, answers "ok"), in its own process. It counts
 *   the load per 100 ms since the first request; every tool's rate is read there the same way: the
 *   steady middle of the run (the first and last 20% of its span left out: arrivals and the tail).
 *   One target process on a 2-core machine is also a ceiling: autocannon (a lean C-like loop in one
 *   Node process) shows how close to it a tool gets.
 * - Load: closed loop, as a maximum needs. VUSERS virtual users arrive within 1 s and each sends
 *   LOOPS GETs one after the other (Artillery's `loop`): VUSERS x LOOPS requests. Ours runs the same
 *   file with `loadtest run --url <target> --workers 1` (Artillery's engine in one worker process,
 *   like the bare CLI); autocannon runs `-c VUSERS -a VUSERS*LOOPS`.
 * - Memory: while ours runs, its process tree is polled every 100 ms; a load worker's figure is its
 *   peak resident set (VmHWM) just before it ends. Baseline: bare Artillery's one process, same run.
 *   Flatness: ours again with LONG_FACTOR x the loops (the same rate for longer): its worker's peak
 *   over the short run's. A worker's results are sketches (DDSketch: bins by value range, not by
 *   count), so a longer run should not need more memory; the merge section measures the sketch's
 *   serialized size at two run lengths directly.
 * - Validity: every run exits 0, every tool's report (ours, Artillery's, autocannon's JSON) counts
 *   VUSERS x LOOPS answered requests and no failure, and the target counted exactly that many.
 *
 * Knobs (environment): BENCH_SCALE_VUSERS (50), BENCH_SCALE_LOOPS (200), BENCH_SCALE_LONG_FACTOR (3).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, peakRssBytes, processTree } from './proc.js';
import { envNumber, steadyRate } from './stats.js';
import {
  artilleryProblems,
  artilleryResponses,
  loadtestProblems,
  loadtestRequests,
  readJson,
} from './tool-reports.js';
import { ARTILLERY_BIN, exitProblems, LOADTEST_BIN, runTool, type Service, startOkServer } from './tools.js';
import type { BenchContext, BenchSection, Goal, SectionRow } from './types.js';

const RPS_VS_ARTILLERY: Goal = { op: '>=', ratio: 0.95 };
/**
 * autocannon is a bare HTTP loop; Artillery's engine (which `loadtest run` embeds) builds a virtual
 * user, its context and its metrics per request, and bare `artillery run` reached 0.12-0.15 of it
 * here. The goal keeps ours in that class (the first row compares it with Artillery itself); the
 * note gives bare Artillery's own ratio from the same run.
 */
const RPS_VS_AUTOCANNON: Goal = { op: '>=', ratio: 0.1 };
/** A worker may take more than bare Artillery's one process (it also sketches and reports), not much more. */
const MEMORY_VS_ARTILLERY: Goal = { op: '<=', ratio: 1.25 };
const MEMORY_FLAT: Goal = { op: '<=', ratio: 1.1 };
const AUTOCANNON_BIN = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
const RUN_GRACE_MS = 90_000;
const POLL_MS = 100;
/**
 * A load worker's command line: the TypeScript source under tsx, compiled JavaScript, or the build's
 * bundle (dist/worker/worker.js, what a compiled CLI forks when it is there).
 */
const WORKER_CMD = /(?:engine[/\\]worker|[/\\]worker[/\\]worker)\.(?:ts|js)\b/;

type Tool = 'ours' | 'ours-long' | 'artillery' | 'autocannon';

interface TargetStats {
  readonly count: number;
  readonly bucketMs: number;
  readonly buckets: number[];
}

interface Measured {
  readonly tool: Tool;
  readonly requests: number;
  readonly rps: number;
  readonly wallS: number;
  /** Peak RSS of each load worker (ours) or of the tool's process (Artillery), bytes. */
  readonly peakRss: number[];
  readonly problems: string[];
}

const mb = (bytes: number) => bytes / (1024 * 1024);
const maxOf = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : Number.NaN);

function loopYaml(target: string, vusers: number, loops: number): string {
  return [
    '# bench/scale.ts: closed-loop GETs against a trivial server, for the most requests per second.',
    'config:',
    `  target: ${target}`,
    '  phases:',
    '    - duration: 1',
    `      arrivalCount: ${vusers}`,
    'scenarios:',
    '  - name: loop',
    '    flow:',
    '      - loop:',
    '          - get: { url: /, name: get }',
    `        count: ${loops}`,
    '',
  ].join('\n');
}

/** Peak RSS per process whose command line matches, polled over a tool's process tree while it runs. */
class TreeWatch {
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly match: (cmd: string) => boolean) {}

  start(pid: number): void {
    const poll = () => {
      for (const p of processTree(pid)) {
        const cmd = commandLine(p.pid);
        if (cmd === undefined || !this.match(cmd)) continue;
        const rss = peakRssBytes(p.pid);
        if (rss !== undefined) this.peaks.set(p.pid, Math.max(rss, this.peaks.get(p.pid) ?? 0));
      }
    };
    poll();
    this.timer = setInterval(poll, POLL_MS);
  }

  stop(): number[] {
    if (this.timer) clearInterval(this.timer);
    return [...this.peaks.values()];
  }
}

export const scale: BenchSection = {
  id: 'scale',
  title: 'scale: most requests/s through loadtest run vs bare Artillery and autocannon; memory per worker',
  async run(ctx: BenchContext): Promise<SectionRow[]> {
    const vusers = Math.round(envNumber('BENCH_SCALE_VUSERS', 50, 1));
    const loops = Math.round(envNumber('BENCH_SCALE_LOOPS', 200, 10));
    const longFactor = envNumber('BENCH_SCALE_LONG_FACTOR', 3, 1.5);
    const dir = await mkdtemp(join(tmpdir(), 'bench-scale-'));
    let server: Service<number> | undefined;
    try {
      server = await startOkServer(dir, ctx.signal);
      const target = `http://127.0.0.1:${server.value}`;
      const stats = async (path: 'reset' | 'stats'): Promise<TargetStats> => {
        const res = await fetch(`${target}/__bench/${path}`);
        return (await res.json()) as TargetStats;
      };
      const stateDir = join(dir, 'state');
      await mkdir(stateDir, { recursive: true });
      await writeFile(join(stateDir, 'seed.json'), `${JSON.stringify({ users: [], products: [] })}\n`);
      const files = {
        short: join(dir, 'loop.yml'),
        long: join(dir, 'loop-long.yml'),
      };
      const longLoops = Math.round(loops * longFactor);
      await writeFile(files.short, loopYaml(target, vusers, loops));
      await writeFile(files.long, loopYaml(target, vusers, longLoops));
      ctx.log(`target ${target}; ${vusers} virtual users x ${loops} GETs (long run: x ${longLoops})`);

      const runOnce = async (tool: Tool): Promise<Measured> => {
        const expected = vusers * (tool === 'ours-long' ? longLoops : loops);
        const out = join(dir, `${tool}.json`);
        const argv =
          tool === 'autocannon'
            ? [process.execPath, AUTOCANNON_BIN, '-c', String(vusers), '-a', String(expected), '-j', target]
            : tool === 'artillery'
              ? [process.execPath, ARTILLERY_BIN, 'run', files.short, '--output', out]
              : [
                  process.execPath,
                  LOADTEST_BIN,
                  'run',
                  tool === 'ours' ? files.short : files.long,
                  '--url',
                  target,
                  '--workers',
                  '1',
                  '--state-dir',
                  stateDir,
                  '--quiet',
                  '--output',
                  out,
                ];
        const watch = new TreeWatch((cmd) =>
          tool === 'artillery' ? cmd.includes(ARTILLERY_BIN) || /artillery/.test(cmd) : WORKER_CMD.test(cmd),
        );
        await stats('reset');
        const run = await runTool(argv, {
          cwd: dir,
          ...(tool === 'artillery' ? { env: { ARTILLERY_DISABLE_TELEMETRY: 'true' } } : {}),
          timeoutMs: RUN_GRACE_MS + expected,
          signal: ctx.signal,
          onStart: (pid) => watch.start(pid),
        });
        const peakRss = watch.stop();
        const seen = await stats('stats');
        const problems = exitProblems(run);
        let requests = seen.count;
        if (tool === 'autocannon') {
          let report: { non2xx?: number; errors?: number; timeouts?: number; requests?: { total?: number } } =
            {};
          try {
            report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as typeof report;
          } catch {
            problems.push('autocannon printed no JSON');
          }
          const failed = (report.non2xx ?? 0) + (report.errors ?? 0) + (report.timeouts ?? 0);
          if (failed > 0) problems.push(`${failed} failed request(s)`);
        } else if (tool === 'artillery') {
          const report = await readJson(out);
          problems.push(...artilleryProblems(report, expected));
          requests = artilleryResponses(report);
        } else {
          const report = await readJson(out);
          problems.push(...loadtestProblems(report, expected));
          requests = loadtestRequests(report);
          if (peakRss.length !== 1) problems.push(`${peakRss.length} load worker(s) seen, want 1`);
        }
        if (seen.count !== expected)
          problems.push(`the target counted ${seen.count} requests, want ${expected}`);
        const rps = steadyRate(seen.buckets, seen.bucketMs);
        const m: Measured = { tool, requests, rps, wallS: run.wallMs / 1000, peakRss, problems };
        ctx.log(
          `${tool}: ${requests} requests, steady ${rps.toFixed(0)} req/s` +
            (peakRss.length ? `, peak RSS ${peakRss.map((b) => mb(b).toFixed(0)).join('/')} MB` : '') +
            ` (wall ${m.wallS.toFixed(1)} s)${problems.length ? `; ${problems.join('; ')}` : ''}`,
        );
        return m;
      };

      const got: Partial<Record<Tool, Measured>> = {};
      for (const tool of ['autocannon', 'artillery', 'ours', 'ours-long'] as const) {
        if (ctx.signal.aborted) throw new Error('aborted');
        got[tool] = await runOnce(tool);
      }
      const { ours, artillery, autocannon } = got as Record<Tool, Measured>;
      const long = got['ours-long'] as Measured;
      const problemsOf = (...ms: Measured[]) => ms.flatMap((m) => m.problems.map((p) => `${m.tool}: ${p}`));
      const oursWorker = maxOf(ours.peakRss);
      const longWorker = maxOf(long.peakRss);
      const artilleryProcess = maxOf(artillery.peakRss);
      return [
        {
          name: `most requests/s, ${vusers} VUs x ${loops} GETs, loadtest run (1 worker) / bare artillery run`,
          unit: 'req/s',
          value: ours.rps,
          baseline: artillery.rps,
          goal: RPS_VS_ARTILLERY,
          valid: problemsOf(ours, artillery).length === 0,
          notes: [...problemsOf(ours, artillery), 'rate at the target, steady middle of each run'],
          details: { vusers, loops, ours, artillery },
        },
        {
          name: `most requests/s, ${vusers} connections: loadtest run (1 worker) / autocannon`,
          unit: 'req/s',
          value: ours.rps,
          baseline: autocannon.rps,
          goal: RPS_VS_AUTOCANNON,
          valid: problemsOf(ours, autocannon).length === 0,
          notes: [
            ...problemsOf(ours, autocannon),
            `bare artillery / autocannon ${(artillery.rps / autocannon.rps).toFixed(3)} in this run`,
          ],
          details: { vusers, loops, ours, autocannon },
        },
        {
          name: `peak RSS per load worker at that rate / bare Artillery's process`,
          unit: 'MB',
          value: mb(oursWorker),
          baseline: mb(artilleryProcess),
          goal: MEMORY_VS_ARTILLERY,
          valid: problemsOf(ours, artillery).length === 0 && Number.isFinite(oursWorker + artilleryProcess),
          notes: [...problemsOf(ours, artillery), 'VmHWM just before each process ended'],
          details: { oursWorkerBytes: ours.peakRss, artilleryBytes: artillery.peakRss },
        },
        {
          name: `peak RSS per load worker, ${longFactor}x longer run / short run (flat over run length)`,
          unit: 'MB',
          value: mb(longWorker),
          baseline: mb(oursWorker),
          goal: MEMORY_FLAT,
          valid: problemsOf(ours, long).length === 0 && Number.isFinite(oursWorker + longWorker),
          notes: [
            ...problemsOf(ours, long),
            `${(long.requests / 1000).toFixed(0)}k vs ${(ours.requests / 1000).toFixed(0)}k requests, ${long.wallS.toFixed(0)} vs ${ours.wallS.toFixed(0)} s wall`,
          ],
          details: { shortBytes: ours.peakRss, longBytes: long.peakRss, longRps: long.rps },
        },
      ];
    } finally {
      await server?.stop(3000).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  },
};
