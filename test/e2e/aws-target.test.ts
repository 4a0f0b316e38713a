import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, generateSeed } from '../../app/index.js';
import type { MetricsSnapshot } from '../../instrument/index.js';
import {
  type EmbeddedStack,
  type LocalLambda,
  type StackProject,
  startEmbeddedStack,
  startLocalLambda,
} from '../../local/index.js';
import { stackProjectOf } from '../../runner/cli/project.js';
import { DEFAULT_PROJECT_FILE, loadProject, type Project } from '../../runner/project/index.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.js';

/**
 * `loadtest run --target aws` and `loadtest seed --target aws` end to end, with no AWS: the real SDK
 * clients are pointed (through AWS_ENDPOINT_URL_<SERVICE>, which the project's data command inherits)
 * at a Lambda Invoke-compatible endpoint that runs the real runner handler in worker processes, at
 * DynamoDB Local, and at loopback stand-ins for CloudFormation, Secrets Manager and CloudWatch in
 * those services' wire formats. The "deployed" shop runs as its container does: the stack's table and
 * secret, no dev-token route.
 */
const FUNCTION = 'DynamoLoadtest-Runners-Runner1A2B3C';
/** The deployed table: not the shop config's local name ("shop"), so the data command must take the stack's. */
const TABLE = 'DynamoLoadtest-Data-TableCD117FA1-1ABCDEF2345';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-AbCdEf';
let stack: EmbeddedStack;
let lambda: LocalLambda;
let aws: FakeAws;
let dir: string;
let env: NodeJS.ProcessEnv;

/** The shop as its CDK deployment runs it: the stack's table and auth secret, and no dev-token route. */
function asDeployed(project: Project, secret: string): StackProject {
  const base = stackProjectOf(project);
  const app = project.app;
  if (!app?.start) throw new Error(`${project.file}: the shop has no app.start`);
  return {
    ...base,
    tables: base.tables.map((t) => ({ ...t, name: TABLE })),
    app: {
      ...app,
      start: {
        ...app.start,
        env: { ...app.start.env, TABLE_NAME: TABLE, AUTH_SECRET: secret, DEV_TOKENS: '0' },
      },
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-aws-e2e-'));
  const secret = randomBytes(24).toString('hex');
  const shop = await loadProject(DEFAULT_PROJECT_FILE, true);
  stack = await startEmbeddedStack({ project: asDeployed(shop, secret), runData: false });
  lambda = await startLocalLambda({
    functionName: FUNCTION,
    timeoutSec: 60,
    memoryMb: 1024,
    reservedConcurrency: 5,
  });
  const appUrl = stack.appUrl ?? '';
  aws = await startFakeAws({
    stackName: 'DynamoLoadtest',
    secret,
    outputs: {
      TableName: TABLE,
      TableArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`,
      AppUrl: appUrl,
      AuthSecretArn: SECRET_ARN,
      RunnerFunctionName: FUNCTION,
      DashboardName: 'DynamoLoadtest-shop',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders',
    },
    // What the app's EMF lines carry: its own per-pattern numbers (its /__metrics, on here).
    app: async () => (await (await fetch(`${appUrl}/__metrics`)).json()) as MetricsSnapshot,
    gate: () => stack.gate?.snapshot(),
  });
  env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: aws.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    // Straight to DynamoDB Local, as the data command writes on AWS: the gate counts the app's calls only.
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
  };
}, 90_000);

afterAll(async () => {
  await aws?.close();
  await lambda?.close();
  await stack?.stop();
});

/** Whether the seed the smoke scenario asks for is in the table (its last item, as the data command checks). */
async function smokeSeedPresent(): Promise<boolean> {
  const last = generateSeed({ users: 50, products: 60 }).items.at(-1) ?? {};
  const { raw, doc } = createDynamoClients({ endpoint: stack.dynamodbEndpoint });
  try {
    return Boolean(
      (await doc.send(new GetCommand({ TableName: TABLE, Key: { PK: last.PK, SK: last.SK } }))).Item,
    );
  } finally {
    raw.destroy();
  }
}

/** The shop's data command as the CLI runs it, with an environment of the test's choosing. */
function dataCommand(extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/seed-main.ts'], {
      cwd: ROOT,
      env: { ...env, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const base = [
  'run',
  'smoke',
  '--target',
  'aws',
  '--stack',
  'DynamoLoadtest',
  '--duration',
  '3',
  '--rate',
  '2',
];

describe('loadtest run --target aws (local stand-ins for AWS)', () => {
  it("seeds the stack's table with the project's data command, invokes N runners, merges them and reads the server side back", async () => {
    const output = join(dir, 'aws.json');
    const run = runCli([...base, '--workers', '3', '--yes', '--metrics-delay', '0', '--output', output], {
      env,
    });
    const { code } = await run.exited;
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    expect(run.stderr()).toMatch(/plan: 3 Lambda worker\(s\) of DynamoLoadtest-Runners-Runner1A2B3C/);
    expect(run.stderr()).toMatch(/estimated cost: Lambda \$/);
    // The shop's data command wrote the scenario's seed into the stack's table (LOADTEST_OUTPUT_TABLENAME
    // over the config's TABLE_NAME=shop), and signed the users' tokens with the stack's secret.
    expect(run.stderr()).toContain(`seed: 50 users, 60 products, 0 orders = 110 items into ${TABLE}`);
    expect(run.stderr()).toMatch(
      /seeded stack DynamoLoadtest \(us-east-1\) with the data command of project shop/,
    );
    expect(aws.calls).toContain(`GetSecretValue ${SECRET_ARN}`);
    expect(run.stdout()).toContain(
      'dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/DynamoLoadtest-shop',
    );
    expect(lambda.invocations).toBe(3);
    expect(aws.calls.filter((c) => c.startsWith('DescribeStacks'))).toHaveLength(5);
    // CloudWatch was asked about the project: its patterns under its name, and the stack's table.
    expect(aws.calls.some((c) => c.startsWith('GetMetricData'))).toBe(true);
    const emf = aws.queries.filter((q) => q.namespace === 'DynamoLoadtest/App');
    expect(new Set(emf.map((q) => q.dimensions.Service))).toEqual(new Set(['shop']));
    const ddb = aws.queries.filter((q) => q.namespace === 'AWS/DynamoDB');
    expect(new Set(ddb.map((q) => q.dimensions.TableName))).toEqual(new Set([TABLE]));
    expect(new Set(ddb.map((q) => q.dimensions.GlobalSecondaryIndexName).filter(Boolean))).toEqual(
      new Set(['GSI1', 'GSI2', 'GSI3']),
    );

    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report).toMatchObject({ scenario: 'smoke', target: stack.appUrl, passed: true, partial: false });
    expect(report.sources.dynamodb).toMatch(/^CloudWatch/);
    expect(report.notMeasured).toBeUndefined();
    expect(report.workers.map((w: { status: string }) => w.status)).toEqual(['ok', 'ok', 'ok']);
    // 3 s at 2 arrivals/s: 6 virtual users, one getProduct each, over 3 workers.
    const row = (id: string) => report.patterns.find((p: { id: string }) => p.id === id);
    expect(row('getProduct').requests).toBe(6);
    // The server side came back through GetMetricData, in the same shape as a local run.
    expect(row('getProduct').serverLatencyMs.p99).toBeGreaterThan(0);
    expect(row('getProduct').rcuPerRequest).toBe(0.5);
    expect(row('checkout').wcu).toBeGreaterThan(0);
    const table = report.tables.find((t: { index: string | null }) => t.index === null);
    expect(table).toMatchObject({ table: TABLE, provisioned: null });
    expect(table.consumedWcu).toBeGreaterThan(0);
  }, 180_000);

  it('refuses a target URL that is not the stack app unless --allow-target names it', async () => {
    const other = 'http://127.0.0.1:9';
    const refused = runCli([...base, '--yes', '--url', other], { env });
    expect((await refused.exited).code).toBe(2);
    expect(refused.stderr()).toMatch(
      /--url http:\/\/127.0.0.1:9 is not the app of stack DynamoLoadtest.*--allow-target/,
    );
    expect(lambda.invocations).toBe(3);
  }, 60_000);

  it("refuses more workers than the runner's reserved concurrency", async () => {
    const run = runCli([...base, '--workers', '6', '--yes'], { env });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(/--workers 6: the runner function's reserved concurrency is 5/);
  }, 60_000);

  it('needs --yes when it cannot ask', async () => {
    const run = runCli(base, { env });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(/not on a terminal to confirm the plan; pass --yes/);
  }, 60_000);

  it('names a runner that timed out; the run is partial and exits 3', async () => {
    // A runner whose start alone outlasts its 1 s limit, whatever this machine's speed: every runtime
    // process waits 1.5 s before loading anything. Left to chance, a fast start could instead see its
    // 0.1 s stop margin and return "stopped" just before the limit, which is a different case (below).
    const slow = await startLocalLambda({
      functionName: FUNCTION,
      timeoutSec: 1,
      env: { NODE_OPTIONS: '--import "data:text/javascript,await new Promise((r) => setTimeout(r, 1500));"' },
    });
    try {
      const output = join(dir, 'timeout.json');
      const run = runCli([...base, '--workers', '2', '--yes', '--metrics-delay', '0', '--output', output], {
        env: { ...env, AWS_ENDPOINT_URL_LAMBDA: slow.endpoint },
      });
      expect((await run.exited).code, run.stderr()).toBe(3);
      const report = JSON.parse(await readFile(output, 'utf8'));
      expect(report.partial).toBe(true);
      expect(report.workers).toEqual([
        expect.objectContaining({ worker: 0, status: 'failed', error: expect.stringMatching(/^timed out/) }),
        expect.objectContaining({ worker: 1, status: 'failed', error: expect.stringMatching(/^timed out/) }),
      ]);
      expect(run.stdout()).toMatch(/worker 0 failed: timed out/);
    } finally {
      await slow.close();
    }
  }, 90_000);

  it('stops runners before the function time limit: named, with what they measured, partial, exit 3', async () => {
    // Long enough that even a slow cold start leaves several seconds of load before the stop, and
    // that the stop's margin (a tenth of the timeout: 2 s) holds on a busy 2-core machine: with 12 s
    // (1.2 s of margin) a CI run once saw a worker killed at the limit instead of stopped before it.
    const short = await startLocalLambda({ functionName: FUNCTION, timeoutSec: 20 });
    try {
      const seededBefore = await smokeSeedPresent();
      const output = join(dir, 'stopped.json');
      const args = [...base.slice(0, -4), '--duration', '30', '--rate', '4', '--workers', '2', '--yes'];
      const run = runCli([...args, '--metrics-delay', '0', '--output', output], {
        env: { ...env, AWS_ENDPOINT_URL_LAMBDA: short.endpoint },
      });
      expect((await run.exited).code, run.stderr()).toBe(3);
      expect(run.stderr()).toMatch(/the scenario runs 30 s but the runner's timeout is 20 s/);
      // The seed is deterministic: the data command writes it once, and finds it there after that
      // (an earlier run in this file may have written it).
      expect(run.stderr()).toContain(
        seededBefore
          ? `seed: already in ${TABLE} (50 users, 60 products, 0 orders)`
          : `seed: 50 users, 60 products, 0 orders = 110 items into ${TABLE}`,
      );
      expect(await smokeSeedPresent()).toBe(true);
      const report = JSON.parse(await readFile(output, 'utf8'));
      expect(report.partial).toBe(true);
      for (const w of report.workers) {
        expect(w.status, w.error).toBe('stopped');
        expect(w.error).toMatch(/^time limit: stopped 2 s before the host's limit/);
      }
      // What the stopped workers measured is in the report.
      const get = report.patterns.find((p: { id: string }) => p.id === 'getProduct');
      expect(get.requests).toBeGreaterThan(4);
    } finally {
      await short.close();
    }
  }, 90_000);
});

describe('loadtest run --target aws for a project with no data command', () => {
  it('seeds nothing, and says the DynamoDB side per pattern was not measured when the app publishes no metrics', async () => {
    // Another project on the same deployment: its own name (the EMF Service) and patterns, no data command.
    const project = join(dir, 'bare');
    await mkdir(project, { recursive: true });
    const config = join(project, 'loadtest.config.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'bare',
        app: stack.appUrl,
        tables: [
          {
            name: 'things',
            partitionKey: 'id',
            globalSecondaryIndexes: [{ name: 'byKind', partitionKey: 'kind' }],
          },
        ],
        patterns: [{ id: 'health', description: 'the health check' }],
      }),
    );
    const scenario = join(project, 'health.yml');
    await writeFile(
      scenario,
      'config:\n  target: http://127.0.0.1:1\n  phases: [{ duration: 2, arrivalRate: 2 }]\nscenarios:\n  - flow:\n      - get: { url: /health, name: health }\n',
    );
    const output = join(dir, 'bare.json');
    const before = aws.queries.length;
    const args = [
      'run',
      scenario,
      '--config',
      config,
      '--target',
      'aws',
      '--stack',
      'DynamoLoadtest',
      '--yes',
    ];
    const run = runCli([...args, '--metrics-delay', '0', '--output', output], { env });
    expect((await run.exited).code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    expect(run.stderr()).toContain(
      'seed: project bare has no data command: nothing seeded, and the scenarios get no fixtures',
    );

    // CloudWatch was asked about this project: its pattern under its name, its table's GSIs.
    const asked = aws.queries.slice(before);
    expect(
      new Set(
        asked
          .filter((q) => q.dimensions.Service)
          .map((q) => `${q.dimensions.Service}/${q.dimensions.AccessPattern}`),
      ),
    ).toEqual(new Set(['bare/health']));
    expect(new Set(asked.map((q) => q.dimensions.GlobalSecondaryIndexName).filter(Boolean))).toEqual(
      new Set(['byKind']),
    );

    const report = JSON.parse(await readFile(output, 'utf8'));
    // The stand-in app publishes nothing under Service=bare: not measured, rather than zero calls.
    expect(report.sources.dynamodb).toBeNull();
    expect(report.notMeasured).toMatch(/CloudWatch had no DynamoLoadtest\/App metrics with Service=bare/);
    const health = report.patterns.find((p: { id: string }) => p.id === 'health');
    expect(health).toMatchObject({ requests: 4, errors: 0, calls: null, rcuPerRequest: null });
  }, 90_000);
});

describe("loadtest run --target aws against a project's own deployment (-c project=...)", () => {
  it('reads only its Runners and Observability stacks: the app URL and every table with its GSIs come from them', async () => {
    // What `npx cdk deploy -c project=<folder>` deploys: two stacks next to the user's app and tables.
    const prefix = 'Loadtest-things';
    const tables = [
      { name: 'things-live', indexes: ['byKind'] },
      { name: 'kinds-live', indexes: [] },
    ];
    const own = await startFakeAws({
      stackName: prefix,
      secret: 'unused',
      outputs: {},
      stacks: {
        [`${prefix}-Runners`]: { RunnerFunctionName: FUNCTION },
        [`${prefix}-Observability`]: {
          DashboardName: prefix,
          AppUrl: stack.appUrl ?? '',
          Tables: JSON.stringify(tables),
          Project: 'things',
        },
      },
      app: async () => undefined,
      gate: () => undefined,
    });
    try {
      const project = join(dir, 'things');
      await mkdir(project, { recursive: true });
      const config = join(project, 'loadtest.config.json');
      // Its local app URL is not where the load goes on AWS: the deployment's AppUrl is.
      await writeFile(
        config,
        JSON.stringify({
          name: 'things',
          app: 'http://127.0.0.1:1',
          tables: [
            {
              name: 'things',
              partitionKey: 'id',
              globalSecondaryIndexes: [{ name: 'byKind', partitionKey: 'kind' }],
            },
            { name: 'kinds', partitionKey: 'kind' },
          ],
          patterns: [{ id: 'health' }],
          aws: { tables: { things: 'things-live', kinds: 'kinds-live' } },
        }),
      );
      const scenario = join(project, 'health.yml');
      await writeFile(
        scenario,
        'config:\n  target: http://127.0.0.1:1\n  phases: [{ duration: 2, arrivalRate: 2 }]\nscenarios:\n  - flow:\n      - get: { url: /health, name: health }\n',
      );
      const output = join(dir, 'things.json');
      const args = ['run', scenario, '--config', config, '--target', 'aws', '--stack', prefix, '--yes'];
      const run = runCli([...args, '--metrics-delay', '0', '--output', output], {
        env: {
          ...env,
          AWS_ENDPOINT_URL_CLOUDFORMATION: own.endpoint,
          AWS_ENDPOINT_URL_CLOUDWATCH: own.endpoint,
        },
      });
      expect((await run.exited).code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
      // No Data, Service or Events stack was asked for.
      expect(own.calls.filter((c) => c.startsWith('DescribeStacks')).sort()).toEqual([
        `DescribeStacks ${prefix}-Observability`,
        `DescribeStacks ${prefix}-Runners`,
      ]);
      expect(run.stdout()).toContain(`#dashboards/dashboard/${prefix}`);
      // CloudWatch was asked about each deployed table and its GSI, and the project's pattern.
      const ddb = own.queries.filter((q) => q.namespace === 'AWS/DynamoDB');
      expect(new Set(ddb.map((q) => q.dimensions.TableName))).toEqual(new Set(['things-live', 'kinds-live']));
      expect(
        new Set(ddb.filter((q) => q.dimensions.GlobalSecondaryIndexName).map((q) => q.dimensions.TableName)),
      ).toEqual(new Set(['things-live']));
      expect(
        new Set(
          own.queries
            .filter((q) => q.dimensions.Service)
            .map((q) => `${q.dimensions.Service}/${q.dimensions.AccessPattern}`),
        ),
      ).toEqual(new Set(['things/health']));
      const report = JSON.parse(await readFile(output, 'utf8'));
      expect(report.target).toBe(stack.appUrl);

      // Another project's config against this deployment: refused before any load, naming both.
      const other = join(project, 'other.config.json');
      await writeFile(
        other,
        JSON.stringify({ name: 'other', tables: [{ name: 'x1x', partitionKey: 'id' }] }),
      );
      const invoked = lambda.invocations;
      const refused = runCli(
        ['run', scenario, '--config', other, '--target', 'aws', '--stack', prefix, '--yes'],
        {
          env: {
            ...env,
            AWS_ENDPOINT_URL_CLOUDFORMATION: own.endpoint,
            AWS_ENDPOINT_URL_CLOUDWATCH: own.endpoint,
          },
        },
      );
      expect((await refused.exited).code, refused.stderr()).toBe(2);
      expect(refused.stderr()).toMatch(
        /--stack Loadtest-things was deployed for project things, not for project other \(.*other\.config\.json\)/,
      );
      expect(lambda.invocations).toBe(invoked);
      expect(report.patterns.find((p: { id: string }) => p.id === 'health')).toMatchObject({
        requests: 4,
        errors: 0,
      });
    } finally {
      await own.close();
    }
  }, 90_000);
});

describe('loadtest seed --target aws (local stand-ins for AWS)', () => {
  it('runs the data command against the stack: users with tokens the deployed app accepts', async () => {
    const csv = join(dir, 'users.csv');
    const args = ['seed', '--target', 'aws', '--stack', 'DynamoLoadtest', '--users', '4', '--products', '3'];
    const run = runCli([...args, '--csv', csv], { env });
    expect((await run.exited).code, run.stderr()).toBe(0);
    // Into the stack's table (its first four users and three products may be there from a run).
    expect(run.stdout()).toMatch(
      new RegExp(
        `seed: (already in ${TABLE} \\(4 users, 3 products, 0 orders\\)|4 users, 3 products, 0 orders = 7 items into ${TABLE})`,
      ),
    );
    expect(run.stdout()).toMatch(
      /seeded stack DynamoLoadtest \(us-east-1\) with the data command of project shop/,
    );
    const rows = (await readFile(csv, 'utf8')).trim().split('\n').slice(1);
    expect(rows).toHaveLength(4);
    const [email, token] = rows[0]?.split(',') ?? [];
    const me = await fetch(`${stack.appUrl}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(email);
  }, 60_000);

  it("passes the data command's refusal of its parameters on: exit 2, naming the stack", async () => {
    const run = runCli(['seed', '--target', 'aws', '--stack', 'DynamoLoadtest', '--users', 'many'], { env });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(/seeding stack DynamoLoadtest \(us-east-1\): .*failed \(code 2/);
    expect(run.stderr()).toMatch(/seed parameter users/);
  }, 60_000);

  it("names the secret it cannot read (exit 1), and never asks a deployed app's dev-token route", async () => {
    const deployed = {
      LOADTEST_TARGET: 'aws',
      LOADTEST_STACK: 'DynamoLoadtest',
      LOADTEST_OUTPUT_TABLENAME: TABLE,
    };
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-XyZ';
    const unreadable = await dataCommand({ ...deployed, LOADTEST_OUTPUT_AUTHSECRETARN: missing });
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toContain(`secret ${missing}: ResourceNotFoundException`);
    expect(aws.calls).toContain(`GetSecretValue ${missing}`);
    // No secret output and no AUTH_SECRET: it says so rather than minting tokens at the app's URL.
    const noSecret = await dataCommand({ ...deployed, LOADTEST_APP_URL: stack.appUrl ?? '' });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(
      /stack DynamoLoadtest has no AuthSecretArn output and AUTH_SECRET is not set/,
    );
  }, 60_000);
});
