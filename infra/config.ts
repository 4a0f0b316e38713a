import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { z } from 'zod';
import { type BillingOptions, DEFAULT_BILLING, type IndexName, tableDefinition } from '../app/index.js';
import {
  ConfigError,
  int,
  json,
  type RunnerConfig,
  readContext,
  runnerConfig,
  runnerContext,
  stackPrefix,
} from './context.js';
import { DEFAULT_STACK_PREFIX } from './index.js';
import { CONTRIBUTOR_INSIGHTS, type ContributorInsights } from './stacks/data.js';
import { DEFAULT_IMPORT } from './stacks/import.js';
import { APP_HOSTS, type AppHost } from './stacks/service.js';

/**
 * Everything a deployment can be told, read once from CDK context (`cdk.json` or `-c key=value`) and
 * validated here, so the stacks take typed props and never read context themselves.
 */
export interface LoadtestConfig {
  readonly prefix: string;
  readonly billing: BillingOptions;
  readonly removalPolicy: RemovalPolicy;
  readonly contributorInsights: ContributorInsights;
  readonly notificationEmail: string | undefined;
  /** Where the reference app runs: ECS Express Mode, or App Runner for accounts that still have it. */
  readonly host: AppHost;
  readonly runner: RunnerConfig;
  readonly app: { readonly cpu: string; readonly memory: string };
  /** The distributed import stack (`-c import=true`), with its map's concurrency and batch size. */
  readonly import: { readonly concurrency: number; readonly batchSize: number } | undefined;
}

// Re-exported: the shop's deployment and its tests take the error from here.
export { ConfigError };

export const DEFAULT_APP = { cpu: '1 vCPU', memory: '2 GB' } as const;

const indexNames = tableDefinition.indexes.map((i) => i.name) as [IndexName, ...IndexName[]];
const capacity = z.strictObject({ read: z.number().int().positive(), write: z.number().int().positive() });

const contextSchema = z.object({
  stackName: stackPrefix.default(DEFAULT_STACK_PREFIX),
  billingMode: z.enum(['on-demand', 'provisioned']).default(DEFAULT_BILLING.mode),
  readCapacity: int(1, 40_000).optional(),
  writeCapacity: int(1, 40_000).optional(),
  /** Per-GSI capacity in provisioned mode, e.g. {"GSI2":{"read":50,"write":10}}; others get the table's. */
  indexCapacity: json(z.partialRecord(z.enum(indexNames), capacity)).optional(),
  // No `snapshot`: DynamoDB tables do not support CloudFormation's Snapshot deletion policy (synth
  // fails); the table keeps point-in-time recovery, and `retain` keeps the table itself.
  removalPolicy: z
    .enum(['destroy', 'retain'], {
      error: (i) =>
        i.input === 'snapshot'
          ? 'snapshot is not supported by DynamoDB tables; use retain (the table stays, with its point-in-time recovery) or destroy'
          : `no removal policy "${String(i.input)}": one of destroy, retain`,
    })
    .default('destroy'),
  contributorInsights: z
    .enum(CONTRIBUTOR_INSIGHTS, {
      error: (i) =>
        `no Contributor Insights mode "${String(i.input)}": one of ${CONTRIBUTOR_INSIGHTS.join(', ')}`,
    })
    .default('accessed-and-throttled'),
  notificationEmail: z.email().optional(),
  host: z
    .enum(APP_HOSTS, { error: (i) => `no host "${String(i.input)}": one of ${APP_HOSTS.join(', ')}` })
    .default('ecs'),
  ...runnerContext,
  appCpu: z.enum(['0.25 vCPU', '0.5 vCPU', '1 vCPU', '2 vCPU', '4 vCPU']).default(DEFAULT_APP.cpu),
  appMemory: z
    .enum(['0.5 GB', '1 GB', '2 GB', '3 GB', '4 GB', '6 GB', '8 GB', '10 GB', '12 GB'])
    .default(DEFAULT_APP.memory),
  /** Adds the distributed import stack (S3 bucket, Step Functions Distributed Map, batch Lambda). */
  import: z.enum(['true', 'false']).default('false'),
  importConcurrency: int(1, 10_000).default(DEFAULT_IMPORT.concurrency),
  importBatchSize: int(1, 10_000).default(DEFAULT_IMPORT.batchSize),
});

/** The CPU and memory pairs each host accepts (App Runner's service configuration reference; Fargate's task sizes). */
const HOST_SIZES: Record<AppHost, { name: string; sizes: Record<string, readonly string[]> }> = {
  apprunner: {
    name: 'App Runner',
    sizes: {
      '0.25 vCPU': ['0.5 GB', '1 GB'],
      '0.5 vCPU': ['1 GB'],
      '1 vCPU': ['2 GB', '3 GB', '4 GB'],
      '2 vCPU': ['4 GB', '6 GB'],
      '4 vCPU': ['8 GB', '10 GB', '12 GB'],
    },
  },
  // ECS Express Mode runs on Fargate: its CPU/memory table, cut to the sizes appMemory offers.
  ecs: {
    name: 'ECS Express Mode (Fargate)',
    sizes: {
      '0.25 vCPU': ['0.5 GB', '1 GB'],
      '0.5 vCPU': ['1 GB', '2 GB', '3 GB', '4 GB'],
      '1 vCPU': ['2 GB', '3 GB', '4 GB', '6 GB', '8 GB'],
      '2 vCPU': ['4 GB', '6 GB', '8 GB', '10 GB', '12 GB'],
      '4 vCPU': ['8 GB', '10 GB', '12 GB'],
    },
  },
};

const REMOVAL: Record<'destroy' | 'retain', RemovalPolicy> = {
  destroy: RemovalPolicy.DESTROY,
  retain: RemovalPolicy.RETAIN,
};

/** Reads the known context keys; an unset or empty value takes the default. */
export function configFromContext(node: Pick<Node, 'tryGetContext'>): LoadtestConfig {
  const ctx = readContext(node, contextSchema);
  let billing: BillingOptions;
  if (ctx.billingMode === 'provisioned') {
    if (ctx.readCapacity === undefined || ctx.writeCapacity === undefined) {
      throw new ConfigError(
        'bad CDK context: billingMode=provisioned needs -c readCapacity=N and -c writeCapacity=N',
      );
    }
    billing = {
      mode: 'provisioned',
      table: { read: ctx.readCapacity, write: ctx.writeCapacity },
      ...(ctx.indexCapacity ? { indexes: ctx.indexCapacity } : {}),
    };
  } else {
    if (ctx.readCapacity !== undefined || ctx.writeCapacity !== undefined || ctx.indexCapacity) {
      throw new ConfigError('bad CDK context: capacities need -c billingMode=provisioned');
    }
    billing = { mode: 'on-demand' };
  }
  const runner = runnerConfig(ctx);
  const host = HOST_SIZES[ctx.host];
  const memories = host.sizes[ctx.appCpu] ?? [];
  if (!memories.includes(ctx.appMemory)) {
    throw new ConfigError(
      `bad CDK context: ${host.name} has no ${ctx.appCpu} with ${ctx.appMemory}; with ${ctx.appCpu} -c appMemory is one of ${memories.join(', ')}`,
    );
  }
  return {
    prefix: ctx.stackName,
    billing,
    removalPolicy: REMOVAL[ctx.removalPolicy],
    contributorInsights: ctx.contributorInsights,
    notificationEmail: ctx.notificationEmail,
    host: ctx.host,
    runner,
    app: { cpu: ctx.appCpu, memory: ctx.appMemory },
    import:
      ctx.import === 'true'
        ? { concurrency: ctx.importConcurrency, batchSize: ctx.importBatchSize }
        : undefined,
  };
}
