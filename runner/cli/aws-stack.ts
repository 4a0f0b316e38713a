import type { StackOutputs } from '../aws/index.js';
import { RunFailed, UsageError } from './errors.js';

/**
 * What every `--target aws` command needs first: the region and the deployment's outputs. The AWS
 * SDK clients are loaded only here, when a command targets AWS, so local commands do not pay for
 * them at start-up. (Signing the app's tokens is the project's data command's business, not ours.)
 */
export async function awsRegion(flag: string | undefined): Promise<string> {
  const fromEnv = flag ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  // Then where the CDK CLI and the AWS CLI look: the profile's `region` in the shared config file
  // (AWS_PROFILE or `default`, AWS_CONFIG_FILE or ~/.aws/config), through the SDK's own provider.
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({});
  try {
    return await client.config.region();
  } catch (err) {
    const profile = process.env.AWS_PROFILE ?? 'default';
    throw new UsageError(
      `--target aws: no region; pass --aws-region, set AWS_REGION, or set region in profile ${profile} of ${process.env.AWS_CONFIG_FILE ?? '~/.aws/config'}`,
      { cause: err },
    );
  } finally {
    client.destroy();
  }
}

/**
 * The outputs of deployment `stack`; a missing stack or an AWS error as one line naming it. With a
 * project: a deployment built for another project (its `Project` output) is refused, since its
 * dashboard and read-back would be about patterns this project does not have.
 */
export async function readDeployment(
  stack: string,
  region: string,
  project?: { readonly name: string; readonly file: string },
): Promise<StackOutputs> {
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const { readStackOutputs, StackNotReady } = await import('../aws/index.js');
  const cfn = new CloudFormationClient({ region });
  let outputs: StackOutputs;
  try {
    outputs = await readStackOutputs(cfn, stack);
  } catch (err) {
    if (err instanceof StackNotReady) throw new RunFailed(err.message, { cause: err });
    const e = err as Error;
    throw new RunFailed(
      `--stack ${stack}: cannot read the stack outputs in ${region}: ${e.name}: ${e.message}`,
      {
        cause: err,
      },
    );
  } finally {
    cfn.destroy();
  }
  if (project && outputs.project !== undefined && outputs.project !== project.name) {
    throw new UsageError(
      `--stack ${stack} was deployed for project ${outputs.project}, not for project ${project.name} (${project.file}): pass --config with ${outputs.project}'s loadtest config, or deploy one for this project (npx cdk deploy --all -c project=<its folder>)`,
    );
  }
  return outputs;
}
