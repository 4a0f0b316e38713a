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
  readonly authSecretArn: string;
  readonly runnerFunctionName: string;
  readonly dashboardName: string;
  readonly topicArn: string | undefined;
}

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
    for (const key of OUTPUT_KEYS[suffix] as readonly string[]) {
      const value = outputs[key];
      if (value === undefined && key !== 'TopicArn' && key !== 'TableArn') {
        throw new StackNotReady(
          `stack ${name}-${suffix} has no output ${key}: redeploy it with this version of infra/ (npx cdk deploy --all)`,
        );
      }
      if (value !== undefined) all[key] = value;
    }
  }
  const get = (k: string) => all[k] ?? '';
  return {
    stackName: name,
    tableName: get('TableName'),
    appUrl: get('AppUrl').replace(/\/$/, ''),
    authSecretArn: get('AuthSecretArn'),
    runnerFunctionName: get('RunnerFunctionName'),
    dashboardName: get('DashboardName'),
    topicArn: all.TopicArn,
  };
}

/** The CloudWatch console page of a dashboard. */
export function dashboardConsoleUrl(region: string, dashboardName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}
