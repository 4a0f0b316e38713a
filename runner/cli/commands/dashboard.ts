import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { isPatternId, patternIds } from '../../../app/index.js';
import {
  type ChartRow,
  dashboardDefinition,
  html,
  localCharts,
  renderPage,
  type ThresholdLine,
} from '../../../dashboards/index.js';
import { fetchAppMetrics } from '../../metrics/index.js';
import { LIVE_FILE, type LiveFile, type TimelinePoint, TimelineRecorder } from '../../report/timeline.js';
import { awsRegion, readDeployment } from '../aws-stack.js';
import { UsageError } from '../errors.js';
import { readStackFile } from '../stack-file.js';

interface DashboardArgs {
  port: number;
  stateDir: string;
  target: string;
  stack?: string;
  awsRegion?: string;
}

/** How often the page asks for data; `loadtest run` writes live.json every 2 s. */
const PAGE_POLL_MS = 1000;
const STACK_POLL_MS = 2000;
/** A live.json not rewritten for this long belongs to a run that is no longer writing. */
const STALE_MS = 10_000;

export interface LiveData {
  readonly source: 'run' | 'stack' | 'none';
  readonly running: boolean;
  readonly status: string;
  readonly rows: readonly ChartRow[];
}

async function readLiveFile(path: string): Promise<LiveFile | undefined> {
  try {
    const live = JSON.parse(await readFile(path, 'utf8')) as LiveFile;
    return live.version === 1 && Array.isArray(live.timeline) ? live : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Names seen in the timeline: registry patterns in registry order, then any others by name. */
function namesIn(points: readonly TimelinePoint[]): string[] {
  const names = new Set(points.flatMap((p) => Object.keys(p.patterns)));
  const rank = (n: string) => (isPatternId(n) ? patternIds.indexOf(n) : patternIds.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function chartRows(
  points: readonly TimelinePoint[],
  thresholds: readonly ThresholdLine[] = [],
  tableName?: string,
): ChartRow[] {
  const names = namesIn(points);
  const definition = dashboardDefinition({
    patterns: names,
    // A threshold on a pattern with no row yet would have nowhere to go: keep those that fit.
    thresholds: thresholds.filter((t) => t.pattern === '*' || names.includes(t.pattern)),
    ...(tableName ? { tableName } : {}),
  });
  return localCharts(definition, points);
}

/** Watches `loadtest up`'s app through GET /__metrics when no run is writing live.json. */
export class StackWatcher {
  private recorder: TimelineRecorder | undefined;
  private appUrl: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  watch(appUrl: string): void {
    if (this.appUrl === appUrl) return;
    this.stop();
    this.appUrl = appUrl;
    const recorder = new TimelineRecorder();
    this.recorder = recorder;
    let primed = false;
    const tick = async () => {
      const snapshot = await fetchAppMetrics(appUrl);
      if (!snapshot || this.recorder !== recorder) return;
      // The app has counted since it started: its first numbers are the starting line, not a point.
      if (primed) recorder.sample({ server: snapshot });
      else recorder.baseline({ server: snapshot });
      primed = true;
    };
    void tick();
    this.timer = setInterval(tick, STACK_POLL_MS);
    this.timer.unref();
  }

  points(): TimelinePoint[] {
    return this.recorder?.points() ?? [];
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.recorder = undefined;
    this.appUrl = undefined;
  }
}

/** What the page draws now: a running run, else `loadtest up`'s app, else the last finished run. */
export async function liveData(stateDir: string, watcher: StackWatcher): Promise<LiveData> {
  const live = await readLiveFile(join(stateDir, LIVE_FILE));
  const fresh = live && Date.now() - Date.parse(live.updatedAt) < STALE_MS && alive(live.pid);
  const thresholds = (live?.thresholds ?? []) as ThresholdLine[];
  if (live?.running && fresh) {
    const elapsed = live.timeline[live.timeline.length - 1]?.t ?? 0;
    return {
      source: 'run',
      running: true,
      status: `running ${live.scenario}: ${elapsed.toFixed(0)} s of ${live.plannedSec} s`,
      rows: chartRows(live.timeline, thresholds),
    };
  }
  const stack = await readStackFile(stateDir);
  if (stack) {
    watcher.watch(stack.appUrl);
    return {
      source: 'stack',
      running: true,
      status: `watching loadtest up at ${stack.appUrl} (the app's own metrics; start a run for client latency and capacity)`,
      rows: chartRows(watcher.points(), [], stack.tableName),
    };
  }
  watcher.stop();
  if (live) {
    return {
      source: 'run',
      running: false,
      status: live.running
        ? `${live.scenario}: the run stopped writing (ended without finishing?)`
        : `finished ${live.scenario}${live.report ? ` (report: ${live.report})` : ''}`,
      rows: chartRows(live.timeline, thresholds),
    };
  }
  return {
    source: 'none',
    running: false,
    status: `waiting for loadtest run or loadtest up (state dir ${stateDir})`,
    rows: [],
  };
}

function page(): string {
  return renderPage({
    title: 'loadtest: live dashboard',
    before: html`<header>
<h1>Live dashboard</h1>
<p><span id="status" class="badge running">connecting...</span></p>
<p class="muted">Rates per second and latencies per 2 s interval; counts marked "run so far" are running totals; red dashed lines are the scenario's thresholds.</p>
</header>`,
    live: { dataUrl: '/data.json', intervalMs: PAGE_POLL_MS },
  });
}

export async function startDashboardServer(
  stateDir: string,
  port: number,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const watcher = new StackWatcher();
  const body = page();
  let allowedHosts: Set<string> = new Set();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Bound to loopback; the Host check also keeps DNS rebinding from reading it through a browser.
    if (!allowedHosts.has(req.headers.host ?? '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(body);
      return;
    }
    if (path === '/data.json') {
      liveData(stateDir, watcher).then(
        (data) =>
          res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(data)),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(
              `--port: 127.0.0.1:${port} is already in use; pick another with --port N, or 0 for any`,
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  allowedHosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`]);
  return {
    url: `http://127.0.0.1:${actual}/`,
    server,
    async close() {
      watcher.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function printAwsDashboard(args: DashboardArgs): Promise<void> {
  if (!args.stack)
    throw new UsageError('--target aws needs --stack <name> (the stackName the CDK app was deployed with)');
  const region = awsRegion(args.awsRegion);
  const { dashboardName } = await readDeployment(args.stack, region);
  const { dashboardConsoleUrl } = await import('../../aws/index.js');
  console.log(`dashboard: ${dashboardConsoleUrl(region, dashboardName)}`);
}

export const dashboardCommand: CommandModule<object, DashboardArgs> = {
  command: 'dashboard',
  describe:
    'Serve the live dashboard of loadtest run / loadtest up on 127.0.0.1; with --target aws, print the CloudWatch dashboard URL',
  builder: (y: Argv) =>
    y
      .option('port', { type: 'number', default: 0, describe: 'Port on 127.0.0.1 (0 = any free port)' })
      .option('state-dir', {
        type: 'string',
        default: '.loadtest',
        describe: 'Where loadtest run writes live.json and loadtest up writes stack.json',
      })
      .option('target', { type: 'string', default: 'local', describe: 'local (serve the live page) or aws' })
      .option('stack', {
        type: 'string',
        describe: 'With --target aws: the deployed CDK app (its stackName)',
      })
      .option('aws-region', {
        type: 'string',
        describe: 'With --target aws: the region (default AWS_REGION)',
      })
      .strict() as unknown as Argv<DashboardArgs>,
  handler: async (args: ArgumentsCamelCase<DashboardArgs>) => {
    if (args.target !== 'local' && args.target !== 'aws') {
      throw new UsageError(`--target: expected local or aws, got "${args.target}"`);
    }
    if (args.target === 'aws') {
      await printAwsDashboard(args);
      return;
    }
    if (args.stack) throw new UsageError('--stack is for --target aws only');
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
      throw new UsageError(`--port: expected a port number 0-65535, got ${args.port}`);
    }
    const dashboard = await startDashboardServer(args.stateDir, args.port);
    console.log(`dashboard: ${dashboard.url}`);
    console.log(
      `reading ${join(args.stateDir, LIVE_FILE)} (loadtest run) and stack.json (loadtest up); Ctrl-C to stop`,
    );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void dashboard.close().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
