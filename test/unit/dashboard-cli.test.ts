import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CapacityGate } from '../../local/index.js';
import { liveData, StackWatcher, startDashboardServer } from '../../runner/cli/commands/dashboard.js';
import { main } from '../../runner/cli/main.js';
import type { StackFile } from '../../runner/cli/stack-file.js';
import type { LiveFile } from '../../runner/report/timeline.js';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-dashboard-cli-'));
});

/** Runs the CLI in this process and returns its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const minimalReport = {
  scenario: 'smoke',
  target: 'http://127.0.0.1:8080',
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:04.000Z',
  durationSec: 4,
  passed: true,
  patterns: [],
  tables: [],
  hotKeys: [],
  thresholds: [],
};

describe('loadtest report', () => {
  it('refuses a missing file, bad JSON and JSON that is not a report with exit 2, naming the file', async () => {
    const missing = join(dir, 'nope.json');
    expect(await cli(['report', missing, '--html', join(dir, 'x.html')])).toMatchObject({
      code: 2,
      err: `error: ${missing}: no such file`,
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"scenario": ');
    const r1 = await cli(['report', bad, '--html', join(dir, 'x.html')]);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(new RegExp(`^error: ${bad}: not valid JSON`));
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...minimalReport, patterns: [{ id: 'x' }] }));
    const r2 = await cli(['report', other, '--html', join(dir, 'x.html')]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(
      new RegExp(`^error: ${other}: not a loadtest report .*: patterns\\.0\\.requests:`),
    );
  });

  it('writes the HTML of a report, also one from before timelines and ensure existed', async () => {
    const file = join(dir, 'old.json');
    await writeFile(file, JSON.stringify(minimalReport));
    const out = join(dir, 'nested', 'old.html');
    const r = await cli(['report', file, '--html', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^html: .*old\.html \(\d+ KB\)$/);
    expect(await readFile(out, 'utf8')).toContain(
      '<span class="badge passed" id="verdict" data-verdict="passed">',
    );
    const text = await cli(['report', file]);
    expect(text.out).toMatch(/PASSED/);
    // The JUnit and Markdown views too, as run writes them: a CI job can rebuild them from the JSON.
    const junit = join(dir, 'old.xml');
    const md = join(dir, 'old.md');
    const both = await cli(['report', file, '--junit', junit, '--markdown', md]);
    expect(both.code).toBe(0);
    expect(both.out).toMatch(/^junit: .*old\.xml \(\d+ KB\)\nmarkdown: .*old\.md \(\d+ KB\)$/);
    expect(await readFile(junit, 'utf8')).toMatch(/^<\?xml .*\n<testsuites/);
    expect(await readFile(md, 'utf8')).toMatch(/^### Load test `/);
  });
});

function get(url: string, host?: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loadtest dashboard (local)', () => {
  it('waits for a run or a stack, then draws the running run from live.json', async () => {
    const state = join(dir, 'state-run');
    const watcher = new StackWatcher();
    expect(await liveData(state, watcher)).toMatchObject({ source: 'none', rows: [] });
    await mkdir(state, { recursive: true });
    const live: LiveFile = {
      version: 1,
      scenario: 'smoke',
      target: 'http://127.0.0.1:1',
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      running: true,
      plannedSec: 20,
      thresholds: [{ pattern: 'getProduct', metric: 'p99', op: '<', value: 100 }],
      pid: process.pid,
      timeline: [2, 4].map((t) => ({
        t,
        dt: 2,
        requests: 4,
        errors: 0,
        throttleEvents: 0,
        patterns: { getProduct: { requests: 4, errors: 0, latencyMs: { p50: 5, p95: 9, p99: 12 } } },
      })),
    };
    await writeFile(join(state, 'live.json'), JSON.stringify(live));
    const data = await liveData(state, watcher);
    expect(data).toMatchObject({ source: 'run', running: true, status: 'running smoke: 4 s of 20 s' });
    expect(data.rows.map((r) => r.id)).toEqual(['header', 'getProduct']);
    const latency = data.rows[1]?.charts.find((c) => c.id === 'getProduct-latency');
    expect(latency?.data).toEqual([
      [2, 4],
      [5, 5],
      [9, 9],
      [12, 12],
    ]);
    expect(latency?.annotations).toEqual([{ label: 'p99 < 100', value: 100 }]);
    await writeFile(join(state, 'live.json'), JSON.stringify({ ...live, running: false, report: 'r.json' }));
    expect((await liveData(state, watcher)).status).toBe('finished smoke (report: r.json)');
  });

  it("watches loadtest up through its gate's admin endpoint when no run is writing", async () => {
    // A DynamoDB stand-in behind a real gate: GetItem costs 0.5 RCU; the table is `shop` (key PK).
    const dynamo = createServer((req, res) => {
      const op = String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop();
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      if (op === 'DescribeTable')
        res.end(
          JSON.stringify({
            Table: { TableName: 'shop', KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }] },
          }),
        );
      else
        res.end(
          JSON.stringify({
            Item: { PK: { S: 'P#1' } },
            ConsumedCapacity: { TableName: 'shop', CapacityUnits: 0.5 },
          }),
        );
    });
    await new Promise<void>((r) => dynamo.listen(0, '127.0.0.1', r));
    const gate = new CapacityGate({
      upstream: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
      capacity: { mode: 'on-demand' },
      rules: [{ id: 'getProduct', table: 'shop', operations: ['GetItem'] }],
    });
    const endpoint = await gate.listen();
    const gateAdminUrl = await gate.listenAdmin();
    const getItem = () =>
      fetch(endpoint, {
        method: 'POST',
        headers: {
          'x-amz-target': 'DynamoDB_20120810.GetItem',
          'content-type': 'application/x-amz-json-1.0',
        },
        body: JSON.stringify({ TableName: 'shop', Key: { PK: { S: 'P#1' } } }),
      }).then((r) => r.text());
    const state = join(dir, 'state-up');
    await mkdir(state, { recursive: true });
    const stack: StackFile = {
      version: 2,
      project: '/x/loadtest.config.yml',
      name: 'x',
      region: 'us-east-1',
      appUrl: null,
      endpoint,
      dynamodbEndpoint: 'http://127.0.0.1:1',
      gateAdminUrl,
      tables: ['shop'],
      fixtures: null,
      pid: process.pid,
      dynamodbPid: null,
      appPid: null,
      startedAt: new Date().toISOString(),
    };
    await writeFile(join(state, 'stack.json'), JSON.stringify(stack));
    const watcher = new StackWatcher();
    try {
      await getItem();
      expect(await liveData(state, watcher)).toMatchObject({ source: 'stack', running: true });
      // The first snapshot (one call, from before) is the starting line, not a point.
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 12; i += 1) await getItem();
      await new Promise((r) => setTimeout(r, 2300));
      const data = await liveData(state, watcher);
      expect(data.status).toMatch(/watching loadtest up \(project x\) through its capacity gate/);
      const requests = data.rows[0]?.charts.find((c) => c.id === 'header-requests');
      // The gate's count of calls stands in for requests: 12 calls in the second interval.
      expect(requests?.data[1]).toHaveLength(1);
      expect(requests?.data[1]?.[0]).toBeGreaterThan(12 / 2.5);
      expect(requests?.data[1]?.[0]).toBeLessThan(12 / 1.5);
      expect(data.rows.map((r) => r.id)).toEqual(['header', 'getProduct']);
      // The table's charts come from the gate too.
      const capacity = data.rows[0]?.charts.find((c) => c.id === 'header-capacity-shop');
      expect(capacity?.data[1]?.[0]).toBeCloseTo(6 / 2, 0);
    } finally {
      watcher.stop();
      await gate.close();
      dynamo.closeAllConnections();
      await new Promise<void>((r) => dynamo.close(() => r()));
    }
  });

  it('serves the page and its data on 127.0.0.1 only to its own host name', async () => {
    const dashboard = await startDashboardServer(join(dir, 'state-serve'), 0);
    try {
      const page = await get(dashboard.url);
      expect(page.status).toBe(200);
      expect(page.type).toMatch(/text\/html/);
      expect(page.body).toContain('connect-src &#39;self&#39;');
      const data = await get(`${dashboard.url}data.json`);
      expect(JSON.parse(data.body)).toMatchObject({ source: 'none' });
      expect((await get(`${dashboard.url}nothing`)).status).toBe(404);
      expect((await get(dashboard.url, 'attacker.example:80')).status).toBe(421);
    } finally {
      await dashboard.close();
    }
  });
});

describe('loadtest dashboard --target aws', () => {
  let aws: FakeAws;
  const saved = { ...process.env };

  beforeAll(async () => {
    aws = await startFakeAws({
      stackName: 'Demo',
      secret: 'unused',
      outputs: {
        TableName: 'shop',
        AppUrl: 'https://abc.us-east-1.awsapprunner.com',
        AuthSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:auth',
        RunnerFunctionName: 'Demo-Runners-Runner',
        DashboardName: 'Demo-shop loadtest',
      },
      app: async () => undefined,
      gate: () => undefined,
    });
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    });
  });

  afterAll(async () => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_CLOUDFORMATION']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await aws?.close();
  });

  it("prints the CloudWatch console URL of the stack's dashboard", async () => {
    const r = await cli(['dashboard', '--target', 'aws', '--stack', 'Demo', '--aws-region', 'eu-west-1']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(
      'dashboard: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/Demo-shop%20loadtest',
    );
    expect(aws.calls).toContain('DescribeStacks Demo-Observability');
  });

  it('refuses --target aws without a stack, and --stack without --target aws, with exit 2', async () => {
    expect(await cli(['dashboard', '--target', 'aws'])).toMatchObject({ code: 2 });
    expect((await cli(['dashboard', '--stack', 'Demo'])).err).toBe('error: --stack is for --target aws only');
    expect((await cli(['dashboard', '--target', 'gcp'])).code).toBe(2);
    // A port that is not a number is not told as NaN (as typed from the command line; in process here).
    const port = await cli(['dashboard', '--port', 'abc']);
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/^error: --port: expected a port number 0-65535, got (?!NaN)/);
  });
});
