import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { onlyInContext, REPO_ROOT } from '../paths.js';

/** The runner function's defaults; the shop's deployment (infra/config.ts) takes them as its own. */
export const DEFAULT_RUNNER = { memoryMb: 2048, timeoutSec: 900, reservedConcurrency: 100 } as const;

export interface RunnersStackProps extends StackProps {
  /** Default 2048. */
  readonly memoryMb?: number;
  /** Default 900 (Lambda's maximum); the handler stops its slice before it. */
  readonly timeoutSec?: number;
  /** The most runners that can run at once (and what they can take from the account). Default 100. */
  readonly reservedConcurrency?: number;
  /** Default one month. */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The Artillery runner Lambda (runner/aws/lambda-entry.mjs) as an arm64 container image. It only
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

    this.runner = new lambda.DockerImageFunction(this, 'Runner', {
      description: 'dynamo-loadtest: runs one worker slice of an Artillery scenario',
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: 'Dockerfile.runner',
        platform: ecrAssets.Platform.LINUX_ARM64,
        // What runner/aws/lambda-entry.mjs imports (runner/, instrument/), the scenarios it runs, and
        // package.json, whose "exports" resolve `dynamo-loadtest/...`. No app/: the runner is generic.
        exclude: onlyInContext(
          'runner',
          'instrument',
          'scenarios',
          'package.json',
          'package-lock.json',
          'tsconfig.json',
        ),
      }),
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? DEFAULT_RUNNER.memoryMb,
      timeout: Duration.seconds(props.timeoutSec ?? DEFAULT_RUNNER.timeoutSec),
      reservedConcurrentExecutions: props.reservedConcurrency ?? DEFAULT_RUNNER.reservedConcurrency,
      role,
      logGroup,
    });

    new CfnOutput(this, 'RunnerFunctionName', { value: this.runner.functionName });
  }
}
