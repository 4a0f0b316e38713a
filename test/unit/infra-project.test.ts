import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternIds, SHOP_SERVICE, tableDefinition } from '../../app/index.js';
import { ConfigError } from '../../infra/context.js';
import { PROJECT_OUTPUT_KEYS, PROJECT_STACK_SUFFIXES, stackName } from '../../infra/index.js';
import {
  buildProjectApp,
  loadDeployedProject,
  type ProjectStacks,
  projectDeployment,
} from '../../infra/project-app.js';
import { EMF_NAMESPACE } from '../../instrument/index.js';
import type { Project } from '../../runner/project/index.js';
import { ROOT } from '../helpers/cli.js';

/**
 * The deployment for a user's own app (`npx cdk deploy -c project=examples/orders`): the orders
 * example, a second project with two tables, as the CDK app builds it from its loadtest.config.yml.
 */
type Json = Record<string, unknown>;
const APP_URL = 'https://orders.example.com';
/** The orders table is deployed under another name than the config's; customers keeps its own. */
const CONTEXT = { project: 'examples/orders', appUrl: `${APP_URL}/`, tableNames: '{"orders":"orders-prod"}' };
const PREFIX = 'Loadtest-orders';

let outdir: string;
let app: App;
let orders: Project;
let stacks: ProjectStacks;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'infra-project-'));
  orders = await loadDeployedProject('examples/orders', ROOT);
  app = new App({ outdir, context: CONTEXT });
  stacks = buildProjectApp(app, projectDeployment(orders, app.node));
  app.synth();
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const dashboardBody = (stack: Stack) => {
  const dash = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  expect(dash).toHaveLength(1);
  const body = (dash[0] as { Properties: Json }).Properties.DashboardBody as
    | string
    | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text) as {
    widgets: { type: string; properties: { markdown?: string; metrics?: unknown[][] } }[];
  };
};

describe('a project deployment (-c project=examples/orders)', () => {
  it('is the Runners and Observability stacks only, with the outputs `loadtest run --target aws` reads', () => {
    const all = app.node.children.filter((c): c is Stack => 'stackName' in c) as Stack[];
    expect(all.map((s) => s.stackName)).toEqual(PROJECT_STACK_SUFFIXES.map((s) => stackName(PREFIX, s)));
    for (const [suffix, stack] of [
      ['Runners', stacks.runners],
      ['Observability', stacks.observability],
    ] as const) {
      expect(Object.keys(Template.fromStack(stack).toJSON().Outputs ?? {})).toEqual([
        ...PROJECT_OUTPUT_KEYS[suffix],
      ]);
    }
    const outputs = Template.fromStack(stacks.observability).toJSON().Outputs as Record<
      string,
      { Value: unknown }
    >;
    expect(outputs.AppUrl?.Value).toBe(APP_URL);
    expect(outputs.Project?.Value).toBe('orders');
    expect(JSON.parse(String(outputs.Tables?.Value))).toEqual([
      { name: 'customers', indexes: [] },
      { name: 'orders-prod', indexes: ['byProduct'] },
    ]);
    // Nothing of the app or its tables is created: they are the user's.
    for (const stack of all) {
      const types = new Set(
        Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>).map(
          (r) => r.Type,
        ),
      );
      for (const type of ['AWS::DynamoDB::Table', 'AWS::ECS::ExpressGatewayService', 'AWS::SNS::Topic'])
        expect(types.has(type), `${stack.stackName}: ${type}`).toBe(false);
    }
  });

  it("draws one row per access pattern of the project, under its EMF service, and no shop's pattern or table", () => {
    const body = dashboardBody(stacks.observability);
    const projectPatterns = orders.patterns.map((p) => p.id);
    expect(projectPatterns).toHaveLength(8);
    const rowTitles = body.widgets
      .filter((w) => w.type === 'text')
      .map((w) => /^### (\S+)/.exec(w.properties.markdown ?? '')?.[1])
      .filter(Boolean);
    // The header row (the tables), then each pattern in the config's order.
    expect(rowTitles.slice(1)).toEqual(projectPatterns);
    const emf = body.widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((m) => m[0] === EMF_NAMESPACE) as string[][];
    expect(new Set(emf.map((m) => m[m.indexOf('AccessPattern') + 1]))).toEqual(new Set(projectPatterns));
    expect(new Set(emf.map((m) => m[m.indexOf('Service') + 1]))).toEqual(new Set(['orders']));
    const text = JSON.stringify(body);
    for (const p of orders.patterns) if (p.description) expect(text).toContain(p.description);
    for (const id of patternIds) expect(projectPatterns.includes(id) || !text.includes(`"${id}"`)).toBe(true);
    expect(text).not.toContain(`Service","${SHOP_SERVICE}"`);
    // Capacity charts per table and GSI, by the deployed names.
    const tables = new Set(
      body.widgets
        .flatMap((w) => w.properties.metrics ?? [])
        .filter((m) => m[0] === 'AWS/DynamoDB')
        .map((m) => (m as string[])[(m as string[]).indexOf('TableName') + 1]),
    );
    expect(tables).toEqual(new Set(['customers', 'orders-prod']));
    for (const index of tableDefinition.indexes) expect(text).not.toContain(`"${index.name}"`);
    expect(text).toContain('"byProduct"');
  });

  it('alarms on read and write throttles of each table and each GSI, named by the deployed tables', () => {
    const alarms = Object.values(
      Template.fromStack(stacks.observability).findResources('AWS::CloudWatch::Alarm'),
    ).map((a) => (a as { Properties: Json }).Properties);
    const seen = alarms.map((a) => {
      const dims = Object.fromEntries(
        (a.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
      );
      return `${dims.TableName}${dims.GlobalSecondaryIndexName ? `/${dims.GlobalSecondaryIndexName}` : ''} ${a.MetricName}`;
    });
    expect(seen.sort()).toEqual(
      ['customers', 'orders-prod', 'orders-prod/byProduct']
        .flatMap((t) => [`${t} ReadThrottleEvents`, `${t} WriteThrottleEvents`])
        .sort(),
    );
    for (const a of alarms) {
      expect(a).toMatchObject({ Namespace: 'AWS/DynamoDB', Threshold: 0, Period: 60, Statistic: 'Sum' });
    }
    expect(alarms.map((a) => a.AlarmDescription)).toContain(
      'DynamoDB throttled reads on GSI byProduct of table orders-prod',
    );
  });

  it('passes cdk-nag AwsSolutions with nothing acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.description}`)).toEqual([]);
  });
});

describe('a project deployment: bad input', () => {
  const deployment = (context: Json, project: Project = orders) =>
    projectDeployment(project, new App({ context: { project: 'x', ...context } }).node);

  it('names the field: the app URL, an unknown table, a table only DescribeTable knows, shop-only keys', () => {
    expect(() => deployment({})).toThrow(
      /loadtest\.config\.yml: aws\.appUrl: the app's URL on AWS is needed .* -c appUrl=/,
    );
    expect(() => deployment({ appUrl: 'ftp://x' })).toThrow(/-c appUrl: an http\(s\) URL/);
    for (const loopback of ['http://127.0.0.1:18123', 'http://localhost:8080/', 'http://[::1]:80'])
      expect(() => deployment({ appUrl: loopback })).toThrow(
        /^bad CDK context: -c appUrl: http:\/\/\S+ is a loopback address: the runners run in AWS Lambda and cannot reach it/,
      );
    expect(() => deployment({ appUrl: APP_URL, tableNames: '{"order":"orders-prod"}' })).toThrow(
      /-c tableNames\.order: no table "order" in .*; its tables: customers, orders/,
    );
    expect(() => deployment({ appUrl: APP_URL, tableNames: '{"orders":"x"}' })).toThrow(
      /-c tableNames\.orders: DynamoDB's table name rule/,
    );
    expect(() => deployment({ appUrl: APP_URL, host: 'apprunner', notificationEmail: 'a@b.co' })).toThrow(
      /-c notificationEmail, -c host: for the shop's deployment only/,
    );
    expect(() => deployment({ appUrl: APP_URL }, { ...orders, tables: [], describeTables: true })).toThrow(
      /tables: no table declared; the CDK app synthesizes offline/,
    );
    expect(() =>
      deployment({ appUrl: APP_URL }, { ...orders, describeTables: ['customers', 'payments'] }),
    ).toThrow(/tables: payments only read with DescribeTable/);
    expect(() => deployment({ appUrl: APP_URL })).not.toThrow();
    expect(deployment({ appUrl: APP_URL, stackName: 'Shop2' }).prefix).toBe('Shop2');
  });

  it("takes the app URL, the deployed table names and the prefix from the config's aws section", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-project-aws-'));
    try {
      const config = join(dir, 'loadtest.config.json');
      writeFileSync(
        config,
        JSON.stringify({
          name: 'billing_v2',
          tables: [{ name: 'invoices', partitionKey: 'id' }],
          patterns: [{ id: 'getInvoice' }],
          aws: { appUrl: 'https://billing.example.com', tables: { invoices: 'invoices-live' } },
        }),
      );
      const project = await loadDeployedProject(dir);
      const d = projectDeployment(project, new App({ context: { project: dir } }).node);
      expect(d).toMatchObject({
        prefix: 'Loadtest-billing-v2',
        appUrl: 'https://billing.example.com',
        tables: [{ name: 'invoices-live', indexes: [] }],
        service: 'billing_v2',
      });
      writeFileSync(
        config,
        JSON.stringify({
          tables: [{ name: 'invoices', partitionKey: 'id' }],
          aws: { tables: { bills: 'b-live' } },
        }),
      );
      await expect(loadDeployedProject(dir)).rejects.toThrow(
        /bad project config \(-c project=.*\): .*loadtest\.config\.json: aws\.tables\.bills: no table "bills"/,
      );
      await expect(loadDeployedProject(join(dir, 'nothing-here'))).rejects.toThrow(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 from `cdk synth` (infra/app.ts), naming the field', async () => {
    const synth = (context: Json) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
          cwd: ROOT,
          // How the CDK CLI hands `-c key=value` to the app.
          env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr?.on('data', (b: Buffer) => {
          stderr += b.toString();
        });
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const noUrl = await synth({ project: 'examples/orders' });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(
      /examples\/orders\/loadtest\.config\.yml: aws\.appUrl: the app's URL on AWS/,
    );
    const badTable = await synth({
      project: 'examples/orders',
      appUrl: APP_URL,
      tableNames: '{"carts":"carts-live"}',
    });
    expect(badTable.code).toBe(2);
    expect(badTable.stderr).toMatch(/-c tableNames\.carts: no table "carts"/);
  }, 60_000);
});
