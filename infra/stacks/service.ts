import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apprunner from 'aws-cdk-lib/aws-apprunner';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { EMF_NAMESPACE } from '../../instrument/index.js';
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

/**
 * `ecs` (ECS Express Mode) is the default: App Runner is closed to new customers since 2026-04-30, so
 * only accounts that used it before can still create a service there (`-c host=apprunner`).
 */
export const APP_HOSTS = ['ecs', 'apprunner'] as const;
export type AppHost = (typeof APP_HOSTS)[number];

/** The AWS managed policy ECS Express Mode's infrastructure role needs (ALB, certificate, scaling...). */
export const EXPRESS_INFRASTRUCTURE_POLICY =
  'service-role/AmazonECSInfrastructureRoleforExpressGatewayServices';

/** Express Mode scales the service between these task counts on CPU (a load test should see it scale). */
export const ECS_SCALING = { minTaskCount: 1, maxTaskCount: 10, metric: 'AVERAGE_CPU', target: 60 } as const;

export interface ServiceStackProps extends StackProps {
  readonly tableName: string;
  readonly tableArn: string;
  readonly indexNames: readonly string[];
  /** Default 'ecs'. */
  readonly host?: AppHost;
  /** Default '1 vCPU'. */
  readonly cpu?: string;
  /** Default '2 GB'. */
  readonly memory?: string;
}

/** '1 vCPU' -> '1024' CPU units, '2 GB' -> '2048' MiB: how ECS spells App Runner's sizes. */
function ecsCpu(cpu: string): string {
  return String(Math.round(Number.parseFloat(cpu) * 1024));
}
function ecsMemory(memory: string): string {
  return String(Math.round(Number.parseFloat(memory) * 1024));
}

/** The shop app on ECS Express Mode (default) or App Runner, from the repository's Dockerfile. */
export class ServiceStack extends Stack {
  readonly host: AppHost;
  /** The App Runner service, with `host: 'apprunner'`. */
  readonly service: apprunner.CfnService | undefined;
  /** The Express Mode service, with `host: 'ecs'`. */
  readonly expressService: ecs.CfnExpressGatewayService | undefined;
  readonly image: ecrAssets.DockerImageAsset;
  readonly authSecret: secretsmanager.Secret;
  /** What the running app is (App Runner's instance role, ECS's task role): its table and indexes. */
  readonly appRole: iam.Role;
  /** https://<service host> on App Runner; on ECS, the Express service's endpoint (the CLI adds https://). */
  readonly appUrl: string;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);

    this.host = props.host ?? 'ecs';
    this.image = new ecrAssets.DockerImageAsset(this, 'AppImage', {
      directory: REPO_ROOT,
      file: 'Dockerfile',
      // x86_64 on both hosts: App Runner runs nothing else, and an Express service has no runtime
      // platform setting (its tasks are Linux/x86_64 Fargate tasks).
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
    Validations.of(this.authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is the HS256 key of synthetic load-test identities only; an automatic rotation would invalidate the tokens of a run in progress and needs a rotation Lambda the app has no use for',
    });

    const ecsHost = this.host === 'ecs';
    this.appRole = new iam.Role(this, ecsHost ? 'TaskRole' : 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal(
        ecsHost ? 'ecs-tasks.amazonaws.com' : 'tasks.apprunner.amazonaws.com',
      ),
      description: ecsHost
        ? 'The running app: its table and indexes (ECS injects the auth secret with the execution role)'
        : 'The running app: its table and indexes, and its auth secret',
    });
    this.appRole.addToPolicy(
      new iam.PolicyStatement({ actions: [...APP_TABLE_ACTIONS], resources: [props.tableArn] }),
    );
    // The app's per-pattern metrics: EMF lines on stdout become metrics only on Lambda, so on both
    // hosts the app sends them with PutMetricData (EMF_SINK=cloudwatch), to its own namespace only.
    this.appRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': EMF_NAMESPACE } },
      }),
    );
    Validations.of(this.appRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions (it must be "*"); the cloudwatch:namespace condition limits it to the app metrics namespace',
    });
    if (props.indexNames.length > 0) {
      // Each index by name (from the app's key layout) rather than `index/*`: no wildcard resource.
      this.appRole.addToPolicy(
        new iam.PolicyStatement({
          actions: [...APP_INDEX_ACTIONS],
          resources: props.indexNames.map((name) => `${props.tableArn}/index/${name}`),
        }),
      );
    }

    const cpu = props.cpu ?? '1 vCPU';
    const memory = props.memory ?? '2 GB';
    if (ecsHost) {
      this.service = undefined;
      this.expressService = this.express(props, cpu, memory);
      this.appUrl = this.expressService.attrEndpoint;
    } else {
      this.expressService = undefined;
      this.service = this.appRunner(props, cpu, memory);
      this.appUrl = `https://${this.service.attrServiceUrl}`;
    }
    new CfnOutput(this, 'AppUrl', { value: this.appUrl });
    new CfnOutput(this, 'AuthSecretArn', { value: this.authSecret.secretArn });
  }

  /**
   * ECS Express Mode: ECS creates the Fargate service, an HTTPS load balancer with its certificate,
   * security groups, scaling and a deployment alarm, in the account's default VPC and `default`
   * cluster, with the infrastructure role. Secrets are injected by the execution role, so the task
   * role (the app) never reads the secret itself.
   */
  private express(props: ServiceStackProps, cpu: string, memory: string): ecs.CfnExpressGatewayService {
    const logGroup = new logs.LogGroup(this, 'AppLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Not the AmazonECSTaskExecutionRolePolicy managed policy (any repository, any log group): this
    // image's repository, this log group, this secret.
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'ECS starts the app: pulls its image, writes its logs, injects AUTH_SECRET',
    });
    this.image.repository.grantPull(executionRole);
    executionRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.authSecret.grantRead(executionRole);

    const infrastructureRole = new iam.Role(this, 'InfrastructureRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description:
        'ECS Express Mode creates and manages the load balancer, certificate, security groups and scaling',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(EXPRESS_INFRASTRUCTURE_POLICY)],
    });

    const service = new ecs.CfnExpressGatewayService(this, 'ExpressService', {
      executionRoleArn: executionRole.roleArn,
      infrastructureRoleArn: infrastructureRole.roleArn,
      taskRoleArn: this.appRole.roleArn,
      cpu: ecsCpu(cpu),
      memory: ecsMemory(memory),
      healthCheckPath: HEALTH_CHECK_PATH,
      primaryContainer: {
        image: this.image.imageUri,
        containerPort: APP_PORT,
        environment: [
          { name: 'TABLE_NAME', value: props.tableName },
          { name: 'AWS_REGION', value: this.region },
          { name: 'EMF_SINK', value: 'cloudwatch' },
        ],
        secrets: [{ name: 'AUTH_SECRET', valueFrom: this.authSecret.secretArn }],
        awsLogsConfiguration: { logGroup: logGroup.logGroupName, logStreamPrefix: 'app' },
      },
      scalingTarget: {
        minTaskCount: ECS_SCALING.minTaskCount,
        maxTaskCount: ECS_SCALING.maxTaskCount,
        autoScalingMetric: ECS_SCALING.metric,
        autoScalingTargetValue: ECS_SCALING.target,
      },
    });
    // ECS checks the roles when it creates the service, and the first task needs the execution
    // role's policy to pull the image: all of them complete first.
    service.node.addDependency(executionRole, infrastructureRole, this.appRole);

    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); the pull actions are scoped to the CDK assets repository',
    });
    Validations.of(infrastructureRole).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${EXPRESS_INFRASTRUCTURE_POLICY}]`,
      reason:
        'ECS Express Mode documents this managed policy for its infrastructure role; the resources it creates (load balancer, target groups, certificate, scaling policies) have names ECS picks, so no narrower policy can be written ahead',
    });
    return service;
  }

  /** App Runner, for accounts that had it before it closed to new customers (2026-04-30). */
  private appRunner(props: ServiceStackProps, cpu: string, memory: string): apprunner.CfnService {
    const accessRole = new iam.Role(this, 'EcrAccessRole', {
      assumedBy: new iam.ServicePrincipal('build.apprunner.amazonaws.com'),
      description: 'App Runner pulls the app image from the CDK assets repository',
    });
    this.image.repository.grantPull(accessRole);
    // App Runner reads runtimeEnvironmentSecrets with the instance role.
    this.authSecret.grantRead(this.appRole);

    const service = new apprunner.CfnService(this, 'Service', {
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
              { name: 'EMF_SINK', value: 'cloudwatch' },
            ],
            runtimeEnvironmentSecrets: [{ name: 'AUTH_SECRET', value: this.authSecret.secretArn }],
          },
        },
      },
      instanceConfiguration: { cpu, memory, instanceRoleArn: this.appRole.roleArn },
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
    service.node.addDependency(accessRole, this.appRole);

    Validations.of(accessRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); the pull actions are scoped to the CDK assets repository',
    });
    return service;
  }
}
