import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  type ChartRow,
  dashboardDefinition,
  html,
  localCharts,
  renderPage,
  type ThresholdLine,
} from '../../../dashboards/index.js';
import { GateAdmin } from '../../../local/index.js';
import { gateView } from '../../metrics/index.js';
import { loadProject } from '../../project/index.js';
import { LIVE_FILE, type LiveFile, type TimelinePoint, TimelineRecorder } from '../../report/timeline.js';
import { awsRegion, readDeployment } from '../aws-stack.js';
import { given, UsageError } from '../errors.js';
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

type Declared = readonly (string | { id: string; description?: string })[];

/** Names seen in the timeline: declared patterns in the project's order, then any others by name. */
function namesIn(points: readonly TimelinePoint[], declared: readonly string[]): string[] {
  const names = new Set(points.flatMap((p) => Object.keys(p.patterns)));
  const rank = (n: string) => {
    const i = declared.indexOf(n);
    return i >= 0 ? i : declared.length;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Tables and GSIs seen in the timeline (`shop`, `shop/GSI1`), for the header's charts. */
export function tablesIn(points: readonly TimelinePoint[]): { name: string; indexes: string[] }[] {
  const tables = new Map<string, string[]>();
  for (const id of new Set(points.flatMap((p) => Object.keys(p.targets ?? {})))) {
    const [table = id, index] = id.split('/');
    const list = tables.get(table) ?? [];
    if (index) list.push(index);
    tables.set(table, list);
  }
  return [...tables].map(([name, indexes]) => ({ name, indexes: indexes.sort() }));
}

export function chartRows(
  points: readonly TimelinePoint[],
  thresholds: readonly ThresholdLine[] = [],
  declared: Declared = [],
): ChartRow[] {
  const patterns = declared.map((d) => (typeof d === 'string' ? { id: d } : d));
  const names = namesIn(
    points,
    patterns.map((p) => p.id),
  );
  const definition = dashboardDefinition({
    tables: tablesIn(points),
    patterns: patterns.filter((d) => names.includes(d.id)),
    rows: names,
    // A threshold on a pattern with no row yet would have nowhere to go: keep those that fit.
    thresholds: thresholds.filter((t) => t.pattern === '*' || names.includes(t.pattern)),
  });
  return localCharts(definition, points);
}

/**
 * Watches `loadtest up` through its capacity gate's admin endpoint when no run is writing live.json:
 * any traffic (curl, an app's own tests, a plain `artillery run`, another language's client) shows,
 * per pattern and per table, with no client side.
 */
export class StackWatcher {
  private recorder: TimelineRecorder | undefined;
  private adminUrl: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The project's patterns: ids from the gate, descriptions from the project's config when it loads. */
  declared: Declared = [];
  private descriptions = new Map<string, string>();
  private describedFrom: string | undefined;

  /** Reads the descriptions of the stack's project (once per config file). */
  describe(configFile: string): void {
    if (this.describedFrom === configFile) return;
    this.describedFrom = configFile;
    loadProject(configFile)
      .then((p) => {
        this.descriptions = new Map(
          p.patterns.flatMap((x) => (x.description ? [[x.id, x.description]] : [])),
        );
      })
      .catch(() => {});
  }

  watch(adminUrl: string): void {
    if (this.adminUrl === adminUrl) return;
    this.stop();
    this.adminUrl = adminUrl;
    const recorder = new TimelineRecorder();
    this.recorder = recorder;
    const admin = new GateAdmin(adminUrl);
    let primed = false;
    const tick = async () => {
      const snapshot = await admin.snapshot({ keys: false }).catch(() => undefined);
      if (!snapshot || this.recorder !== recorder) return;
      this.declared = snapshot.declared.map((id) => {
        const description = this.descriptions.get(id);
        return description ? { id, description } : id;
      });
      const view = gateView(snapshot);
      const sample = {
        ...(view.patterns ? { server: view.patterns } : {}),
        ...(view.dynamodb ? { gate: view.dynamodb } : {}),
      };
      // The gate has counted since its last reset: its first numbers are the starting line, not a point.
      if (primed) recorder.sample(sample);
      else recorder.baseline(sample);
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
    this.adminUrl = undefined;
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
      rows: chartRows(live.timeline, thresholds, live.declared ?? []),
    };
  }
  const stack = await readStackFile(stateDir);
  if (stack?.gateAdminUrl) {
    watcher.describe(stack.project);
    watcher.watch(stack.gateAdminUrl);
    return {
      source: 'stack',
      running: true,
      status: `watching loadtest up (project ${stack.name}) through its capacity gate: every DynamoDB call, per pattern and table; start a run for client latency`,
      rows: chartRows(watcher.points(), [], watcher.declared),
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
      rows: chartRows(live.timeline, thresholds, live.declared ?? []),
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
  const region = await awsRegion(args.awsRegion);
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
      throw new UsageError(`--port: expected a port number 0-65535, got ${given('--port', args.port)}`);
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
