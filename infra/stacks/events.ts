import { join } from 'node:path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { BIG_ORDER_FILTER_POLICY, ORDER_COMPLETED_PIPE_FILTER } from '../../app/index.js';
import { REPO_ROOT } from '../paths.js';

/** What the Pipe reads from the table's stream (EventBridge Pipes' documented source permissions). */
export const STREAM_READ_ACTIONS = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
] as const;

export const EMAIL_RATE_WARNING_ID = 'dynamo-loadtest:email-rate';

export interface EventsStackProps extends StackProps {
  readonly tableStreamArn: string;
  /**
   * The email subscription's address; without one (the default) the topic is created with no
   * subscription. Opt-in because SNS suspends an email subscription sent more than 10 messages/s.
   */
  readonly notificationEmail?: string;
}

/**
 * The guide's event flow: table stream -> EventBridge Pipe (only orders changing from CURRENT to
 * COMPLETED) -> SNS topic -> an email subscription that takes only big orders. Both filters are
 * the objects in app/events.ts, the ones `loadtest events` evaluates locally.
 */
export class EventsStack extends Stack {
  readonly topic: sns.Topic;
  readonly pipe: pipes.CfnPipe;
  readonly enrichment: nodejs.NodejsFunction;
  readonly subscription: sns.CfnSubscription | undefined;

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    super(scope, id, props);

    this.topic = new sns.Topic(this, 'OrderCompletedTopic', {
      displayName: 'dynamo-loadtest: order completed',
      enforceSSL: true,
    });

    const enrichmentLogs = new logs.LogGroup(this, 'OrderNotificationLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const enrichmentRole = new iam.Role(this, 'OrderNotificationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Order notification enrichment: writes its own logs, nothing else',
    });
    enrichmentRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [enrichmentLogs.logGroupArn],
      }),
    );
    this.enrichment = new nodejs.NodejsFunction(this, 'OrderNotification', {
      description: 'dynamo-loadtest: stream record -> order notification (app/events.ts orderNotification)',
      entry: join(REPO_ROOT, 'infra/functions/order-notification.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      timeout: Duration.seconds(10),
      role: enrichmentRole,
      logGroup: enrichmentLogs,
      bundling: { format: nodejs.OutputFormat.ESM, minify: true, sourceMap: false },
    });

    const pipeRole = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com'),
      description:
        'Order-completed pipe: reads the table stream, calls the enrichment, publishes to the topic',
    });
    pipeRole.addToPolicy(
      new iam.PolicyStatement({ actions: [...STREAM_READ_ACTIONS], resources: [props.tableStreamArn] }),
    );
    pipeRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.enrichment.functionArn],
      }),
    );
    pipeRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );

    this.pipe = new pipes.CfnPipe(this, 'OrderCompletedPipe', {
      description: 'Orders changing from CURRENT to COMPLETED -> order notification -> SNS',
      roleArn: pipeRole.roleArn,
      source: props.tableStreamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'LATEST',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 1,
          // A record that keeps failing is dropped after a few tries instead of blocking its shard
          // for the stream's 24 hours.
          maximumRetryAttempts: 3,
        },
        filterCriteria: { filters: [{ pattern: JSON.stringify(ORDER_COMPLETED_PIPE_FILTER) }] },
      },
      enrichment: this.enrichment.functionArn,
      target: this.topic.topicArn,
    });
    // The role's policy must exist before the Pipe starts polling, or its first calls are denied.
    this.pipe.node.addDependency(pipeRole);

    if (props.notificationEmail) {
      this.subscription = new sns.CfnSubscription(this, 'BigOrderEmail', {
        topicArn: this.topic.topicArn,
        protocol: 'email',
        endpoint: props.notificationEmail,
        filterPolicyScope: 'MessageBody',
        filterPolicy: BIG_ORDER_FILTER_POLICY,
      });
      // SNS suspends an email subscription that is sent more than 10 messages a second, and a load
      // run's checkouts can do that easily: said at every synth, so nobody subscribes by accident.
      Annotations.of(this.subscription).addWarningV2(
        EMAIL_RATE_WARNING_ID,
        `email subscription ${props.notificationEmail}: SNS suspends email deliveries above 10 messages/s; a load run with checkouts of ${BIG_ORDER_FILTER_POLICY.total[0].numeric[1]} or more can exceed that. Deploy without -c notificationEmail for load runs (the topic still receives every notification), or subscribe only for smoke runs`,
      );
    }

    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
  }
}
