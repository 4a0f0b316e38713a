import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandInput,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { OUTPUT_KEYS, STACK_SUFFIXES, stackName } from '../../infra/index.js';

/**
 * What `loadtest run --target aws` needs from the deployed CDK app (infra/): the stacks are named
 * `<name>-Data`, `<name>-Service`, ... and publish these CloudFormation outputs.
 */
export interface StackOutputs {
  readonly stackName: string;
  readonly tableName: string;
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

async function outputsOf(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const input: DescribeStacksCommandInput = { StackName: stackName };
  let res: DescribeStacksCommandOutput;
  try {
    res = await cfn.send(new DescribeStacksCommand(input));
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) {
      throw new StackNotReady(
        `stack ${stackName} does not exist in this account and region: deploy it with \`npx cdk deploy --all -c stackName=${stackName.replace(/-[^-]+$/, '')}\``,
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

/** Reads the outputs of every stack of the deployment `name` (DescribeStacks, concurrently). */
export async function readStackOutputs(cfn: CloudFormationClient, name: string): Promise<StackOutputs> {
  const entries = await Promise.all(
    STACK_SUFFIXES.map(async (suffix) => [suffix, await outputsOf(cfn, stackName(name, suffix))] as const),
  );
  const all: Record<string, string> = {};
  for (const [suffix, outputs] of entries) {
    for (const [key, value] of Object.entries(outputs)) if (!CDK_EXPORT.test(key)) all[key] = value;
    for (const key of OUTPUT_KEYS[suffix] as readonly string[]) {
      const value = outputs[key];
      if (value === undefined && !OPTIONAL_OUTPUTS.has(key)) {
        throw new StackNotReady(
          `stack ${name}-${suffix} has no output ${key}: redeploy it with this version of infra/ (npx cdk deploy --all)`,
        );
      }
    }
  }
  // On ECS Express Mode the output is the service's Endpoint; whether it carries the scheme is not
  // documented, so a bare host gets https:// (Express Mode serves HTTPS only). The data command sees
  // the same URL as the runners.
  if (all.AppUrl !== undefined) all.AppUrl = appUrlOf(all.AppUrl);
  const get = (k: string) => all[k] ?? '';
  return {
    stackName: name,
    tableName: get('TableName'),
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
