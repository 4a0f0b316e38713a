import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, generateSeed } from '../../app/index.js';
import {
  type EmbeddedStack,
  type LocalLambda,
  startEmbeddedStack,
  startLocalLambda,
} from '../../local/index.js';
import { runCli } from '../helpers/cli.js';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.js';

/**
 * `loadtest run --target aws` end to end, with no AWS: the real SDK clients are pointed (through
 * AWS_ENDPOINT_URL_<SERVICE>) at a Lambda Invoke-compatible endpoint that runs the real runner
 * handler in worker processes, at DynamoDB Local behind the capacity gate, and at loopback stand-ins
 * for CloudFormation, Secrets Manager and CloudWatch in those services' wire formats.
 */
const FUNCTION = 'DynamoLoadtest-Runners-Runner1A2B3C';
let stack: EmbeddedStack;
let lambda: LocalLambda;
let aws: FakeAws;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-aws-e2e-'));
  const secret = randomBytes(24).toString('hex');
  stack = await startEmbeddedStack({ port: 0, seed: false, authSecret: secret });
  lambda = await startLocalLambda({
    functionName: FUNCTION,
    timeoutSec: 60,
    memoryMb: 1024,
    reservedConcurrency: 5,
  });
  aws = await startFakeAws({
    stackName: 'DynamoLoadtest',
    secret,
    outputs: {
      TableName: stack.tableName,
      AppUrl: stack.appUrl,
      AuthSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-AbCdEf',
      RunnerFunctionName: FUNCTION,
      DashboardName: 'DynamoLoadtest-shop',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders',
    },
    app: async () => stack.shop.metrics.snapshot(),
    gate: () => stack.gate?.snapshot(),
  });
  env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    // DynamoDB Local keeps tables per access key: the embedded stack signs with "local".
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: aws.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
  };
}, 60_000);

afterAll(async () => {
  await aws?.close();
  await lambda?.close();
  await stack?.stop();
});

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
  it('seeds the stack table, invokes N runner functions, merges them and reads the server side back', async () => {
    const output = join(dir, 'aws.json');
    const run = runCli([...base, '--workers', '3', '--yes', '--metrics-delay', '0', '--output', output], {
      env,
    });
    const { code } = await run.exited;
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    expect(run.stderr()).toMatch(/plan: 3 Lambda worker\(s\) of DynamoLoadtest-Runners-Runner1A2B3C/);
    expect(run.stderr()).toMatch(/estimated cost: Lambda \$/);
    expect(run.stderr()).toMatch(/seed: 60 products, 50 users written to shop/);
    expect(run.stdout()).toContain(
      'dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/DynamoLoadtest-shop',
    );
    expect(lambda.invocations).toBe(3);
    expect(aws.calls.filter((c) => c.startsWith('DescribeStacks'))).toHaveLength(5);
    expect(aws.calls).toContain('GetSecretValue');
    expect(aws.calls).toContain('GetMetricData');

    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report).toMatchObject({ scenario: 'smoke', target: stack.appUrl, passed: true, partial: false });
    expect(report.workers.map((w: { status: string }) => w.status)).toEqual(['ok', 'ok', 'ok']);
    // 3 s at 2 arrivals/s: 6 virtual users, one getProduct each, over 3 workers.
    const row = (id: string) => report.patterns.find((p: { id: string }) => p.id === id);
    expect(row('getProduct').requests).toBe(6);
    // The server side came back through GetMetricData, in the same shape as a local run.
    expect(row('getProduct').serverLatencyMs.p99).toBeGreaterThan(0);
    expect(row('getProduct').rcuPerRequest).toBe(0.5);
    expect(row('checkout').wcu).toBeGreaterThan(0);
    expect(report.tables.find((t: { index: string | null }) => t.index === null).consumedWcu).toBeGreaterThan(
      0,
    );
  }, 120_000);

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
    const slow = await startLocalLambda({ functionName: FUNCTION, timeoutSec: 1 });
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
  }, 60_000);

  it('stops runners before the function time limit: named, with what they measured, partial, exit 3', async () => {
    // Long enough that even a slow cold start leaves several seconds of load before the stop.
    const short = await startLocalLambda({ functionName: FUNCTION, timeoutSec: 12 });
    try {
      const last = generateSeed({ users: 50, products: 60 }).items.at(-1) ?? {};
      const { doc } = createDynamoClients({ endpoint: stack.dynamodbEndpoint });
      const seededBefore = Boolean(
        (await doc.send(new GetCommand({ TableName: stack.tableName, Key: { PK: last.PK, SK: last.SK } })))
          .Item,
      );
      const output = join(dir, 'stopped.json');
      const args = [...base.slice(0, -4), '--duration', '20', '--rate', '4', '--workers', '2', '--yes'];
      const run = runCli([...args, '--metrics-delay', '0', '--output', output], {
        env: { ...env, AWS_ENDPOINT_URL_LAMBDA: short.endpoint },
      });
      expect((await run.exited).code, run.stderr()).toBe(3);
      expect(run.stderr()).toMatch(/the scenario runs 20 s but the runner's timeout is 12 s/);
      // The same deterministic seed is written once: an earlier run in this file may have done it.
      expect(run.stderr()).toMatch(
        seededBefore
          ? /seed: already in shop \(60 products, 50 users\)/
          : /seed: 60 products, 50 users written to shop/,
      );
      const report = JSON.parse(await readFile(output, 'utf8'));
      expect(report.partial).toBe(true);
      for (const w of report.workers) {
        expect(w.status).toBe('stopped');
        expect(w.error).toMatch(/^time limit: stopped 1 s before the host's limit/);
      }
      // What the stopped workers measured is in the report.
      const get = report.patterns.find((p: { id: string }) => p.id === 'getProduct');
      expect(get.requests).toBeGreaterThan(4);
    } finally {
      await short.close();
    }
  }, 60_000);

  it('seeds the deployed table and writes users with tokens the deployed app accepts', async () => {
    const csv = join(dir, 'users.csv');
    const run = runCli(
      [
        'seed',
        '--target',
        'aws',
        '--stack',
        'DynamoLoadtest',
        '--users',
        '4',
        '--products',
        '3',
        '--csv',
        csv,
      ],
      {
        env,
      },
    );
    expect((await run.exited).code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/seeded .* at stack DynamoLoadtest \(us-east-1\): 4 users, 3 products/);
    const rows = (await readFile(csv, 'utf8')).trim().split('\n').slice(1);
    expect(rows).toHaveLength(4);
    const [email, token] = rows[0]?.split(',') ?? [];
    const me = await fetch(`${stack.appUrl}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(email);
  }, 60_000);
});
