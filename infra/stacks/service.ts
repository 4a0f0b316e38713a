import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apprunner from 'aws-cdk-lib/aws-apprunner';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { onlyInContext, REPO_ROOT } from '../paths.js';

/**
 * The DynamoDB actions the app's data layer calls (app/data/), and nothing else: no Scan, no
 * table management, no wildcard.
 */
export const APP_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  'dynamodb:ConditionCheckItem',
] as const;

/** On an index the app only ever queries. */
export const APP_INDEX_ACTIONS = ['dynamodb:Query'] as const;

export const APP_PORT = 8080;
export const HEALTH_CHECK_PATH = '/health';

export interface ServiceStackProps extends StackProps {
  readonly tableName: string;
  readonly tableArn: string;
  readonly indexNames: readonly string[];
  /** Default '1 vCPU'. */
  readonly cpu?: string;
  /** Default '2 GB'. */
  readonly memory?: string;
}

/** The shop app on App Runner, from the repository's Dockerfile. */
export class ServiceStack extends Stack {
  readonly service: apprunner.CfnService;
  readonly image: ecrAssets.DockerImageAsset;
  readonly authSecret: secretsmanager.Secret;
  readonly instanceRole: iam.Role;
  /** https://<service host>, no trailing slash. */
  readonly appUrl: string;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);

    this.image = new ecrAssets.DockerImageAsset(this, 'AppImage', {
      directory: REPO_ROOT,
      file: 'Dockerfile',
      platform: ecrAssets.Platform.LINUX_AMD64,
      // app/main.ts imports app/ and `dynamo-loadtest/instrument` (instrument/, through package.json's
      // "exports"), nothing else of the repository.
      exclude: onlyInContext('app', 'instrument', 'package.json', 'package-lock.json', 'tsconfig.json'),
    });

    // The HS256 key the app verifies tokens with; the shop's data command (app/seed-main.ts) reads it
    // (the AuthSecretArn output) to sign the seeded users' tokens.
    this.authSecret = new secretsmanager.Secret(this, 'AuthSecret', {
      description: 'HS256 signing key of the load-test app tokens (AUTH_SECRET)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    const accessRole = new iam.Role(this, 'EcrAccessRole', {
      assumedBy: new iam.ServicePrincipal('build.apprunner.amazonaws.com'),
      description: 'App Runner pulls the app image from the CDK assets repository',
    });
    this.image.repository.grantPull(accessRole);

    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('tasks.apprunner.amazonaws.com'),
      description: 'The running app: its table and indexes, and its auth secret',
    });
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({ actions: [...APP_TABLE_ACTIONS], resources: [props.tableArn] }),
    );
    if (props.indexNames.length > 0) {
      // Each index by name (from the app's key layout) rather than `index/*`: no wildcard resource.
      this.instanceRole.addToPolicy(
        new iam.PolicyStatement({
          actions: [...APP_INDEX_ACTIONS],
          resources: props.indexNames.map((name) => `${props.tableArn}/index/${name}`),
        }),
      );
    }
    this.authSecret.grantRead(this.instanceRole);

    this.service = new apprunner.CfnService(this, 'Service', {
      sourceConfiguration: {
        authenticationConfiguration: { accessRoleArn: accessRole.roleArn },
        // Deployments come from `cdk deploy` (a new image tag), not from pushes to the repository.
        autoDeploymentsEnabled: false,
        imageRepository: {
          imageIdentifier: this.image.imageUri,
          imageRepositoryType: 'ECR',
          imageConfiguration: {
            port: String(APP_PORT),
            runtimeEnvironmentVariables: [
              { name: 'TABLE_NAME', value: props.tableName },
              { name: 'AWS_REGION', value: this.region },
            ],
            runtimeEnvironmentSecrets: [{ name: 'AUTH_SECRET', value: this.authSecret.secretArn }],
          },
        },
      },
      instanceConfiguration: {
        cpu: props.cpu ?? '1 vCPU',
        memory: props.memory ?? '2 GB',
        instanceRoleArn: this.instanceRole.roleArn,
      },
      healthCheckConfiguration: {
        protocol: 'HTTP',
        path: HEALTH_CHECK_PATH,
        interval: 10,
        timeout: 5,
        healthyThreshold: 1,
        unhealthyThreshold: 5,
      },
    });
    // App Runner checks the roles when it creates the service: they must be complete first.
    this.service.node.addDependency(accessRole, this.instanceRole);

    this.appUrl = `https://${this.service.attrServiceUrl}`;
    new CfnOutput(this, 'AppUrl', { value: this.appUrl });
    new CfnOutput(this, 'AuthSecretArn', { value: this.authSecret.secretArn });

    Validations.of(accessRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); the pull actions are scoped to the CDK assets repository',
    });
    Validations.of(this.authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is the HS256 key of synthetic load-test identities only; an automatic rotation would invalidate the tokens of a run in progress and needs a rotation Lambda the app has no use for',
    });
  }
}
