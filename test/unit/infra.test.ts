import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIG_ORDER_FILTER_POLICY,
  createTableInput,
  DEFAULT_BILLING,
  ORDER_COMPLETED_PIPE_FILTER,
  orderNotification,
  patternIds,
  SHOP_SERVICE,
  tableDefinition,
} from '../../app/index.js';
import { ConfigError, configFromContext } from '../../infra/config.js';
import {
  DIGEST_LISTED_ORDERS,
  handler as digestHandler,
  orderDigest,
} from '../../infra/functions/email-digest.js';
import {
  type OrderMessageBody,
  handler as orderNotificationHandler,
} from '../../infra/functions/order-notification.js';
import { DEFAULT_STACK_PREFIX, OUTPUT_KEYS, STACK_SUFFIXES, stackName } from '../../infra/index.js';
import { buildLoadtestApp, type LoadtestStacks } from '../../infra/loadtest-app.js';
import { DataStack } from '../../infra/stacks/data.js';
import { DIGEST_BATCH, EventsStack } from '../../infra/stacks/events.js';
import { ObservabilityStack } from '../../infra/stacks/observability.js';
import {
  APP_INDEX_ACTIONS,
  APP_TABLE_ACTIONS,
  ECS_SCALING,
  EXPRESS_INFRASTRUCTURE_POLICY,
  HEALTH_CHECK_PATH,
} from '../../infra/stacks/service.js';
import { EMF_NAMESPACE } from '../../instrument/index.js';
import { matchesPattern } from '../../local/index.js';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties?: Json; DependsOn?: string[] };

const EMAIL = 'orders@example.com';
// NodejsFunction bundling (esbuild through npx) is skipped: the enrichment's code is tested below as
// a function, and `cdk synth` bundles it for real.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let outdir: string;
let app: App;
let stacks: LoadtestStacks;
const templates = new Map<string, Template>();
const template = (stack: Stack) => {
  let t = templates.get(stack.stackName);
  if (!t) {
    t = Template.fromStack(stack);
    templates.set(stack.stackName, t);
  }
  return t;
};
const resources = (stack: Stack, type: string) =>
  Object.entries(template(stack).findResources(type) as Record<string, Resource>);
const only = (stack: Stack, type: string): [string, Resource] => {
  const found = resources(stack, type);
  expect(found, `${stack.stackName}: one ${type}`).toHaveLength(1);
  return found[0] as [string, Resource];
};
const allStacks = () => Object.values(stacks) as Stack[];

/** Every IAM statement of every policy and role in the app. */
function statements(): { stack: string; logicalId: string; Action: string[]; Resource: unknown[] }[] {
  const out: { stack: string; logicalId: string; Action: string[]; Resource: unknown[] }[] = [];
  const add = (stack: string, logicalId: string, doc: unknown) => {
    for (const s of ((doc as { Statement?: Json[] } | undefined)?.Statement ?? []) as Json[]) {
      const arr = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
      out.push({ stack, logicalId, Action: arr(s.Action) as string[], Resource: arr(s.Resource) });
    }
  };
  for (const stack of allStacks()) {
    for (const [id, r] of resources(stack, 'AWS::IAM::Policy'))
      add(stack.stackName, id, r.Properties?.PolicyDocument);
    for (const [id, r] of resources(stack, 'AWS::IAM::Role')) {
      for (const p of (r.Properties?.Policies ?? []) as Json[]) add(stack.stackName, id, p.PolicyDocument);
    }
  }
  return out;
}

/** The value a cross-stack import stands for: the producer's exported output. */
function exported(importValue: unknown): unknown {
  const name = (importValue as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
  expect(name, 'a cross-stack import').toBeTypeOf('string');
  for (const stack of allStacks()) {
    for (const o of Object.values(template(stack).toJSON().Outputs ?? {}) as Json[]) {
      if ((o.Export as { Name?: string } | undefined)?.Name === name) return o.Value;
    }
  }
  throw new Error(`no export named ${name}`);
}

/** The staged Docker build context of an image asset, from the stack's asset manifest. */
function dockerAsset(stack: Stack): { dir: string; dockerFile: string; platform: string | undefined } {
  const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
    dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
  };
  const images = Object.values(manifest.dockerImages);
  expect(images).toHaveLength(1);
  const source = (images[0] as (typeof images)[number]).source;
  return {
    dir: join(outdir, source.directory),
    dockerFile: source.dockerFile ?? 'Dockerfile',
    platform: source.platform,
  };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string>;
};
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * The repository files a module imports, directly or not, type-only imports included (tsx needs none
 * of those at run time, but an image that lacks one breaks the day it becomes a value import):
 * relative specifiers, and the package's self-reference (`dynamo-loadtest/instrument`), which
 * resolves through package.json's "exports", so package.json is among them.
 */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const file = (path: string) => existsSync(path) && statSync(path).isFile();
  const resolveSpec = (from: string, spec: string): string | undefined => {
    if (spec.startsWith('.')) {
      const base = resolve(dirname(from), spec);
      return [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find(file);
    }
    if (spec === PACKAGE.name || spec.startsWith(`${PACKAGE.name}/`)) {
      seen.add('package.json');
      const target =
        PACKAGE.exports[spec === PACKAGE.name ? '.' : `./${spec.slice(PACKAGE.name.length + 1)}`];
      return target ? resolve(ROOT, target) : undefined;
    }
    return undefined; // a dependency: node_modules, installed by the image's npm ci
  };
  const queue = [resolve(ROOT, entry)];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    const rel = relative(ROOT, path);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const m of readFileSync(path, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      const target = resolveSpec(path, spec);
      if (target) queue.push(target);
      else
        expect(spec, `${rel}: import ${spec} is a file of ours but resolves to none`).not.toMatch(
          /^\.|^dynamo-loadtest/,
        );
    }
  }
  return seen;
}

/** Every file the entry imports is in the image: in the staged build context, and copied by the Dockerfile. */
function expectImageHolds(stack: Stack, entry: string): void {
  const asset = dockerAsset(stack);
  const dockerfile = readFileSync(join(asset.dir, asset.dockerFile), 'utf8');
  const copied = new Set(
    [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+\s*$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/)),
  );
  const graph = importGraph(entry);
  expect(graph.size).toBeGreaterThan(1);
  for (const rel of graph) {
    expect(existsSync(join(asset.dir, rel)), `${rel} (imported from ${entry}) in the build context`).toBe(
      true,
    );
    expect(copied, `${rel}: the Dockerfile copies ${rel.split('/')[0]}`).toContain(rel.split('/')[0]);
  }
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'infra-test-'));
  app = new App({ outdir, context: { ...NO_BUNDLING, notificationEmail: EMAIL } });
  stacks = buildLoadtestApp(app, configFromContext(app.node));
  app.synth();
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the CDK app', () => {
  it('names its five stacks from the prefix and publishes the outputs the CLI reads', () => {
    expect(allStacks().map((s) => s.stackName)).toEqual(
      STACK_SUFFIXES.map((s) => stackName(DEFAULT_STACK_PREFIX, s)),
    );
    for (const suffix of STACK_SUFFIXES) {
      const stack = allStacks().find((s) => s.stackName === stackName(DEFAULT_STACK_PREFIX, suffix)) as Stack;
      expect(
        Object.keys(template(stack).toJSON().Outputs ?? {}).filter((k) => !k.startsWith('ExportsOutput')),
      ).toEqual([...OUTPUT_KEYS[suffix]]);
    }
  });

  it('passes cdk-nag AwsSolutions, with a specific reason for each acknowledged rule', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const describe = (v: (typeof report.violations)[number]) =>
      `${v.severity} ${v.ruleName}: ${v.description} (${v.violatingResources.map((r) => r.constructPath).join(', ')})`;
    expect(report.violations.map(describe)).toEqual([]);

    const acknowledged: Record<string, string> = {};
    for (const c of app.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          acknowledged[`${c.node.path} ${id.replace(/^annotation::/i, '')}`] = reason;
        }
      }
    }
    expect(Object.keys(acknowledged).sort()).toEqual([
      'DynamoLoadtest-Service/AuthSecret AwsSolutions-SMG4',
      'DynamoLoadtest-Service/ExecutionRole AwsSolutions-IAM5[Resource::*]',
      `DynamoLoadtest-Service/InfrastructureRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${EXPRESS_INFRASTRUCTURE_POLICY}]`,
      'DynamoLoadtest-Service/TaskRole AwsSolutions-IAM5[Resource::*]',
    ]);
    for (const reason of Object.values(acknowledged)) expect(reason.length).toBeGreaterThan(60);
  });

  it("passes CloudFormation's own schema validation of every template", () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
    };
    expect(
      report.pluginReports.flatMap((p) =>
        p.violations.map((v) => `${p.pluginName} ${v.ruleName}: ${v.description}`),
      ),
    ).toEqual([]);
  });

  it('grants no wildcard action anywhere, and the app only its own DynamoDB actions', () => {
    const all = statements();
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((s) => s.Action.some((a) => a.includes('*')))).toEqual([]);
    // The only wildcard resources: ecr:GetAuthorizationToken and cloudwatch:PutMetricData, which have
    // no resource-level permissions; the app may put metrics in its own namespace only.
    const wildcardResources = all.filter((s) => s.Resource.includes('*'));
    expect(wildcardResources.map((s) => s.Action)).toEqual([
      ['cloudwatch:PutMetricData'],
      ['ecr:GetAuthorizationToken'],
    ]);
    const putMetric = resources(stacks.service, 'AWS::IAM::Policy').flatMap(([, r]) =>
      ((r.Properties?.PolicyDocument as { Statement?: Json[] } | undefined)?.Statement ?? []).filter(
        (st) => st.Action === 'cloudwatch:PutMetricData',
      ),
    );
    expect(putMetric.map((st) => st.Condition)).toEqual([
      { StringEquals: { 'cloudwatch:namespace': EMF_NAMESPACE } },
    ]);

    const dynamodb = all.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    const tableArn = template(stacks.data).toJSON().Outputs.TableArn.Value;
    const service = dynamodb.filter((s) => s.stack === stacks.service.stackName);
    expect(service).toHaveLength(2);
    const [onTable, onIndexes] = service as [(typeof service)[0], (typeof service)[0]];
    expect([...onTable.Action].sort()).toEqual([...APP_TABLE_ACTIONS].sort());
    expect(onTable.Resource.map(exported)).toEqual([tableArn]);
    expect(onIndexes.Action).toEqual([...APP_INDEX_ACTIONS]);
    // Each index of the app's key layout by name, no `index/*`.
    expect(onIndexes.Resource).toHaveLength(tableDefinition.indexes.length);
    const indexArns = JSON.stringify(onIndexes.Resource);
    for (const index of tableDefinition.indexes) expect(indexArns).toContain(`/index/${index.name}"`);
    // Elsewhere DynamoDB appears only as the Pipe's stream read.
    expect(dynamodb.filter((s) => s.stack !== stacks.service.stackName).map((s) => s.stack)).toEqual([
      stacks.events.stackName,
    ]);
  });
});

describe('the images', () => {
  it('start from a Node release that is still supported (22 or later; 20 ended on 2026-04-30)', () => {
    for (const file of ['Dockerfile', 'Dockerfile.runner']) {
      const from = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^FROM\s+\S*?node(?:js)?:(\d+)/gm)];
      expect(from, `${file}: one FROM a Node image`).toHaveLength(1);
      expect(Number(from[0]?.[1]), file).toBeGreaterThanOrEqual(22);
    }
  });
});

describe('data stack', () => {
  const input = createTableInput('shop', DEFAULT_BILLING, tableDefinition);
  const byName = <T extends { AttributeName?: string; IndexName?: string }>(xs: readonly T[] | undefined) =>
    [...(xs ?? [])].sort((a, b) =>
      String(a.IndexName ?? a.AttributeName).localeCompare(String(b.IndexName ?? b.AttributeName)),
    );
  // The template's GSIs as createTableInput has them: Contributor Insights is AWS-only (tested below).
  const gsisOf = (xs: unknown) =>
    byName(
      (xs as (Json & { IndexName: string })[]).map(({ ContributorInsightsSpecification: _, ...g }) => g),
    );

  it("has the app's keys and GSIs, from app/table.ts", () => {
    const [, table] = only(stacks.data, 'AWS::DynamoDB::Table');
    const p = table.Properties as Json;
    expect(p.KeySchema).toEqual(input.KeySchema);
    expect(byName(p.AttributeDefinitions as typeof input.AttributeDefinitions)).toEqual(
      byName(input.AttributeDefinitions),
    );
    expect(gsisOf(p.GlobalSecondaryIndexes)).toEqual(byName(input.GlobalSecondaryIndexes));
    // The same, read straight from the definition: names, key attributes and their types.
    const types = new Map(
      (p.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => [
        a.AttributeName,
        a.AttributeType,
      ]),
    );
    const gsis = p.GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: { AttributeName: string; KeyType: string }[];
    }[];
    expect(gsis.map((g) => g.IndexName)).toEqual(tableDefinition.indexes.map((i) => i.name));
    for (const index of tableDefinition.indexes) {
      const g = gsis.find((x) => x.IndexName === index.name);
      expect(g?.KeySchema).toEqual([
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ]);
      expect(types.get(index.partitionKey.name)).toBe(index.partitionKey.type);
      expect(types.get(index.sortKey.name)).toBe(index.sortKey.type);
    }
    expect(types.get(tableDefinition.partitionKey.name)).toBe(tableDefinition.partitionKey.type);
    expect(types.get(tableDefinition.sortKey.name)).toBe(tableDefinition.sortKey.type);
  });

  it('streams new and old images, keeps point-in-time recovery on and bills as the app defaults', () => {
    const [, table] = only(stacks.data, 'AWS::DynamoDB::Table');
    expect(table.Properties?.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties?.BillingMode).toBe(input.BillingMode);
  });

  it('turns Contributor Insights on for the table and every GSI (hot keys on AWS), in the mode context asks', () => {
    const specs = (data: DataStack) => {
      const [table] = Object.values(
        Template.fromStack(data).findResources('AWS::DynamoDB::Table'),
      ) as Resource[];
      const p = table?.Properties as {
        ContributorInsightsSpecification?: unknown;
        GlobalSecondaryIndexes: { IndexName: string; ContributorInsightsSpecification?: unknown }[];
      };
      return [
        ['table', p.ContributorInsightsSpecification],
        ...p.GlobalSecondaryIndexes.map((g) => [g.IndexName, g.ContributorInsightsSpecification]),
      ];
    };
    const all = { Enabled: true, Mode: 'ACCESSED_AND_THROTTLED_KEYS' };
    expect(specs(stacks.data)).toEqual([
      ['table', all],
      ...tableDefinition.indexes.map((i) => [i.name, all]),
    ]);
    const withMode = (contributorInsights: string) => {
      const a = new App({ context: { contributorInsights } });
      return specs(buildLoadtestApp(a, configFromContext(a.node)).data);
    };
    expect(withMode('throttled').map(([, s]) => s)).toEqual(
      Array(tableDefinition.indexes.length + 1).fill({ Enabled: true, Mode: 'THROTTLED_KEYS' }),
    );
    expect(withMode('off').map(([, s]) => s)).toEqual(
      Array(tableDefinition.indexes.length + 1).fill(undefined),
    );
    expect(() => configFromContext(new App({ context: { contributorInsights: 'on' } }).node)).toThrow(
      /-c contributorInsights: no Contributor Insights mode "on": one of accessed-and-throttled, throttled, off/,
    );
  });

  it('takes provisioned capacities from context, per GSI where given', () => {
    const ctxApp = new App({
      context: {
        billingMode: 'provisioned',
        readCapacity: '20',
        writeCapacity: '10',
        indexCapacity: '{"GSI2":{"read":7,"write":3}}',
      },
    });
    const config = configFromContext(ctxApp.node);
    const data = new DataStack(ctxApp, 'D', { billing: config.billing, removalPolicy: config.removalPolicy });
    const p = Template.fromStack(data).findResources('AWS::DynamoDB::Table');
    const props = (Object.values(p)[0] as Resource).Properties as Json;
    const expected = createTableInput('x', config.billing);
    expect(props.BillingMode).toBeUndefined(); // CloudFormation's default is PROVISIONED
    expect(props.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 20, WriteCapacityUnits: 10 });
    expect(gsisOf(props.GlobalSecondaryIndexes)).toEqual(byName(expected.GlobalSecondaryIndexes));
    const gsi2 = (props.GlobalSecondaryIndexes as Json[]).find((g) => g.IndexName === 'GSI2');
    expect(gsi2?.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 7, WriteCapacityUnits: 3 });
  });
});

describe('service stack', () => {
  const containerEnv = (vars: { Name: string; Value: unknown }[]) =>
    Object.fromEntries(vars.map((e) => [e.Name, e.Value]));

  it('runs the image asset on ECS Express Mode by default: health check, port, table name, auth secret', () => {
    expect(stacks.service.host).toBe('ecs');
    expect(resources(stacks.service, 'AWS::AppRunner::Service')).toEqual([]);
    const [, svc] = only(stacks.service, 'AWS::ECS::ExpressGatewayService');
    const p = svc.Properties as {
      Cpu: string;
      Memory: string;
      HealthCheckPath: string;
      PrimaryContainer: {
        Image: unknown;
        ContainerPort: number;
        Environment: { Name: string; Value: unknown }[];
        Secrets: { Name: string; ValueFrom: unknown }[];
        AwsLogsConfiguration: { LogGroup: unknown };
      };
      ScalingTarget: { MinTaskCount: number; MaxTaskCount: number };
      TaskRoleArn: unknown;
      ExecutionRoleArn: unknown;
      InfrastructureRoleArn: unknown;
    };
    expect(p.HealthCheckPath).toBe(HEALTH_CHECK_PATH);
    // App Runner's default size, in ECS's units.
    expect([p.Cpu, p.Memory]).toEqual(['1024', '2048']);
    const c = p.PrimaryContainer;
    expect(c.Image).toEqual(stacks.service.resolve(stacks.service.image.imageUri));
    expect(JSON.stringify(c.Image)).toContain(stacks.service.image.assetHash);
    expect(c.ContainerPort).toBe(8080);
    expect(exported(containerEnv(c.Environment).TABLE_NAME)).toEqual(
      template(stacks.data).toJSON().Outputs.TableName.Value,
    );
    // Stdout is plain logs on ECS: the app's per-pattern metrics go with PutMetricData.
    expect(containerEnv(c.Environment).EMF_SINK).toBe('cloudwatch');
    const [secretId] = only(stacks.service, 'AWS::SecretsManager::Secret');
    expect(c.Secrets).toEqual([{ Name: 'AUTH_SECRET', ValueFrom: { Ref: secretId } }]);
    const [logsId, logs] = only(stacks.service, 'AWS::Logs::LogGroup');
    expect(c.AwsLogsConfiguration.LogGroup).toEqual({ Ref: logsId });
    expect(logs.Properties?.RetentionInDays).toBe(30);
    expect(p.ScalingTarget).toMatchObject({ MinTaskCount: 1, MaxTaskCount: ECS_SCALING.maxTaskCount });
    // The URL the CLI reads, under the output name it has always read.
    expect(template(stacks.service).toJSON().Outputs.AppUrl.Value).toEqual({
      'Fn::GetAtt': [only(stacks.service, 'AWS::ECS::ExpressGatewayService')[0], 'Endpoint'],
    });
  });

  it("gives the ECS task only the app's DynamoDB actions and PutMetricData, the secret only to the execution role", () => {
    const [, svc] = only(stacks.service, 'AWS::ECS::ExpressGatewayService');
    const roleOf = (arn: unknown) => (arn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const p = svc.Properties as Record<'TaskRoleArn' | 'ExecutionRoleArn' | 'InfrastructureRoleArn', unknown>;
    const byRole = (role: string) => {
      const policies = resources(stacks.service, 'AWS::IAM::Policy').filter(([, r]) =>
        JSON.stringify(r.Properties?.Roles).includes(`"${role}"`),
      );
      return statements().filter((s) => policies.some(([id]) => id === s.logicalId));
    };
    const task = byRole(roleOf(p.TaskRoleArn));
    expect(task.flatMap((s) => s.Action).sort()).toEqual(
      [...APP_TABLE_ACTIONS, ...APP_INDEX_ACTIONS, 'cloudwatch:PutMetricData'].sort(),
    );
    const execution = byRole(roleOf(p.ExecutionRoleArn)).flatMap((s) => s.Action);
    expect(execution).toContain('secretsmanager:GetSecretValue');
    expect(execution).toContain('ecr:BatchGetImage');
    expect(execution).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents']));
    expect(execution.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    // The task role is assumed by ECS tasks; the infrastructure role by ECS, with its documented policy.
    const role = (id: string) => template(stacks.service).toJSON().Resources[id] as Resource;
    expect(JSON.stringify(role(roleOf(p.TaskRoleArn)).Properties?.AssumeRolePolicyDocument)).toContain(
      'ecs-tasks.amazonaws.com',
    );
    const infra = role(roleOf(p.InfrastructureRoleArn)).Properties as Json;
    expect(JSON.stringify(infra.AssumeRolePolicyDocument)).toContain('"ecs.amazonaws.com"');
    expect(JSON.stringify(infra.ManagedPolicyArns)).toContain(EXPRESS_INFRASTRUCTURE_POLICY);
    expect(byRole(roleOf(p.InfrastructureRoleArn))).toEqual([]);
  });

  describe('with -c host=apprunner', () => {
    let runner: LoadtestStacks;
    let runnerApp: App;
    beforeAll(() => {
      runnerApp = new App({ context: { ...NO_BUNDLING, host: 'apprunner' } });
      runner = buildLoadtestApp(runnerApp, configFromContext(runnerApp.node));
    });

    it('runs the same image on App Runner with the health check, table name and auth secret', () => {
      const t = Template.fromStack(runner.service);
      t.resourceCountIs('AWS::ECS::ExpressGatewayService', 0);
      const svcs = Object.values(t.findResources('AWS::AppRunner::Service')) as Resource[];
      expect(svcs).toHaveLength(1);
      const p = (svcs[0] as Resource).Properties as {
        SourceConfiguration: {
          AutoDeploymentsEnabled: boolean;
          ImageRepository: {
            ImageIdentifier: unknown;
            ImageRepositoryType: string;
            ImageConfiguration: {
              Port: string;
              RuntimeEnvironmentVariables: { Name: string; Value: unknown }[];
              RuntimeEnvironmentSecrets: { Name: string; Value: unknown }[];
            };
          };
        };
        HealthCheckConfiguration: { Protocol: string; Path: string };
        InstanceConfiguration: { Cpu: string; Memory: string };
      };
      const repo = p.SourceConfiguration.ImageRepository;
      expect(repo.ImageRepositoryType).toBe('ECR');
      expect(JSON.stringify(repo.ImageIdentifier)).toContain(runner.service.image.assetHash);
      expect(p.HealthCheckConfiguration).toMatchObject({ Protocol: 'HTTP', Path: HEALTH_CHECK_PATH });
      expect(p.InstanceConfiguration).toMatchObject({ Cpu: '1 vCPU', Memory: '2 GB' });
      const env = containerEnv(repo.ImageConfiguration.RuntimeEnvironmentVariables);
      expect(Object.keys(env)).toContain('TABLE_NAME');
      expect(env.EMF_SINK).toBe('cloudwatch');
      const [secretId] = Object.keys(t.findResources('AWS::SecretsManager::Secret'));
      expect(repo.ImageConfiguration.RuntimeEnvironmentSecrets).toEqual([
        { Name: 'AUTH_SECRET', Value: { Ref: secretId } },
      ]);
      expect(repo.ImageConfiguration.Port).toBe('8080');
      expect(t.toJSON().Outputs.AppUrl.Value).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.any(String), 'ServiceUrl'] }]],
      });
    });

    it('passes cdk-nag AwsSolutions, acknowledging only the ECR token, PutMetricData and the secret rotation', () => {
      const report = new AwsSolutionsChecks().validateScope(runnerApp);
      expect(
        report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
      ).toEqual([]);
      expect(
        runnerApp.node
          .findAll()
          .flatMap((c) =>
            c.node.metadata
              .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
              .flatMap((m) =>
                Object.keys(m.data as Json).map((id) => `${c.node.path} ${id.replace(/^annotation::/i, '')}`),
              ),
          )
          .sort(),
      ).toEqual([
        'DynamoLoadtest-Service/AuthSecret AwsSolutions-SMG4',
        'DynamoLoadtest-Service/EcrAccessRole AwsSolutions-IAM5[Resource::*]',
        'DynamoLoadtest-Service/InstanceRole AwsSolutions-IAM5[Resource::*]',
      ]);
    });
  });

  it('builds the app image from Dockerfile, for x86_64, with only the files the app needs in its context', () => {
    const asset = dockerAsset(stacks.service);
    expect(asset.dockerFile).toBe('Dockerfile');
    expect(asset.platform).toBe('linux/amd64');
    expect(readdirSync(asset.dir).sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'app',
      'instrument',
      'package-lock.json',
      'package.json',
      'tsconfig.json',
    ]);
    expect(existsSync(join(asset.dir, 'app/main.ts'))).toBe(true);
  });

  it('holds everything app/main.ts imports, the toolkit through package.json\'s "exports" included', () => {
    expectImageHolds(stacks.service, 'app/main.ts');
    expect(importGraph('app/main.ts')).toContain('instrument/index.ts');
  });
});

describe('runners stack', () => {
  it('is an arm64 image function with the configured timeout and memory, and reserves no concurrency', () => {
    const [, fn] = only(stacks.runners, 'AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      PackageType: 'Image',
      Architectures: ['arm64'],
      Timeout: 900,
      MemorySize: 2048,
    });
    // A reservation a new account cannot grant (it must leave 100 unreserved) fails the deployment.
    expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(fn.Properties?.LoggingConfig).toBeDefined();
    const [, logs] = only(stacks.runners, 'AWS::Logs::LogGroup');
    expect(logs.Properties?.RetentionInDays).toBe(30);
  });

  it('may only write its own logs', () => {
    const own = statements().filter((s) => s.stack === stacks.runners.stackName);
    expect(own.flatMap((s) => s.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const [, role] = only(stacks.runners, 'AWS::IAM::Role');
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('builds its image from Dockerfile.runner for arm64, with the runner sources in the context', () => {
    const asset = dockerAsset(stacks.runners);
    expect(asset.dockerFile).toBe('Dockerfile.runner');
    expect(asset.platform).toBe('linux/arm64');
    // The runner is generic: no app/ in its image.
    expect(readdirSync(asset.dir).sort()).toEqual([
      '.dockerignore',
      'Dockerfile.runner',
      'examples',
      'instrument',
      'package-lock.json',
      'package.json',
      'runner',
      'scenarios',
      'tsconfig.json',
    ]);
    expect(existsSync(join(asset.dir, 'runner/aws/lambda-entry.mjs'))).toBe(true);
  });

  it('holds everything its entry imports, and the scenarios with their processors', () => {
    expectImageHolds(stacks.runners, 'runner/aws/lambda-entry.mjs');
    const asset = dockerAsset(stacks.runners);
    for (const f of readdirSync(join(ROOT, 'scenarios/lib'))) {
      expect(existsSync(join(asset.dir, 'scenarios/lib', f)), `scenarios/lib/${f}`).toBe(true);
    }
    // An example project's in-repo scenario resolves its processor from its own folder.
    expect(existsSync(join(asset.dir, 'examples/orders/scenarios/orders.cjs'))).toBe(true);
    expect(readFileSync(join(asset.dir, asset.dockerFile), 'utf8')).toMatch(/^COPY examples \.\/examples$/m);
  });

  it('takes memory, timeout, the opt-in concurrency reservation and the architecture from context', () => {
    const context = {
      runnerMemoryMb: '4096',
      runnerTimeoutSec: 300,
      runnerConcurrency: '20',
      runnerArch: 'x86_64',
    };
    const config = configFromContext(new App({ context }).node);
    expect(config.runner).toEqual({
      memoryMb: 4096,
      timeoutSec: 300,
      reservedConcurrency: 20,
      arch: 'x86_64',
    });
    expect(configFromContext(new App().node).runner).toEqual({
      memoryMb: 2048,
      timeoutSec: 900,
      reservedConcurrency: undefined,
      arch: 'arm64',
    });
    // The key's earlier name keeps working; two values that disagree are refused.
    expect(
      configFromContext(new App({ context: { runnerReservedConcurrency: 7 } }).node).runner
        .reservedConcurrency,
    ).toBe(7);
    expect(() =>
      configFromContext(new App({ context: { runnerConcurrency: 7, runnerReservedConcurrency: 8 } }).node),
    ).toThrow(/runnerConcurrency=7 and its old name -c runnerReservedConcurrency=8 disagree/);
    expect(() => configFromContext(new App({ context: { runnerArch: 'arm' } }).node)).toThrow(
      /-c runnerArch: no architecture "arm": one of arm64, x86_64/,
    );

    const other = new App({ context: { ...NO_BUNDLING, ...context } });
    const built = buildLoadtestApp(other, configFromContext(other.node));
    const fns = Object.values(
      Template.fromStack(built.runners).findResources('AWS::Lambda::Function'),
    ) as Resource[];
    expect(fns[0]?.Properties).toMatchObject({
      Architectures: ['x86_64'],
      MemorySize: 4096,
      Timeout: 300,
      ReservedConcurrentExecutions: 20,
    });
    // The image is built for the function's architecture.
    const assembly = other.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, `${built.runners.artifactId}.assets.json`), 'utf8'),
    ) as { dockerImages: Record<string, { source: { platform?: string } }> };
    expect(Object.values(manifest.dockerImages).map((i) => i.source.platform)).toEqual(['linux/amd64']);
  });
});

describe('observability stack', () => {
  it('has the dashboard, with one row of widgets per access pattern', () => {
    const [, dash] = only(stacks.observability, 'AWS::CloudWatch::Dashboard');
    expect(dash.Properties?.DashboardName).toBe(DEFAULT_STACK_PREFIX);
    // The body is a Fn::Join of JSON text and tokens (the table name, the region): render the tokens.
    const parts = ((dash.Properties as Json).DashboardBody as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ][1];
    const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
      widgets: { type: string; properties: { markdown?: string; metrics?: unknown[][] } }[];
    };
    const metricsOf = (pattern: string) =>
      body.widgets.filter(
        (w) =>
          w.type === 'metric' &&
          (w.properties.metrics ?? []).some((m) => m.includes('AccessPattern') && m.includes(pattern)) &&
          // a widget of the pattern's own row, not the table-wide header that sums every pattern
          (w.properties.metrics ?? []).every((m) => !m.includes('AccessPattern') || m.includes(pattern)),
      );
    for (const pattern of patternIds) {
      expect(metricsOf(pattern).length, `${pattern}: its own widgets`).toBeGreaterThan(0);
      expect(body.widgets.some((w) => w.type === 'text' && w.properties.markdown?.includes(pattern))).toBe(
        true,
      );
    }
  });

  it("draws the shop's patterns from props, under its EMF service", () => {
    const [, dash] = only(stacks.observability, 'AWS::CloudWatch::Dashboard');
    const parts = ((dash.Properties as Json).DashboardBody as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ][1];
    const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const emf = body.widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((m) => m[0] === EMF_NAMESPACE) as string[][];
    expect(emf.length).toBeGreaterThan(0);
    for (const m of emf) expect(m[m.indexOf('Service') + 1]).toBe(SHOP_SERVICE);
    expect(new Set(emf.map((m) => m[m.indexOf('AccessPattern') + 1]))).toEqual(new Set(patternIds));
  });

  it("is generic: another project's patterns, service and table make another dashboard", () => {
    const other = new App();
    const stack = new ObservabilityStack(other, 'Orders-Observability', {
      tableName: 'orders',
      indexNames: ['byCustomer'],
      dashboardName: 'orders',
      patterns: [{ id: 'placeOrder', description: 'a customer places an order' }, 'getOrder'],
      service: 'orders-app',
    });
    const body = JSON.stringify(Template.fromStack(stack).toJSON());
    for (const text of ['placeOrder', 'getOrder', 'a customer places an order', 'orders-app', 'byCustomer'])
      expect(body).toContain(text);
    for (const id of patternIds) expect(body).not.toContain(`### ${id}`);
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))).toHaveLength(4);
  });

  it('alarms on any read or write throttle event of the table and of each GSI', () => {
    const alarms = resources(stacks.observability, 'AWS::CloudWatch::Alarm').map(
      ([, a]) => a.Properties as Json,
    );
    const targets = [undefined, ...tableDefinition.indexes.map((i) => i.name)];
    expect(alarms).toHaveLength(targets.length * 2);
    for (const index of targets) {
      for (const metric of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
        const alarm = alarms.find(
          (a) =>
            a.MetricName === metric &&
            ((a.Dimensions as { Name: string; Value: unknown }[]).find(
              (d) => d.Name === 'GlobalSecondaryIndexName',
            )?.Value ?? undefined) === index,
        );
        expect(alarm, `${index ?? 'table'} ${metric}`).toMatchObject({
          Namespace: 'AWS/DynamoDB',
          Statistic: 'Sum',
          Period: 60,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
    }
  });
});

describe('events stack', () => {
  const events = () => stacks.events;
  /** A construct's resource in the events template, by its logical id. */
  const resource = (c: Construct): [string, Resource] => {
    const cfn = (c.node.defaultChild ?? c) as CfnElement;
    const id = events().getLogicalId(cfn);
    return [id, template(events()).toJSON().Resources[id] as Resource];
  };
  const digest = () => {
    const d = events().digest;
    if (!d) throw new Error('the app is built with an email: the digest path exists');
    return d;
  };
  const roleStatements = (pipe: Resource) => {
    const roleId = ((pipe.Properties as Json).RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    return statements()
      .filter(
        (s) =>
          s.stack === events().stackName &&
          JSON.stringify(template(events()).toJSON().Resources[s.logicalId]).includes(`"${roleId}"`),
      )
      .map((s) => ({ logicalId: s.logicalId, Action: s.Action, Resource: s.Resource }));
  };

  it("pipes the table's stream through the app's filter to the topic", () => {
    const [, pipe] = resource(events().pipe);
    const p = pipe.Properties as {
      Source: unknown;
      Target: unknown;
      Enrichment: unknown;
      SourceParameters: {
        FilterCriteria: { Filters: { Pattern: string }[] };
        DynamoDBStreamParameters: Json;
      };
    };
    const [tableId] = only(stacks.data, 'AWS::DynamoDB::Table');
    expect(exported(p.Source)).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    // Issue 7: the filter on AWS is the very object `loadtest events` evaluates locally.
    expect(p.SourceParameters.FilterCriteria.Filters).toEqual([
      { Pattern: JSON.stringify(ORDER_COMPLETED_PIPE_FILTER) },
    ]);
    const [topicId] = resource(events().topic);
    expect(p.Target).toEqual({ Ref: topicId });
    const [fnId, fn] = resource(events().enrichment);
    expect(p.Enrichment).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  it('lets the pipe read only that stream, call its enrichment and publish to its topic', () => {
    const [pipeId, pipe] = resource(events().pipe);
    const own = roleStatements(pipe);
    const [topicId] = resource(events().topic);
    const [fnId] = resource(events().enrichment);
    expect(own.map(({ Action, Resource }) => ({ Action, Resource }))).toEqual([
      {
        Action: [
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
        ],
        Resource: [(pipe.Properties as Json).Source],
      },
      { Action: ['lambda:InvokeFunction'], Resource: [{ 'Fn::GetAtt': [fnId, 'Arn'] }] },
      { Action: ['sns:Publish'], Resource: [{ Ref: topicId }] },
    ]);
    // The Pipe starts polling only once its role's policy exists.
    expect(pipe.DependsOn).toEqual(expect.arrayContaining(own.map((s) => s.logicalId)));
    expect(pipeId).toBe('OrderCompletedPipe');
  });

  it("takes big orders off the topic with the app's filter policy on the message body, into a queue", () => {
    const [, sub] = resource(digest().queueSubscription);
    const [topicId] = resource(events().topic);
    const [queueId, queue] = resource(digest().queue);
    expect(sub.Properties).toEqual({
      TopicArn: { Ref: topicId },
      Protocol: 'sqs',
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
      RawMessageDelivery: true,
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: BIG_ORDER_FILTER_POLICY,
    });
    // Only the order topic may send to the queue, and only over TLS; failing batches go aside.
    const policy = resources(events(), 'AWS::SQS::QueuePolicy').find(([, r]) =>
      JSON.stringify(r.Properties?.Queues).includes(queueId),
    )?.[1];
    const text = JSON.stringify(policy?.Properties);
    expect(text).toContain('"Service":"sns.amazonaws.com"');
    expect(text).toContain(`"aws:SourceArn":{"Ref":"${topicId}"}`);
    expect(text).toContain('"aws:SecureTransport":"false"');
    expect(queue.Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: 3 });
  });

  it("mails one digest per batch of big orders, so email stays under SNS's 10 messages a second", () => {
    const [, pipe] = resource(digest().pipe);
    const [queueId] = resource(digest().queue);
    const [digestTopicId] = resource(digest().topic);
    const [fnId, fn] = resource(digest().enrichment);
    expect(pipe.Properties).toMatchObject({
      Source: { 'Fn::GetAtt': [queueId, 'Arn'] },
      Enrichment: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Target: { Ref: digestTopicId },
      SourceParameters: {
        SqsQueueParameters: {
          BatchSize: DIGEST_BATCH.size,
          MaximumBatchingWindowInSeconds: DIGEST_BATCH.windowSeconds,
        },
      },
    });
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler' });
    // The address is subscribed to the digest topic only, with nothing left to filter there.
    const emails = resources(events(), 'AWS::SNS::Subscription').filter(
      ([, r]) => r.Properties?.Protocol === 'email',
    );
    expect(emails.map(([, r]) => r.Properties)).toEqual([
      { TopicArn: { Ref: digestTopicId }, Protocol: 'email', Endpoint: EMAIL },
    ]);
    expect(roleStatements(pipe).map(({ Action, Resource }) => ({ Action, Resource }))).toEqual([
      {
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [{ 'Fn::GetAtt': [queueId, 'Arn'] }],
      },
      { Action: ['lambda:InvokeFunction'], Resource: [{ 'Fn::GetAtt': [fnId, 'Arn'] }] },
      { Action: ['sns:Publish'], Resource: [{ Ref: digestTopicId }] },
    ]);
  });

  it('requires TLS to publish to either topic', () => {
    const policies = resources(events(), 'AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('creates the topic but no subscription, queue or digest without an email address', () => {
    const bare = new App({ context: NO_BUNDLING });
    const stack = new EventsStack(bare, 'E', {
      tableStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/shop/stream/2024-01-01T00:00:00.000',
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::SNS::Subscription', 0);
    t.resourceCountIs('AWS::SQS::Queue', 0);
    t.resourceCountIs('AWS::Pipes::Pipe', 1);
    expect(stack.digest).toBeUndefined();
  });
});

describe('the email digest', () => {
  const body = (orderId: string, total: number): OrderMessageBody => ({
    orderId,
    email: `${orderId}@example.com`,
    total,
    itemCount: 1,
    completedAt: '2024-05-01T10:00:00.000Z',
    status: 'COMPLETED',
  });

  it('turns a whole batch into one message that counts and sums every order', async () => {
    const batch = Array.from({ length: 250 }, (_, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify(body(`o${i}`, 100.1)),
    }));
    const out = await digestHandler(batch);
    expect(out).toHaveLength(1);
    const [d] = out;
    expect(d?.count).toBe(250);
    expect(d?.totalUsd).toBe(25025);
    expect(d?.orders.map((o) => o.orderId)).toEqual(
      Array.from({ length: DIGEST_LISTED_ORDERS }, (_, i) => `o${i}`),
    );
    expect(d?.summary).toBe(
      `250 big order(s) completed, $25025.00 in total (the first ${DIGEST_LISTED_ORDERS} listed)`,
    );
    expect(await digestHandler([])).toEqual([]);
  });

  it('names the messages that were not order notifications instead of dropping them', () => {
    const d = orderDigest([
      { messageId: 'a', body: JSON.stringify(body('o1', 150)) },
      { messageId: 'b', body: 'not json' },
      { messageId: 'c', body: '{"hello":1}' },
    ]);
    expect(d.count).toBe(1);
    expect(d.unreadable).toEqual(['b', 'c']);
    expect(d.summary).toBe(
      '1 big order(s) completed, $150.00 in total; 2 message(s) were not order notifications',
    );
  });

  it("reads exactly what the order pipe's enrichment publishes", async () => {
    const [published] = await orderNotificationHandler([
      {
        eventName: 'MODIFY',
        dynamodb: {
          NewImage: {
            orderId: { S: 'o9' },
            email: { S: 'a@b.co' },
            total: { N: '120.5' },
            itemCount: { N: '2' },
            completedAt: { S: '2024-05-01T10:00:00.000Z' },
            status: { S: 'COMPLETED' },
          },
        },
      },
    ]);
    const d = orderDigest([{ messageId: 'x', body: JSON.stringify(published) }]);
    expect(d.orders).toEqual([published]);
    expect(d.unreadable).toEqual([]);
  });
});

describe('the order notification the pipe publishes', () => {
  const record = (total: string) => ({
    eventName: 'MODIFY',
    dynamodb: {
      NewImage: {
        entity: { S: 'Order' },
        status: { S: 'COMPLETED' },
        orderId: { S: 'o1' },
        email: { S: 'a@b.co' },
        total: { N: total },
        itemCount: { N: '2' },
        completedAt: { S: '2024-05-01T10:00:00.000Z' },
      },
      OldImage: { entity: { S: 'Order' }, status: { S: 'CURRENT' } },
    },
  });

  it("is the app's notification, with total a JSON number the SNS policy can compare", async () => {
    const [body] = await orderNotificationHandler([record('120.5')]);
    const local = orderNotification(record('120.5').dynamodb.NewImage);
    expect(body).toEqual({ ...local.message, ...local.attributes });
    expect(JSON.parse(JSON.stringify(body)).total).toBe(120.5);
  });

  it('is delivered by the subscription exactly when the local policy check delivers it', async () => {
    for (const total of ['99.99', '100', '120.5', '0']) {
      const r = record(total);
      expect(matchesPattern(r, ORDER_COMPLETED_PIPE_FILTER)).toBe(true);
      const [body] = await orderNotificationHandler([r]);
      const local = orderNotification(r.dynamodb.NewImage);
      expect(matchesPattern(body, BIG_ORDER_FILTER_POLICY), total).toBe(
        matchesPattern(local.attributes, BIG_ORDER_FILTER_POLICY),
      );
    }
    expect(await orderNotificationHandler([record('150'), record('5')])).toHaveLength(2);
  });
});

describe('context', () => {
  it('refuses removalPolicy=snapshot, which DynamoDB tables do not support, naming the alternatives', () => {
    expect(() => configFromContext(new App({ context: { removalPolicy: 'snapshot' } }).node)).toThrow(
      /-c removalPolicy: snapshot is not supported by DynamoDB tables; use retain .* or destroy/,
    );
    expect(configFromContext(new App({ context: { removalPolicy: 'retain' } }).node).removalPolicy).toBe(
      RemovalPolicy.RETAIN,
    );
    const retained = new App({ context: { ...NO_BUNDLING, removalPolicy: 'retain' } });
    const built = buildLoadtestApp(retained, configFromContext(retained.node));
    const tables = Object.values(
      Template.fromStack(built.data).findResources('AWS::DynamoDB::Table'),
    ) as (Resource & {
      DeletionPolicy?: string;
    })[];
    expect(tables.map((t) => t.DeletionPolicy)).toEqual(['Retain']);
  });

  it('defaults to the app billing, the default prefix and no email', () => {
    const config = configFromContext(new App().node);
    expect(config).toMatchObject({
      prefix: DEFAULT_STACK_PREFIX,
      billing: DEFAULT_BILLING,
      notificationEmail: undefined,
    });
  });

  it('refuses capacities without provisioned mode, and provisioned mode without capacities', () => {
    expect(() => configFromContext(new App({ context: { readCapacity: '5' } }).node)).toThrow(ConfigError);
    expect(() => configFromContext(new App({ context: { billingMode: 'provisioned' } }).node)).toThrow(
      /readCapacity=N and -c writeCapacity=N/,
    );
    expect(() => configFromContext(new App({ context: { notificationEmail: 'nope' } }).node)).toThrow(
      /-c notificationEmail/,
    );
    expect(() =>
      configFromContext(new App({ context: { appCpu: '4 vCPU', appMemory: '2 GB' } }).node),
    ).toThrow(
      /ECS Express Mode \(Fargate\) has no 4 vCPU with 2 GB; with 4 vCPU -c appMemory is one of 8 GB, 10 GB, 12 GB/,
    );
    // Sizes are the host's: Fargate has 1 vCPU with 8 GB, App Runner does not.
    expect(configFromContext(new App({ context: { appCpu: '1 vCPU', appMemory: '8 GB' } }).node).host).toBe(
      'ecs',
    );
    expect(() =>
      configFromContext(
        new App({ context: { host: 'apprunner', appCpu: '1 vCPU', appMemory: '8 GB' } }).node,
      ),
    ).toThrow(/App Runner has no 1 vCPU with 8 GB; with 1 vCPU -c appMemory is one of 2 GB, 3 GB, 4 GB/);
    expect(() => configFromContext(new App({ context: { host: 'fargate' } }).node)).toThrow(
      /-c host: no host "fargate": one of ecs, apprunner/,
    );
    expect(configFromContext(new App({ context: { appCpu: '2 vCPU', appMemory: '4 GB' } }).node).app).toEqual(
      {
        cpu: '2 vCPU',
        memory: '4 GB',
      },
    );
    expect(() =>
      configFromContext(
        new App({
          context: {
            billingMode: 'provisioned',
            readCapacity: 1,
            writeCapacity: 1,
            indexCapacity: '{"GSI9":{"read":1,"write":1}}',
          },
        }).node,
      ),
    ).toThrow(/indexCapacity/);
    expect(() =>
      configFromContext(
        new App({
          context: { billingMode: 'provisioned', readCapacity: 1, writeCapacity: 1, indexCapacity: '{GSI1' },
        }).node,
      ),
    ).toThrow(/-c indexCapacity/);
  });
});

describe('tear-down', () => {
  /**
   * `cdk destroy` must leave no log group behind that keeps (and bills) logs forever: every log group
   * the stacks create has a retention and is deleted with its stack, and every Lambda function logs
   * to such a group of its own stack, never to the implicit `/aws/lambda/<name>` group Lambda would
   * create outside CloudFormation (no retention, and left by `cdk destroy`). The same holds for the
   * ECS task's awslogs group. Checked on every stack, on both hosts, with the email digest on.
   */
  const variants: Record<string, Json> = {
    default: { notificationEmail: EMAIL },
    apprunner: { host: 'apprunner', notificationEmail: EMAIL },
    retain: { removalPolicy: 'retain' },
  };
  for (const [name, context] of Object.entries(variants)) {
    it(`every log group has a retention and goes with its stack; every function logs to one (${name})`, () => {
      const built =
        name === 'default'
          ? stacks
          : (() => {
              const other = new App({ context: { ...NO_BUNDLING, ...context } });
              return buildLoadtestApp(other, configFromContext(other.node));
            })();
      let groups = 0;
      let functions = 0;
      for (const stack of Object.values(built) as Stack[]) {
        const t = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource & Json> };
        const logGroups = new Map(
          Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup'),
        );
        for (const [id, r] of logGroups) {
          groups += 1;
          expect(r.Properties?.RetentionInDays, `${stack.stackName} ${id}: RetentionInDays`).toBeGreaterThan(
            0,
          );
          expect(r.DeletionPolicy, `${stack.stackName} ${id}: deleted with the stack`).toBe('Delete');
          expect(r.UpdateReplacePolicy, `${stack.stackName} ${id}`).toBe('Delete');
        }
        const ownGroup = (ref: unknown, what: string) => {
          const id = (ref as { Ref?: string } | undefined)?.Ref;
          expect(id, `${what}: a Ref to a log group of its stack`).toBeTypeOf('string');
          expect(logGroups.has(id as string), `${what}: ${id} is a log group of ${stack.stackName}`).toBe(
            true,
          );
        };
        for (const [id, r] of Object.entries(t.Resources)) {
          if (r.Type === 'AWS::Lambda::Function') {
            functions += 1;
            const logging = r.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined;
            ownGroup(logging?.LogGroup, `${stack.stackName} function ${id} LoggingConfig.LogGroup`);
          }
          if (r.Type === 'AWS::ECS::ExpressGatewayService') {
            const container = r.Properties?.PrimaryContainer as {
              AwsLogsConfiguration?: { LogGroup?: unknown };
            };
            ownGroup(container.AwsLogsConfiguration?.LogGroup, `${stack.stackName} ${id} awslogs group`);
          }
          // A custom resource would bring a provider function of CDK's whose log group is implicit.
          expect(r.Type, `${stack.stackName} ${id}`).not.toMatch(
            /^Custom::|^AWS::CloudFormation::CustomResource$/,
          );
        }
      }
      // The runner and both Pipe enrichments (order notification, email digest): each with its group.
      expect(functions).toBe(name === 'retain' ? 2 : 3);
      expect(groups).toBeGreaterThanOrEqual(functions + (name === 'apprunner' ? 0 : 1));
    });
  }
});
