import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandInput,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import {
  OUTPUT_KEYS,
  PROJECT_OUTPUT_KEYS,
  PROJECT_STACK_SUFFIXES,
  STACK_SUFFIXES,
  type StackSuffix,
  stackName,
} from '../../infra/index.js';

/**
 * What `loadtest run --target aws` needs from the deployed CDK app (infra/): the stacks are named
 * `<name>-Data`, `<name>-Service`, ... and publish these CloudFormation outputs. A deployment for a
 * project's own app (`-c project=...`) has only `<name>-Runners` and `<name>-Observability`; the
 * latter names the app and the tables.
 */
export interface StackOutputs {
  readonly stackName: string;
  /** `shop`: the five stacks of the reference app; `project`: runners and dashboard for a user's app. */
  readonly kind: 'shop' | 'project';
  /** The deployment's (first) table. */
  readonly tableName: string;
  /** Every table with its GSIs: a project deployment's `Tables` output; undefined for the shop's one table. */
  readonly tables: readonly { readonly name: string; readonly indexes: readonly string[] }[] | undefined;
  /** The project a project deployment was built for (its `Project` output); undefined for the shop's. */
  readonly project: string | undefined;
  readonly appUrl: string;
  readonly runnerFunctionName: string;
  readonly dashboardName: string;
  readonly topicArn: string | undefined;
  /**
   * Every output of the deployment's stacks by key (CDK's own `ExportsOutput...` left out): the
   * project's data command gets them all (LOADTEST_OUTPUT_<KEY>), e.g. the app's AuthSecretArn.
   */
  readonly outputs: Readonly<Record<string, string>>;
}

/** Outputs the toolkit can do without: the events flow's, and what only a data command may read. */
const OPTIONAL_OUTPUTS: ReadonlySet<string> = new Set(['TopicArn', 'TableArn', 'AuthSecretArn']);
/** CDK's cross-stack references: plumbing between the stacks, not something to hand a data command. */
const CDK_EXPORT = /^ExportsOutput/;

export class StackNotReady extends Error {
  override readonly name = 'StackNotReady';
}

const USABLE = /^(CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|IMPORT_COMPLETE)$/;

/** What a project deployment's `Tables` output holds (infra/stacks/observability.ts writes it). */
const tablesOutput = z.array(z.object({ name: z.string().min(1), indexes: z.array(z.string()) })).min(1);

async function outputsOf(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const input: DescribeStacksCommandInput = { StackName: stackName };
  let res: DescribeStacksCommandOutput;
  try {
    res = await cfn.send(new DescribeStacksCommand(input));
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) {
      throw new StackNotReady(
        `stack ${stackName} does not exist in this account and region: deploy it with \`npx cdk deploy --all -c stackName=${stackName.replace(/-[^-]+$/, '')}\` (for your own app: \`npx cdk deploy --all -c project=<its folder> -c stackName=${stackName.replace(/-[^-]+$/, '')}\`)`,
        { cause: err },
      );
    }
    throw err;
  }
  const stack = res.Stacks?.[0];
  if (!stack) throw new StackNotReady(`stack ${stackName}: DescribeStacks returned no stack`);
  if (!USABLE.test(stack.StackStatus ?? '')) {
    throw new StackNotReady(`stack ${stackName} is ${stack.StackStatus}: wait for the deployment to finish`);
  }
  const out: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
  return out;
}

/**
 * Reads the outputs of the deployment `name` (DescribeStacks, concurrently): its Runners and
 * Observability stacks first; when the latter names the app (a project deployment) that is all,
 * otherwise the shop's Data, Service and Events stacks too.
 */
export async function readStackOutputs(cfn: CloudFormationClient, name: string): Promise<StackOutputs> {
  const read = (suffixes: readonly StackSuffix[]) =>
    Promise.all(
      suffixes.map(async (suffix) => [suffix, await outputsOf(cfn, stackName(name, suffix))] as const),
    );
  const first = await read(PROJECT_STACK_SUFFIXES);
  const kind = first.some(([suffix, o]) => suffix === 'Observability' && o.AppUrl !== undefined)
    ? 'project'
    : 'shop';
  const entries =
    kind === 'project'
      ? first
      : [...first, ...(await read(STACK_SUFFIXES.filter((s) => !first.some(([f]) => f === s))))];
  const required: Partial<Record<StackSuffix, readonly string[]>> =
    kind === 'project' ? PROJECT_OUTPUT_KEYS : OUTPUT_KEYS;
  const all: Record<string, string> = {};
  for (const [suffix, outputs] of entries) {
    for (const [key, value] of Object.entries(outputs)) if (!CDK_EXPORT.test(key)) all[key] = value;
    for (const key of required[suffix] ?? []) {
      const value = outputs[key];
      if (value === undefined && !OPTIONAL_OUTPUTS.has(key)) {
        throw new StackNotReady(
          `stack ${name}-${suffix} has no output ${key}: redeploy it with this version of infra/ (npx cdk deploy --all)`,
        );
      }
    }
  }
  let tables: StackOutputs['tables'];
  if (kind === 'project') {
    let parsed: z.infer<typeof tablesOutput>;
    try {
      parsed = tablesOutput.parse(JSON.parse(all.Tables ?? ''));
    } catch (err) {
      throw new StackNotReady(
        `stack ${name}-Observability: its Tables output is not the list of tables infra/ writes (${(all.Tables ?? '').slice(0, 80)}): redeploy it with this version of infra/`,
        { cause: err },
      );
    }
    tables = parsed;
  }
  // On ECS Express Mode the output is the service's Endpoint; whether it carries the scheme is not
  // documented, so a bare host gets https:// (Express Mode serves HTTPS only). The data command sees
  // the same URL as the runners.
  if (all.AppUrl !== undefined) all.AppUrl = appUrlOf(all.AppUrl);
  const get = (k: string) => all[k] ?? '';
  return {
    stackName: name,
    kind,
    tableName: tables?.[0]?.name ?? get('TableName'),
    tables,
    project: kind === 'project' ? all.Project : undefined,
    appUrl: get('AppUrl'),
    runnerFunctionName: get('RunnerFunctionName'),
    dashboardName: get('DashboardName'),
    topicArn: all.TopicArn,
    outputs: all,
  };
}

/** `https://host` for an output that is a URL or a bare host name, without a trailing slash. */
export function appUrlOf(output: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(output) ? output : `https://${output}`;
  return url.replace(/\/+$/, '');
}

/** The CloudWatch console page of a dashboard. */
export function dashboardConsoleUrl(region: string, dashboardName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}
