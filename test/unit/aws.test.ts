import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  type GetInsightRuleReportCommandInput,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { type DescribeContributorInsightsCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it, vi } from 'vitest';
import { patternIds, SHOP_SERVICE, tableDefinition } from '../../app/index.js';
import { EMF_NAMESPACE, encodeSketch } from '../../instrument/index.js';
import {
  appUrlOf,
  CloudWatchMetricsSource,
  type CloudWatchSourceOptions,
  ContributorInsightsReader,
  dashboardConsoleUrl,
  LambdaInvoker,
  MAX_QUERIES_PER_REQUEST,
  planRun,
  readStackOutputs,
  StackNotReady,
} from '../../runner/aws/index.js';
import { awsRegion } from '../../runner/cli/aws-stack.js';
import { deploymentDataEnvironment } from '../../runner/cli/aws-target.js';
import { UsageError } from '../../runner/cli/errors.js';
import { fanOut } from '../../runner/engine/fanout.js';
import type { RunnerEvent, RunnerResult } from '../../runner/engine/handler.js';
import type { ServerView } from '../../runner/metrics/index.js';
import { OPERATIONS } from '../../runner/project/index.js';
import { buildReport } from '../../runner/report/build.js';
import { renderHtml } from '../../runner/report/html.js';
import { renderConsole } from '../../runner/report/render.js';
import {
  type Recorded,
  RecordedHttpHandler,
  type SeenRequest,
  TEST_CREDENTIALS,
} from '../helpers/recorded-aws.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/aws/${name}`, import.meta.url), 'utf8');
const region = 'eu-west-1';

function form(req: SeenRequest): URLSearchParams {
  return new URLSearchParams(req.body);
}

describe('stack outputs (CloudFormation DescribeStacks, recorded responses)', () => {
  const xml = { 'content-type': 'text/xml' };

  it('reads every output the CLI needs from the five stacks', async () => {
    const http = new RecordedHttpHandler((req) => {
      const suffix = form(req).get('StackName')?.split('-')[1]?.toLowerCase() ?? '';
      return { status: 200, headers: xml, body: fixture(`describe-stacks-${suffix}.xml`) };
    });
    const cfn = new CloudFormationClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http });
    const outputs = await readStackOutputs(cfn, 'DynamoLoadtest');
    const values = {
      tableName: 'DynamoLoadtest-Data-TableCD117FA1-1ABCDEF2345',
      appUrl: 'https://abcd1234ef.eu-west-1.awsapprunner.com',
      runnerFunctionName: 'DynamoLoadtest-Runners-Runner9F2C3D4E-Xy12AbCd34Ef',
      dashboardName: 'DynamoLoadtest-shop',
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:DynamoLoadtest-Events-OrderCompletedTopic-AbC123',
    };
    expect(outputs).toMatchObject({ stackName: 'DynamoLoadtest', ...values });
    // Every output by key, for the project's data command (LOADTEST_OUTPUT_<KEY>); CDK's
    // cross-stack exports are left out.
    expect(outputs.outputs).toEqual({
      TableName: values.tableName,
      TableArn: expect.stringMatching(/^arn:aws:dynamodb:eu-west-1:123456789012:table\//),
      AppUrl: values.appUrl,
      AuthSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AuthSecret3D2B1A-AbCdEf',
      RunnerFunctionName: values.runnerFunctionName,
      DashboardName: values.dashboardName,
      TopicArn: values.topicArn,
    });
    // The wire requests: the Query protocol, one DescribeStacks per stack.
    expect(http.seen.map((r) => form(r).get('StackName')).sort()).toEqual(
      ['Data', 'Events', 'Observability', 'Runners', 'Service'].map((s) => `DynamoLoadtest-${s}`),
    );
    for (const r of http.seen) {
      expect(r.method).toBe('POST');
      expect(form(r).get('Action')).toBe('DescribeStacks');
      expect(form(r).get('Version')).toBe('2010-05-15');
      expect(r.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d+\/eu-west-1\/cloudformation\//,
      );
    }
  });

  it("reads a project's deployment from its Runners and Observability stacks alone: the app and every table", async () => {
    const http = new RecordedHttpHandler((req) => {
      const name = form(req).get('StackName') ?? '';
      if (name === 'Loadtest-orders-Observability')
        return { status: 200, headers: xml, body: fixture('describe-stacks-project-observability.xml') };
      if (name === 'Loadtest-orders-Runners')
        return {
          status: 200,
          headers: xml,
          body: fixture('describe-stacks-runners.xml').replaceAll('DynamoLoadtest-', 'Loadtest-orders-'),
        };
      return { status: 400, headers: xml, body: fixture('describe-stacks-missing.xml') };
    });
    const cfn = new CloudFormationClient({
      region,
      credentials: TEST_CREDENTIALS,
      requestHandler: http,
      maxAttempts: 1,
    });
    const outputs = await readStackOutputs(cfn, 'Loadtest-orders');
    expect(outputs).toMatchObject({
      stackName: 'Loadtest-orders',
      kind: 'project',
      appUrl: 'https://orders.example.com',
      tableName: 'customers-prod',
      tables: [
        { name: 'customers-prod', indexes: [] },
        { name: 'orders-prod', indexes: ['byProduct'] },
      ],
      runnerFunctionName: 'Loadtest-orders-Runners-Runner9F2C3D4E-Xy12AbCd34Ef',
      dashboardName: 'Loadtest-orders',
      topicArn: undefined,
      project: 'orders',
    });
    // No Data, Service or Events stack is asked for: the project's app and tables are not ours.
    expect(http.seen.map((r) => form(r).get('StackName')).sort()).toEqual([
      'Loadtest-orders-Observability',
      'Loadtest-orders-Runners',
    ]);
  });

  it("refuses a project deployment whose Tables output is not infra/'s list", async () => {
    const http = new RecordedHttpHandler((req) => ({
      status: 200,
      headers: xml,
      body:
        form(req).get('StackName') === 'Loadtest-orders-Observability'
          ? fixture('describe-stacks-project-observability.xml').replace(
              /<OutputValue>\[.*\]<\/OutputValue>/,
              '<OutputValue>orders</OutputValue>',
            )
          : fixture('describe-stacks-runners.xml'),
    }));
    const cfn = new CloudFormationClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http });
    await expect(readStackOutputs(cfn, 'Loadtest-orders')).rejects.toThrow(
      /Loadtest-orders-Observability: its Tables output is not the list of tables infra\/ writes \(orders\)/,
    );
  });

  it('names a stack that does not exist and how to deploy it', async () => {
    const http = new RecordedHttpHandler((req) =>
      form(req).get('StackName') === 'DynamoLoadtest-Events'
        ? { status: 400, headers: xml, body: fixture('describe-stacks-missing.xml') }
        : {
            status: 200,
            headers: xml,
            body: fixture(`describe-stacks-${form(req).get('StackName')?.split('-')[1]?.toLowerCase()}.xml`),
          },
    );
    const cfn = new CloudFormationClient({
      region,
      credentials: TEST_CREDENTIALS,
      requestHandler: http,
      maxAttempts: 1,
    });
    const err = await readStackOutputs(cfn, 'DynamoLoadtest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackNotReady);
    expect((err as Error).message).toMatch(/DynamoLoadtest-Events does not exist.*npx cdk deploy --all/);
    expect((err as Error).message).toContain('-c project=<its folder>');
  });

  it('refuses a stack whose deployment has not finished', async () => {
    const http = new RecordedHttpHandler((req) => ({
      status: 200,
      headers: xml,
      body: fixture(
        `describe-stacks-${form(req).get('StackName')?.split('-')[1]?.toLowerCase()}.xml`,
      ).replace('CREATE_COMPLETE', 'CREATE_IN_PROGRESS'),
    }));
    const cfn = new CloudFormationClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http });
    await expect(readStackOutputs(cfn, 'DynamoLoadtest')).rejects.toThrow(/is CREATE_IN_PROGRESS: wait/);
  });

  it("reads an ECS Express Mode endpoint given as a bare host as the app's https URL", async () => {
    const host = 'sv-0a1b2c3d4e.ecs.eu-west-1.on.aws';
    const http = new RecordedHttpHandler((req) => {
      const suffix = form(req).get('StackName')?.split('-')[1]?.toLowerCase() ?? '';
      const body = fixture(`describe-stacks-${suffix}.xml`);
      return {
        status: 200,
        headers: xml,
        body: body.replace('https://abcd1234ef.eu-west-1.awsapprunner.com', `${host}/`),
      };
    });
    const cfn = new CloudFormationClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http });
    const outputs = await readStackOutputs(cfn, 'DynamoLoadtest');
    expect(outputs.appUrl).toBe(`https://${host}`);
    // The project's data command gets the same URL the runners send load to.
    expect(outputs.outputs.AppUrl).toBe(`https://${host}`);
    expect(appUrlOf('https://x.awsapprunner.com/')).toBe('https://x.awsapprunner.com');
    expect(appUrlOf('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });

  it('links the dashboard in the CloudWatch console', () => {
    expect(dashboardConsoleUrl('eu-west-1', 'DynamoLoadtest-shop')).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/DynamoLoadtest-shop',
    );
  });
});

describe('the region of a --target aws command', () => {
  const withConfig = async (config: string, env: Record<string, string | undefined>, flag?: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-config-'));
    const file = join(dir, 'config');
    writeFileSync(file, config);
    vi.stubEnv('AWS_CONFIG_FILE', file);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      return await awsRegion(flag);
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const config = '[default]\nregion = eu-central-1\n\n[profile load]\nregion = ap-southeast-2\n';

  it('reads the profile of AWS_PROFILE from the shared config file, as the CDK CLI does', async () => {
    expect(await withConfig(config, { AWS_PROFILE: 'load' })).toBe('ap-southeast-2');
    expect(await withConfig(config, {})).toBe('eu-central-1');
  });

  it('prefers --aws-region, then AWS_REGION and AWS_DEFAULT_REGION, to the config file', async () => {
    expect(await withConfig(config, { AWS_PROFILE: 'load' }, 'us-west-2')).toBe('us-west-2');
    expect(await withConfig(config, { AWS_REGION: 'sa-east-1' })).toBe('sa-east-1');
    expect(await withConfig(config, { AWS_DEFAULT_REGION: 'ca-central-1' })).toBe('ca-central-1');
  });

  it('says where it looked when no region is set anywhere', async () => {
    const err = await withConfig('[profile other]\nregion = eu-west-3\n', { AWS_PROFILE: 'load' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /no region; pass --aws-region, set AWS_REGION, or set region in profile load of .*config/,
    );
  });
});

describe("the project's data command against a deployment", () => {
  it('gets the stack, every output as LOADTEST_OUTPUT_<KEY>, the fixtures file and its parameters', () => {
    const env = deploymentDataEnvironment(
      {
        stackName: 'DynamoLoadtest',
        kind: 'shop',
        tableName: 'T-1',
        tables: undefined,
        project: undefined,
        appUrl: 'https://abc.awsapprunner.com',
        runnerFunctionName: 'R',
        dashboardName: 'D',
        topicArn: undefined,
        outputs: { TableName: 'T-1', AppUrl: 'https://abc.awsapprunner.com/', AuthSecretArn: 'arn:s' },
      },
      'eu-west-1',
      '/tmp/x/fixtures.json',
      { users: 5 },
    );
    expect(env).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      LOADTEST_TARGET: 'aws',
      LOADTEST_STACK: 'DynamoLoadtest',
      LOADTEST_OUTPUT_TABLENAME: 'T-1',
      LOADTEST_OUTPUT_APPURL: 'https://abc.awsapprunner.com/',
      LOADTEST_OUTPUT_AUTHSECRETARN: 'arn:s',
      LOADTEST_APP_URL: 'https://abc.awsapprunner.com',
      LOADTEST_FIXTURES: '/tmp/x/fixtures.json',
      LOADTEST_SEED: '{"users":5}',
    });
    // It talks to AWS itself: no endpoint of ours is put in its way.
    expect(Object.keys(env).filter((k) => k.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
  });
});

function sketchOf(values: number[]) {
  const s = new DDSketch({ relativeAccuracy: 0.01 });
  for (const v of values) s.accept(v);
  return encodeSketch(s);
}

const event: RunnerEvent = {
  worker: 3,
  workers: 8,
  script: { config: { phases: [{ duration: 10, arrivalRate: 1 }] }, scenarios: [{ flow: [] }] },
  scriptPath: 'scenarios/smoke.yml',
};

describe('Lambda invoker (Invoke, recorded responses)', () => {
  const fn = 'DynamoLoadtest-Runners-Runner9F2C3D4E-Xy12AbCd34Ef';
  const lambda = (http: RecordedHttpHandler) =>
    new LambdaClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http, maxAttempts: 1 });

  it('sends the event synchronously and returns the worker result', async () => {
    const result: RunnerResult = {
      worker: 3,
      status: 'ok',
      result: {
        startedAt: '2026-11-23T10:00:00.000Z',
        endedAt: '2026-11-23T10:00:10.000Z',
        byName: {
          getProduct: { requests: 3, errors: 0, codes: { '200': 3 }, latency: sketchOf([10, 20, 30]) },
        },
        counters: { 'vusers.created': 10 },
      },
    };
    const http = new RecordedHttpHandler(() => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' },
      body: JSON.stringify(result),
    }));
    const invoker = new LambdaInvoker(lambda(http), fn);
    const request: InvokeCommandInput = invoker.request(event);
    expect(request.InvocationType).toBe('RequestResponse');
    let progress = 0;
    const outcome = await invoker.invoke(event, () => {
      progress += 1;
    });
    expect(outcome).toEqual({ worker: 3, status: 'ok', result: result.result });
    expect(progress).toBe(1);
    const [seen] = http.seen;
    expect(seen?.method).toBe('POST');
    expect(seen?.path).toBe(`/2015-03-31/functions/${fn}/invocations`);
    expect(seen?.headers['x-amz-invocation-type']).toBe('RequestResponse');
    expect(JSON.parse(seen?.body ?? '')).toEqual(event);
  });

  it('names a worker that timed out', async () => {
    const http = new RecordedHttpHandler(() => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' },
      body: JSON.stringify({
        errorType: 'Sandbox.Timedout',
        errorMessage:
          'RequestId: 7f1c0d2e-1111-4c2b-9f00-abcdef012345 Error: Task timed out after 900.00 seconds',
      }),
    }));
    const outcome = await new LambdaInvoker(lambda(http), fn).invoke(event, () => {});
    expect(outcome.worker).toBe(3);
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/^timed out: Sandbox.Timedout: .*Task timed out after 900.00 seconds/);
  });

  it('gives up on an invocation that never answers, and the fan-out names that worker as timed out', async () => {
    // A Lambda Invoke endpoint on loopback that answers worker 0 and never answers worker 1: what a
    // dead connection looks like from the client.
    const answer: RunnerResult = {
      worker: 0,
      status: 'ok',
      result: {
        startedAt: '2026-11-23T10:00:00.000Z',
        endedAt: '2026-11-23T10:00:10.000Z',
        byName: {},
        counters: {},
      },
    };
    const stalled: ServerResponse[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        if ((JSON.parse(body) as RunnerEvent).worker === 1) stalled.push(res);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const client = new LambdaClient({
      region,
      credentials: TEST_CREDENTIALS,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    try {
      const invoker = new LambdaInvoker(client, fn, { invokeTimeoutMs: 500 });
      const started = Date.now();
      const { slices } = await fanOut(event.script, event.scriptPath, 2, invoker);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(stalled).toHaveLength(1);
      expect(slices.map((s) => [s.worker, s.status])).toEqual([
        [0, 'ok'],
        [1, 'failed'],
      ]);
      expect(slices[1]?.error).toMatch(new RegExp(`^timed out: invoke ${fn} gave no answer in 0.5 s`));
    } finally {
      client.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('reports a runner that stopped before its time limit as stopped, with its partial result', async () => {
    const http = new RecordedHttpHandler(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        worker: 3,
        status: 'stopped',
        stoppedEarly: 'time limit: stopped 20 s before the host limit',
        result: {
          startedAt: '2026-11-23T10:00:00.000Z',
          endedAt: '2026-11-23T10:14:40.000Z',
          byName: {},
          counters: {},
        },
      }),
    }));
    const outcome = await new LambdaInvoker(lambda(http), fn).invoke(event, () => {});
    expect(outcome.status).toBe('stopped');
    expect(outcome.error).toMatch(/time limit/);
    expect(outcome.result?.endedAt).toBe('2026-11-23T10:14:40.000Z');
  });

  it('names a throttled invoke (too many concurrent executions)', async () => {
    const http = new RecordedHttpHandler(() => ({
      status: 429,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' },
      body: JSON.stringify({
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        Type: 'User',
        message: 'Rate Exceeded.',
      }),
    }));
    const outcome = await new LambdaInvoker(lambda(http), fn).invoke(event, () => {});
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/TooManyRequestsException: Rate Exceeded/);
  });
});

describe('CloudWatch read-back (GetMetricData, recorded responses)', () => {
  const run = { start: new Date('2026-11-23T10:00:20Z'), end: new Date('2026-11-23T10:02:05Z') };
  const GSIS = tableDefinition.indexes.map((i) => i.name);
  // What `loadtest run --target aws` passes for the shop: everything from its project, nothing from app/.
  const shop: CloudWatchSourceOptions = {
    tables: [{ name: 'shop-table', indexes: GSIS }],
    patterns: patternIds,
    service: SHOP_SERVICE,
  };
  type Dims = Record<string, string>;
  const dimsOf = (q: MetricDataQuery): Dims =>
    Object.fromEntries((q.MetricStat?.Metric?.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
  const finder =
    (queries: readonly MetricDataQuery[]) =>
    (ns: string, metric: string, dims: Dims, stat = 'Sum') => {
      const found = queries.find((q) => {
        const d = dimsOf(q);
        return (
          q.MetricStat?.Metric?.Namespace === ns &&
          q.MetricStat.Metric.MetricName === metric &&
          q.MetricStat.Stat === stat &&
          Object.keys(d).length === Object.keys(dims).length &&
          Object.entries(dims).every(([k, v]) => d[k] === v)
        );
      })?.Id;
      if (!found) throw new Error(`no query for ${ns} ${metric} ${JSON.stringify(dims)} ${stat}`);
      return found;
    };
  /** GetMetricData's answer (JSON protocol) for the queries of one request, from values by query id. */
  const page = (
    queries: readonly MetricDataQuery[],
    values: Record<string, number[]>,
    NextToken?: string,
  ) => ({
    MetricDataResults: queries.map((q) => ({
      Id: q.Id,
      Label: q.MetricStat?.Metric?.MetricName,
      Timestamps: (values[q.Id ?? ''] ?? []).map(() => 1_795_428_000),
      Values: values[q.Id ?? ''] ?? [],
      StatusCode: 'Complete',
    })),
    ...(NextToken ? { NextToken } : {}),
    Messages: [],
  });
  const json = (body: unknown) => ({
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  });
  const client = (http: RecordedHttpHandler) =>
    new CloudWatchClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http });

  it('asks for the whole run as one period on minute boundaries, within GetMetricData limits', () => {
    const source = new CloudWatchMetricsSource(new CloudWatchClient({ region }), shop);
    const requests: GetMetricDataCommandInput[] = source.requests(run);
    expect(requests).toHaveLength(1);
    const [r] = requests;
    expect(r?.StartTime).toEqual(new Date('2026-11-23T10:00:00Z'));
    expect(r?.EndTime).toEqual(new Date('2026-11-23T10:03:00Z'));
    const queries = r?.MetricDataQueries ?? [];
    expect(queries.length).toBeLessThanOrEqual(MAX_QUERIES_PER_REQUEST);
    expect(new Set(queries.map((q) => q.Id)).size).toBe(queries.length);
    for (const q of queries) {
      expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
      expect(q.MetricStat?.Period).toBe(180);
    }
    // The app's last EMF flush (every 10 s) after a run that ends late in a minute is still inside.
    const late = CloudWatchMetricsSource.window({ start: run.start, end: new Date('2026-11-23T10:02:50Z') });
    expect(late.end).toEqual(new Date('2026-11-23T10:04:00Z'));
    // The app's metrics: the project's patterns, under its name as the EMF Service.
    const app = queries.filter((q) => q.MetricStat?.Metric?.Namespace === EMF_NAMESPACE);
    expect(new Set(app.map((q) => dimsOf(q).AccessPattern))).toEqual(new Set(patternIds));
    expect(new Set(app.map((q) => dimsOf(q).Service))).toEqual(new Set(['shop']));
    const gsis = queries.filter((q) => dimsOf(q).GlobalSecondaryIndexName !== undefined);
    expect(new Set(gsis.map((q) => dimsOf(q).GlobalSecondaryIndexName))).toEqual(new Set(GSIS));
    const ops = queries.filter((q) => dimsOf(q).Operation !== undefined);
    expect(new Set(ops.map((q) => dimsOf(q).Operation))).toEqual(new Set(OPERATIONS));
  });

  it('queries every table of the project and its GSIs, and files what comes back under each', async () => {
    const options: CloudWatchSourceOptions = {
      tables: [
        { name: 'orders', indexes: ['byCustomer', 'byStatus'] },
        { name: 'customers', indexes: [] },
      ],
      patterns: ['placeOrder', 'getCustomer'],
      service: 'orders-app',
      namespace: 'Orders/App',
    };
    const source = new CloudWatchMetricsSource(new CloudWatchClient({ region }), options);
    const queries = source.requests(run).flatMap((r) => r.MetricDataQueries ?? []);
    const targetsOf = (metric: string) =>
      queries
        .filter((q) => q.MetricStat?.Metric?.MetricName === metric)
        .map((q) => `${dimsOf(q).TableName}/${dimsOf(q).GlobalSecondaryIndexName ?? '-'}`)
        .sort();
    expect(targetsOf('ConsumedReadCapacityUnits')).toEqual([
      'customers/-',
      'orders/-',
      'orders/byCustomer',
      'orders/byStatus',
    ]);
    // Operations are per table, never per index.
    const opTables = queries.filter(
      (q) => dimsOf(q).Operation === 'Query' && q.MetricStat?.Stat === 'SampleCount',
    );
    expect(opTables.map((q) => dimsOf(q).TableName).sort()).toEqual(['customers', 'orders']);
    expect(
      new Set(
        queries.filter((q) => q.MetricStat?.Metric?.Namespace === 'Orders/App').map((q) => dimsOf(q).Service),
      ),
    ).toEqual(new Set(['orders-app']));

    const find = finder(queries);
    const values: Record<string, number[]> = {
      [find('Orders/App', 'Requests', { Service: 'orders-app', AccessPattern: 'getCustomer' })]: [10],
      [find('Orders/App', 'ConsumedRCU', { Service: 'orders-app', AccessPattern: 'getCustomer' })]: [5],
      [find('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', { TableName: 'orders' })]: [70],
      [find('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', {
        TableName: 'orders',
        GlobalSecondaryIndexName: 'byStatus',
      })]: [30],
      [find('AWS/DynamoDB', 'WriteThrottleEvents', {
        TableName: 'orders',
        GlobalSecondaryIndexName: 'byStatus',
      })]: [2],
      [find('AWS/DynamoDB', 'WriteProvisionedThroughputThrottleEvents', {
        TableName: 'orders',
        GlobalSecondaryIndexName: 'byStatus',
      })]: [2],
      [find('AWS/DynamoDB', 'ConsumedReadCapacityUnits', { TableName: 'customers' })]: [5],
      [find('AWS/DynamoDB', 'ThrottledRequests', { TableName: 'orders', Operation: 'TransactWriteItems' })]: [
        1,
      ],
    };
    const http = new RecordedHttpHandler((req) => {
      const sent = JSON.parse(req.body) as { MetricDataQueries: MetricDataQuery[] };
      return json(page(sent.MetricDataQueries, values));
    });
    const view = await new CloudWatchMetricsSource(client(http), options).read(run);
    expect(view.patterns?.patterns).toEqual({
      getCustomer: expect.objectContaining({ count: 10, answered: 10, rcu: 5, wcu: 0, errors: 0 }),
    });
    const row = (table: string, index: string | null) =>
      view.dynamodb?.tables.find((t) => t.table === table && t.index === index);
    expect(view.dynamodb?.tables).toHaveLength(4);
    expect(row('orders', null)).toMatchObject({ consumedWcu: 70, writeThrottleEvents: 0, provisioned: null });
    expect(row('orders', 'byStatus')).toEqual({
      table: 'orders',
      index: 'byStatus',
      consumedRcu: 0,
      consumedWcu: 30,
      readThrottleEvents: 0,
      writeThrottleEvents: 2,
      throttleReasons: { IndexWriteProvisionedThroughputExceeded: 2 },
      provisioned: null,
    });
    expect(row('customers', null)).toMatchObject({ consumedRcu: 5 });
    expect(view.dynamodb?.metrics).toContainEqual({
      name: 'ThrottledRequests',
      dimensions: { TableName: 'orders', Operation: 'TransactWriteItems' },
      sum: 1,
      count: 1,
    });
  });

  it('splits a large project into requests of at most 500 queries and reads them all', async () => {
    const options: CloudWatchSourceOptions = {
      tables: [
        { name: 'a', indexes: ['g1', 'g2', 'g3'] },
        { name: 'b', indexes: ['g1'] },
      ],
      patterns: Array.from({ length: 60 }, (_, i) => `pattern${i}`),
      service: 'big',
    };
    const source = new CloudWatchMetricsSource(new CloudWatchClient({ region }), options);
    const requests: GetMetricDataCommandInput[] = source.requests(run);
    expect(requests.length).toBeGreaterThan(1);
    const all = requests.flatMap((r) => r.MetricDataQueries ?? []);
    for (const r of requests)
      expect(r.MetricDataQueries?.length).toBeLessThanOrEqual(MAX_QUERIES_PER_REQUEST);
    expect(new Set(all.map((q) => q.Id)).size).toBe(all.length);

    const find = finder(all);
    // One figure in the first request's queries and one in the last's.
    const values: Record<string, number[]> = {
      [find(EMF_NAMESPACE, 'Requests', { Service: 'big', AccessPattern: 'pattern0' })]: [4],
      [find('AWS/DynamoDB', 'ConsumedReadCapacityUnits', { TableName: 'b', GlobalSecondaryIndexName: 'g1' })]:
        [9],
    };
    const http = new RecordedHttpHandler((req) => {
      const sent = JSON.parse(req.body) as { MetricDataQueries: MetricDataQuery[] };
      return json(page(sent.MetricDataQueries, values));
    });
    const view = await new CloudWatchMetricsSource(client(http), options).read(run);
    expect(http.seen).toHaveLength(requests.length);
    for (const seen of http.seen) {
      expect(
        (JSON.parse(seen.body) as { MetricDataQueries: unknown[] }).MetricDataQueries.length,
      ).toBeLessThanOrEqual(MAX_QUERIES_PER_REQUEST);
    }
    expect(view.patterns?.patterns.pattern0?.count).toBe(4);
    expect(view.dynamodb?.tables.find((t) => t.table === 'b' && t.index === 'g1')?.consumedRcu).toBe(9);
  });

  it('fills the report shapes from the recorded response', async () => {
    const probe = new CloudWatchMetricsSource(new CloudWatchClient({ region }), shop);
    const queries = probe.requests(run)[0]?.MetricDataQueries ?? [];
    const find = finder(queries);
    const app = (metric: string, stat = 'Sum') =>
      find(EMF_NAMESPACE, metric, { Service: 'shop', AccessPattern: 'getProduct' }, stat);
    const values: Record<string, number[]> = {
      [app('Requests')]: [1200, 1800],
      [app('Errors')]: [3],
      [app('ThrottleEvents')]: [40],
      [app('ConsumedRCU')]: [1500],
      [app('Latency', 'p99')]: [41.5],
      [app('Latency', 'p50')]: [6.25],
      [find('AWS/DynamoDB', 'ConsumedReadCapacityUnits', { TableName: 'shop-table' })]: [1500],
      [find('AWS/DynamoDB', 'ReadThrottleEvents', { TableName: 'shop-table' })]: [40],
      [find('AWS/DynamoDB', 'ReadKeyRangeThroughputThrottleEvents', { TableName: 'shop-table' })]: [40],
      [find(
        'AWS/DynamoDB',
        'SuccessfulRequestLatency',
        { TableName: 'shop-table', Operation: 'GetItem' },
        'SampleCount',
      )]: [2960],
      [find(
        'AWS/DynamoDB',
        'SuccessfulRequestLatency',
        { TableName: 'shop-table', Operation: 'GetItem' },
        'Average',
      )]: [3.5],
    };
    // A recorded page, then a second page: the reader follows NextToken.
    const pages = [page(queries.slice(0, 100), values, 'page-2'), page(queries.slice(100), values)];
    const http = new RecordedHttpHandler((req) => json(JSON.parse(req.body).NextToken ? pages[1] : pages[0]));
    const view = await new CloudWatchMetricsSource(client(http), shop).read(run);

    expect(http.seen).toHaveLength(2);
    expect(http.seen[0]?.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
    const sent = JSON.parse(http.seen[0]?.body ?? '{}') as {
      MetricDataQueries: unknown[];
      StartTime: number;
    };
    expect(sent.MetricDataQueries).toHaveLength(queries.length);
    expect(sent.StartTime).toBe(Date.parse('2026-11-23T10:00:00Z') / 1000);
    expect(JSON.parse(http.seen[1]?.body ?? '{}').NextToken).toBe('page-2');

    expect(view.patterns).toMatchObject({ since: run.start.toISOString(), at: run.end.toISOString() });
    expect(view.patterns?.patterns.getProduct).toMatchObject({
      count: 3000,
      errors: 3,
      throttleEvents: 40,
      rcu: 1500,
      latencyMs: { p50: 6.25, p99: 41.5 },
    });
    // Patterns with no requests in the window are left out, as locally.
    expect(Object.keys(view.patterns?.patterns ?? {})).toEqual(['getProduct']);
    const table = view.dynamodb?.tables.find((t) => t.index === null);
    expect(table).toMatchObject({
      table: 'shop-table',
      consumedRcu: 1500,
      readThrottleEvents: 40,
      throttleReasons: { TableReadKeyRangeThroughputExceeded: 40 },
      provisioned: null,
    });
    expect(view.dynamodb?.tables.map((t) => t.index)).toEqual([null, ...GSIS]);
    expect(view.dynamodb?.hotKeys).toEqual([]);
    expect(view.dynamodb?.metrics).toContainEqual({
      name: 'SuccessfulRequestLatency',
      dimensions: { TableName: 'shop-table', Operation: 'GetItem' },
      sum: 3.5 * 2960,
      count: 2960,
      max: 0,
    });
  });

  it('says the per-pattern side was not measured when CloudWatch holds none of the app metrics', async () => {
    const probe = new CloudWatchMetricsSource(new CloudWatchClient({ region }), shop);
    const queries = probe.requests(run)[0]?.MetricDataQueries ?? [];
    const find = finder(queries);
    const values = { [find('AWS/DynamoDB', 'ConsumedReadCapacityUnits', { TableName: 'shop-table' })]: [12] };
    const http = new RecordedHttpHandler(() => json(page(queries, values)));
    const view = await new CloudWatchMetricsSource(client(http), shop).read(run);
    // An app that publishes no EMF (or CloudWatch not there yet): unknown, not zero requests.
    expect(view.patterns).toBeUndefined();
    expect(view.dynamodb?.tables.find((t) => t.index === null)?.consumedRcu).toBe(12);
  });

  describe('hot keys from Contributor Insights (DescribeContributorInsights, GetInsightRuleReport)', () => {
    const [gsi1, gsi2] = GSIS as [string, string, ...string[]];
    const stamp = '1795420800000';
    const ruleName = (kind: string, target: string) =>
      `DynamoDBContributorInsights-${kind}-${target}-${stamp}`;
    /** What DynamoDB answers per table or GSI: its rules, as DescribeContributorInsights lists them. */
    type Describe = (input: DescribeContributorInsightsCommandInput) => Recorded;
    const enabled =
      (kinds: readonly string[]): Describe =>
      (input) =>
        json({
          TableName: input.TableName,
          ...(input.IndexName ? { IndexName: input.IndexName } : {}),
          ContributorInsightsRuleList: kinds.map((k) =>
            ruleName(k, input.IndexName ? `${input.TableName}-${input.IndexName}` : `${input.TableName}`),
          ),
          ContributorInsightsStatus: 'ENABLED',
          ContributorInsightsMode: kinds.includes('PKC') ? 'ACCESSED_AND_THROTTLED_KEYS' : 'THROTTLED_KEYS',
          LastUpdateDateTime: 1_795_420_800,
        });
    /** GetInsightRuleReport's answer (JSON protocol): contributors as key and value, busiest first. */
    const report = (contributors: readonly [string, number][]) => ({
      KeyLabels: ['pk'],
      AggregationStatistic: 'Sum',
      AggregateValue: contributors.reduce((n, [, v]) => n + v, 0),
      ApproximateUniqueCount: contributors.length,
      Contributors: contributors.map(([key, value]) => ({
        Keys: [key],
        ApproximateAggregateValue: value,
        Datapoints: [{ Timestamp: 1_795_428_000, ApproximateValue: value }],
      })),
      MetricDatapoints: [],
    });
    const reports: Record<string, [string, number][]> = {
      [ruleName('PKC', 'shop-table')]: [
        ['PRODUCT#0001', 1800],
        ['USER#0042', 300],
      ],
      [ruleName('PKT', 'shop-table')]: [['PRODUCT#0001', 40]],
      [ruleName('PKC', `shop-table-${gsi1}`)]: [['CUSTOMER#7', 250]],
      [ruleName('PKT', `shop-table-${gsi1}`)]: [],
    };
    /** One handler for the three kinds of call, each answered from the recorded shapes above. */
    const aws = (describe: (input: DescribeContributorInsightsCommandInput) => Recorded) =>
      new RecordedHttpHandler((req) => {
        const target = req.headers['x-amz-target'];
        if (target === 'DynamoDB_20120810.DescribeContributorInsights') return describe(JSON.parse(req.body));
        if (target === 'GraniteServiceVersion20100801.GetInsightRuleReport') {
          const input = JSON.parse(req.body) as { RuleName: string };
          return json(report(reports[input.RuleName] ?? []));
        }
        if (target === 'GraniteServiceVersion20100801.GetMetricData') {
          const input = JSON.parse(req.body) as { MetricDataQueries: MetricDataQuery[] };
          return json(page(input.MetricDataQueries, {}));
        }
        return {
          status: 400,
          body: JSON.stringify({ __type: 'UnknownOperationException', message: target }),
        };
      });
    const source = (http: RecordedHttpHandler) =>
      new CloudWatchMetricsSource(client(http), {
        ...shop,
        dynamodb: new DynamoDBClient({ region, credentials: TEST_CREDENTIALS, requestHandler: http }),
      });
    const sent = <T>(http: RecordedHttpHandler, action: string): T[] =>
      http.seen
        .filter((r) => r.headers['x-amz-target']?.endsWith(`.${action}`))
        .map((r) => JSON.parse(r.body) as T);
    const build = (view: ServerView) =>
      buildReport({
        scenario: 'aws',
        target: 'https://shop.example',
        client: {
          startedAt: run.start.toISOString(),
          endedAt: run.end.toISOString(),
          byName: {},
          counters: {},
        },
        server: view.patterns,
        dynamodb: view.dynamodb,
        sources: { dynamodb: 'CloudWatch' },
        thresholds: [],
        ensure: [],
      });

    it("reads the table's and each GSI's top keys for the run window into the report's hot keys", async () => {
      // The table and the first GSI with both rules; the other GSIs have Contributor Insights off.
      const http = aws((input) =>
        input.IndexName !== undefined && input.IndexName !== gsi1
          ? json({
              TableName: input.TableName,
              IndexName: input.IndexName,
              ContributorInsightsStatus: 'DISABLED',
            })
          : enabled(['PKC', 'PKT', 'SKC', 'SKT'])(input),
      );
      const view = await source(http).read(run);

      // DescribeContributorInsights once for the table and once per GSI: the rule names hold a timestamp.
      expect(sent<DescribeContributorInsightsCommandInput>(http, 'DescribeContributorInsights')).toEqual([
        { TableName: 'shop-table' },
        ...GSIS.map((IndexName) => ({ TableName: 'shop-table', IndexName })),
      ]);
      // GetInsightRuleReport for the partition-key rules (PKC, PKT) of the measured targets, over the
      // run's window on minute boundaries, the same as GetMetricData's.
      const expected: GetInsightRuleReportCommandInput[] = ['shop-table', `shop-table-${gsi1}`].flatMap(
        (t) => [
          ContributorInsightsReader.request(
            ruleName('PKT', t),
            { ...CloudWatchMetricsSource.window(run) },
            100,
          ),
          ContributorInsightsReader.request(
            ruleName('PKC', t),
            { ...CloudWatchMetricsSource.window(run) },
            10,
          ),
        ],
      );
      expect(expected[0]).toMatchObject({
        StartTime: new Date('2026-11-23T10:00:00Z'),
        EndTime: new Date('2026-11-23T10:03:00Z'),
        Period: 180,
        OrderBy: 'Sum',
      });
      expect(sent(http, 'GetInsightRuleReport')).toEqual(
        expected.map((e) => ({
          ...e,
          StartTime: Date.parse('2026-11-23T10:00:00Z') / 1000,
          EndTime: Date.parse('2026-11-23T10:03:00Z') / 1000,
        })),
      );

      // Requests per key, not capacity: rcu/wcu unknown (null), throttles from the PKT rule.
      expect(view.dynamodb?.hotKeys).toEqual([
        {
          table: 'shop-table',
          index: null,
          partitionKey: 'PRODUCT#0001',
          rcu: null,
          wcu: null,
          accesses: 1800,
          throttleEvents: 40,
        },
        {
          table: 'shop-table',
          index: null,
          partitionKey: 'USER#0042',
          rcu: null,
          wcu: null,
          accesses: 300,
          throttleEvents: 0,
        },
        {
          table: 'shop-table',
          index: gsi1,
          partitionKey: 'CUSTOMER#7',
          rcu: null,
          wcu: null,
          accesses: 250,
          throttleEvents: 0,
        },
      ]);
      expect(view.dynamodb?.hotKeysNotMeasured).toBe(
        `hot keys partly measured: Contributor Insights is off on ${GSIS.slice(1)
          .map((g) => `shop-table/${g}`)
          .join(', ')} (deploy with -c contributorInsights=accessed-and-throttled)`,
      );

      const r = build(view);
      expect(r.hotKeys?.map((k) => k.partitionKey)).toEqual(['PRODUCT#0001', 'USER#0042', 'CUSTOMER#7']);
      const text = renderConsole(r);
      expect(text).toContain('hot keys: PRODUCT#0001 on shop-table (1800 accesses, 40 throttles)');
      expect(text).toContain(`Contributor Insights is off on shop-table/${gsi2}`);
      expect(text).not.toMatch(/PRODUCT#0001 on shop-table \(0/);
      const page = renderHtml(r);
      expect(page).toContain('<th>accesses</th>');
      expect(page).toContain('<td>–</td><td>–</td><td>1800</td><td>40</td>');
    });

    it('says hot keys were not measured when Contributor Insights is off on every table and GSI', async () => {
      const http = aws((input) =>
        json({
          TableName: input.TableName,
          ...(input.IndexName ? { IndexName: input.IndexName } : {}),
          ContributorInsightsStatus: 'DISABLED',
        }),
      );
      const view = await source(http).read(run);
      expect(sent(http, 'GetInsightRuleReport')).toEqual([]);
      expect(view.dynamodb?.hotKeys).toEqual([]);
      expect(view.dynamodb?.hotKeysNotMeasured).toMatch(
        /^hot keys not measured: Contributor Insights is off on shop-table, shop-table\//,
      );
      const r = build(view);
      expect(r.hotKeys).toEqual([]);
      expect(r.hotKeysNotMeasured).toBe(view.dynamodb?.hotKeysNotMeasured);
      expect(renderConsole(r)).toContain(`–: ${view.dynamodb?.hotKeysNotMeasured}`);
      expect(renderHtml(r)).toContain('id="hot-keys-not-measured"');
    });

    it('in throttled-keys mode reads throttles only, and names a GSI whose rules it could not read', async () => {
      const http = aws((input) => {
        if (input.IndexName === gsi1)
          return {
            status: 400,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: JSON.stringify({
              __type: 'com.amazon.coral.service#AccessDeniedException',
              message: 'not authorized to perform dynamodb:DescribeContributorInsights',
            }),
          };
        return enabled(['PKT'])(input);
      });
      const view = await source(http).read(run);
      expect(sent<{ RuleName: string }>(http, 'GetInsightRuleReport').map((r) => r.RuleName)).toEqual(
        ['shop-table', ...GSIS.slice(1).map((g) => `shop-table-${g}`)].map((t) => ruleName('PKT', t)),
      );
      // The key's throttles, no accesses figure at all (not 0), no capacity.
      expect(view.dynamodb?.hotKeys).toEqual([
        {
          table: 'shop-table',
          index: null,
          partitionKey: 'PRODUCT#0001',
          rcu: null,
          wcu: null,
          throttleEvents: 40,
        },
      ]);
      const note = view.dynamodb?.hotKeysNotMeasured ?? '';
      expect(note).toMatch(/^hot keys partly measured: /);
      expect(note).toContain('accesses per key not counted on shop-table, ');
      expect(note).toContain(
        `could not read Contributor Insights of shop-table/${gsi1} (AccessDeniedException: not authorized to perform dynamodb:DescribeContributorInsights)`,
      );
      expect(renderConsole(build(view))).toContain(
        'hot keys: PRODUCT#0001 on shop-table (– accesses, 40 throttles)',
      );
    });
  });
});

describe('the plan before a run on AWS', () => {
  const script = {
    config: {
      phases: [
        { duration: 60, arrivalRate: 10 },
        { duration: 60, arrivalRate: 10, rampTo: 30 },
      ],
    },
    scenarios: [
      { weight: 3, flow: [{ get: { url: '/api/products/1', name: 'getProduct' } }] },
      {
        weight: 1,
        flow: [
          { get: { url: '/api/products/1', name: 'getProduct' } },
          { post: { url: '/api/users', name: 'registerUser' } },
        ],
      },
    ],
  };

  it('counts arrivals and requests, and prices Lambda and (from a local run) DynamoDB', () => {
    const plan = planRun(script, 10, 2048, {
      scenario: 'x',
      startedAt: '2026-11-23T09:00:00Z',
      patterns: [
        { id: 'getProduct', costPerMillionUsd: 0.0625 },
        { id: 'registerUser', costPerMillionUsd: 0.625 },
      ],
    } as never);
    expect(plan.durationSec).toBe(120);
    expect(plan.arrivals).toBe(600 + 1200);
    expect(plan.peakRate).toBe(30);
    expect(plan.requestsPerVuser).toBeCloseTo(1.25);
    expect(plan.lambdaUsd).toBeCloseTo(10 * 130 * 2 * 0.0000133334 + 10 * 0.0000002, 8);
    expect(plan.dynamodbUsd).toBeCloseTo((1800 * 1 * 0.0625 + 1800 * 0.25 * 0.625) / 1e6, 12);
  });

  it('says the DynamoDB cost is unknown without a local run', () => {
    const plan = planRun(script, 1, 1024, undefined);
    expect(plan.dynamodbUsd).toBeUndefined();
    expect(plan.notes.join(' ')).toMatch(/run the scenario locally first/);
  });
});
