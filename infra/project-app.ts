import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { App, StackProps } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { z } from 'zod';
import type { DashboardPattern, DashboardTable } from '../dashboards/index.js';
import {
  CONFIG_NAMES,
  configInFolder,
  loadProject,
  type Project,
  ProjectConfigError,
} from '../runner/project/index.js';
import {
  ConfigError,
  json,
  type RunnerConfig,
  readContext,
  runnerConfig,
  runnerContext,
  runnerStackProps,
  stackPrefix,
} from './context.js';
import { projectStackPrefix, stackName } from './index.js';
import { ObservabilityStack } from './stacks/observability.js';
import { RunnersStack } from './stacks/runners.js';

/**
 * The deployment for a user's own app (`npx cdk deploy -c project=<folder or config file>`): the
 * runner Lambda and the per-pattern dashboard with its throttle alarms, next to an app and tables
 * that already run on AWS and stay the user's. Everything about the app comes from its project
 * config (`loadtest.config.*`), the same file the CLI reads; nothing from app/.
 */
export interface ProjectDeployment {
  readonly prefix: string;
  /** The project config it was built from. */
  readonly file: string;
  readonly appUrl: string;
  /** Each table by its name on AWS, with its GSIs. */
  readonly tables: readonly DashboardTable[];
  readonly patterns: readonly DashboardPattern[];
  /** The app's EMF `Service` dimension: the project's name. */
  readonly service: string;
  readonly runner: RunnerConfig;
}

export interface ProjectStacks {
  readonly runners: RunnersStack;
  readonly observability: ObservabilityStack;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

const projectContext = z.object({
  project: z.string().min(1),
  stackName: stackPrefix.optional(),
  appUrl: z
    .url({ protocol: /^https?$/, message: 'an http(s) URL such as https://orders.example.com' })
    .optional(),
  /** The config's table name -> its name on AWS, over the config's own `aws.tables`. */
  tableNames: json(
    z.record(
      z.string().min(1),
      z.string().regex(TABLE_NAME, "DynamoDB's table name rule: 3-255 of A-Z a-z 0-9 _ . -"),
    ),
  ).optional(),
  ...runnerContext,
});

/**
 * The shop's own context keys: they create or size the shop's table, app and email flow, none of
 * which a project deployment has. Given with `-c project`, they are refused rather than ignored.
 */
export const SHOP_ONLY_CONTEXT = [
  'billingMode',
  'readCapacity',
  'writeCapacity',
  'indexCapacity',
  'removalPolicy',
  'contributorInsights',
  'notificationEmail',
  'host',
  'appCpu',
  'appMemory',
] as const;

/** `-c project=` names a folder (its loadtest.config.*) or the config file itself. */
export function projectConfigFile(path: string, cwd = process.cwd()): string {
  const at = resolve(cwd, path);
  if (!existsSync(at))
    throw new ConfigError(`bad CDK context: -c project=${path}: no such file or folder: ${at}`);
  if (!statSync(at).isDirectory()) return at;
  const found = configInFolder(at);
  if (!found) {
    throw new ConfigError(
      `bad CDK context: -c project=${path}: no project config in ${at} (one of ${CONFIG_NAMES.join(', ')})`,
    );
  }
  return found;
}

/** Loads the project `-c project` names; its errors (file and field) become the CDK app's (exit 2). */
export async function loadDeployedProject(path: string, cwd = process.cwd()): Promise<Project> {
  const file = projectConfigFile(path, cwd);
  try {
    return await loadProject(file);
  } catch (err) {
    if (err instanceof ProjectConfigError)
      throw new ConfigError(`bad project config (-c project=${path}): ${err.message}`, { cause: err });
    throw err;
  }
}

/** What the stacks are built from: the project, with the context's overrides (`-c appUrl`, ...). */
export function projectDeployment(project: Project, node: Pick<Node, 'tryGetContext'>): ProjectDeployment {
  const shopOnly = SHOP_ONLY_CONTEXT.filter((key) => {
    const v: unknown = node.tryGetContext(key);
    return v !== undefined && v !== null && v !== '';
  });
  if (shopOnly.length > 0) {
    throw new ConfigError(
      `bad CDK context: ${shopOnly.map((k) => `-c ${k}`).join(', ')}: for the shop's deployment only; with -c project the app and its tables are yours and are not created or sized here`,
    );
  }
  const ctx = readContext(node, projectContext);
  const where = `${project.file}`;

  const appUrl = (ctx.appUrl ?? project.aws?.appUrl)?.replace(/\/+$/, '');
  if (!appUrl) {
    throw new ConfigError(
      `bad project config: ${where}: aws.appUrl: the app's URL on AWS is needed (the runners send their load there); set aws.appUrl in the config or pass -c appUrl=https://...`,
    );
  }

  // A loopback address on AWS is each runner's own Lambda: the load would go nowhere near the app.
  const host = new URL(appUrl).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || /^127\./.test(host) || host === '::1' || host === '0.0.0.0') {
    const from = ctx.appUrl ? '-c appUrl' : `${where}: aws.appUrl`;
    throw new ConfigError(
      `bad ${ctx.appUrl ? 'CDK context' : 'project config'}: ${from}: ${appUrl} is a loopback address: the runners run in AWS Lambda and cannot reach it; give the app's address on AWS (its load balancer or API URL)`,
    );
  }

  // The tables the CDK app can know: DescribeTable needs AWS, and synth runs offline.
  const known = new Set(project.tables.map((t) => t.name));
  const described =
    project.describeTables === true ? [] : (project.describeTables ?? []).filter((n) => !known.has(n));
  if (project.tables.length === 0 || described.length > 0) {
    throw new ConfigError(
      `bad project config: ${where}: tables: ${
        described.length > 0 ? `${described.join(', ')} only read with DescribeTable` : 'no table declared'
      }; the CDK app synthesizes offline, so declare each table with its GSIs (tables.inline or tables.template)`,
    );
  }
  const names: Record<string, string> = { ...project.aws?.tables, ...ctx.tableNames };
  for (const key of Object.keys(ctx.tableNames ?? {})) {
    if (!known.has(key)) {
      throw new ConfigError(
        `bad CDK context: -c tableNames.${key}: no table "${key}" in ${where}; its tables: ${[...known].join(', ')}`,
      );
    }
  }

  return {
    prefix: ctx.stackName ?? project.aws?.stackName ?? projectStackPrefix(project.name),
    file: project.file,
    appUrl,
    tables: project.tables.map((t) => ({
      name: names[t.name] ?? t.name,
      // LSIs have no CloudWatch dimension of their own: their traffic counts under the table.
      indexes: (t.globalSecondaryIndexes ?? []).map((g) => g.name),
    })),
    patterns: project.patterns.map((p) => ({
      id: p.id,
      ...(p.description !== undefined ? { description: p.description } : {}),
    })),
    service: project.name,
    runner: runnerConfig(ctx),
  };
}

/** `${prefix}-Runners` and `${prefix}-Observability` for the project; no Data, Service or Events stack. */
export function buildProjectApp(
  app: App,
  deployment: ProjectDeployment,
  stackProps: StackProps = {},
): ProjectStacks {
  const runners = new RunnersStack(app, stackName(deployment.prefix, 'Runners'), {
    ...stackProps,
    stackName: stackName(deployment.prefix, 'Runners'),
    description: `dynamo-loadtest runners for project ${deployment.service} (${deployment.appUrl})`,
    ...runnerStackProps(deployment.runner),
  });
  const observability = new ObservabilityStack(app, stackName(deployment.prefix, 'Observability'), {
    ...stackProps,
    stackName: stackName(deployment.prefix, 'Observability'),
    description: `dynamo-loadtest dashboard and throttle alarms for project ${deployment.service}`,
    tables: deployment.tables,
    dashboardName: deployment.prefix,
    patterns: deployment.patterns,
    service: deployment.service,
    appUrl: deployment.appUrl,
  });
  return { runners, observability };
}
