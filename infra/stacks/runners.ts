import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { onlyInContext, REPO_ROOT } from '../paths.js';

/** The runner function's defaults; the shop's deployment (infra/config.ts) takes them as its own. */
export const DEFAULT_RUNNER = { memoryMb: 2048, timeoutSec: 900, arch: 'arm64' } as const;

export const RUNNER_ARCHS = ['arm64', 'x86_64'] as const;
export type RunnerArch = (typeof RUNNER_ARCHS)[number];

export interface RunnersStackProps extends StackProps {
  /** Default 2048. */
  readonly memoryMb?: number;
  /** Default 900 (Lambda's maximum); the handler stops its slice before it. */
  readonly timeoutSec?: number;
  /**
   * Reserved concurrency: the most runners that can run at once, held back from the rest of the
   * account. Default none: Lambda refuses a reservation that leaves the account fewer than 100
   * unreserved executions, and a new account's quota can be as low as 10, so a fixed reservation
   * fails the deployment there.
   */
  readonly reservedConcurrency?: number;
  /**
   * Default arm64 (cheaper per GB-second). Building an arm64 image on an x86_64 machine needs
   * Docker buildx with QEMU; `x86_64` builds natively there.
   */
  readonly arch?: RunnerArch;
  /** Default one month. */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The Artillery runner Lambda (runner/aws/lambda-entry.mjs) as a container image (arm64 by default). It only
 * sends HTTP to the app and writes its logs: its role has no other permission.
 */
export class RunnersStack extends Stack {
  readonly runner: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: RunnersStackProps = {}) {
    super(scope, id, props);

    const logGroup = new logs.LogGroup(this, 'RunnerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of the default one: the AWSLambdaBasicExecutionRole managed policy lets
    // the function create any log group; this role writes to its own only.
    const role = new iam.Role(this, 'RunnerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Artillery runner: writes its own logs, nothing else',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    const arm = (props.arch ?? DEFAULT_RUNNER.arch) === 'arm64';
    this.runner = new lambda.DockerImageFunction(this, 'Runner', {
      description: 'dynamo-loadtest: runs one worker slice of an Artillery scenario',
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: 'Dockerfile.runner',
        platform: arm ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
        // What runner/aws/lambda-entry.mjs imports (runner/, instrument/), the scenarios it runs (the
        // examples' too, with their processors), and package.json, whose "exports" resolve
        // `dynamo-loadtest/...`. No app/: the runner is generic.
        exclude: onlyInContext(
          'runner',
          'instrument',
          'scenarios',
          'examples',
          'package.json',
          'package-lock.json',
          'tsconfig.json',
        ),
      }),
      architecture: arm ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memoryMb ?? DEFAULT_RUNNER.memoryMb,
      timeout: Duration.seconds(props.timeoutSec ?? DEFAULT_RUNNER.timeoutSec),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      role,
      logGroup,
    });

    new CfnOutput(this, 'RunnerFunctionName', { value: this.runner.functionName });
  }
}
