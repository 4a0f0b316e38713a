import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
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

/**
 * How the email digest batches: a batch closes at this many notifications or after this long. The
 * size keeps a batch's messages (about 300 bytes each) far under the 6 MB an enrichment can take.
 */
export const DIGEST_BATCH = { size: 1000, windowSeconds: 60 } as const;

export interface EmailDigest {
  readonly queue: sqs.Queue;
  /** The order topic's subscription of the queue, with the big-order filter policy. */
  readonly queueSubscription: sns.CfnSubscription;
  readonly topic: sns.Topic;
  readonly enrichment: nodejs.NodejsFunction;
  readonly pipe: pipes.CfnPipe;
  /** The email subscription, on the digest topic. */
  readonly subscription: sns.CfnSubscription;
}

export interface EventsStackProps extends StackProps {
  readonly tableStreamArn: string;
  /**
   * The address that gets big orders by email, in digests (`emailDigest`); without one (the default)
   * the topic is created with no subscription.
   */
  readonly notificationEmail?: string;
}

/**
 * The guide's event flow: table stream -> EventBridge Pipe (only orders changing from CURRENT to
 * COMPLETED) -> SNS topic -> a subscription that takes only big orders (here: a queue batched into
 * email digests, see `emailDigest`). Both filters are the objects in app/events.ts, the ones
 * `loadtest events` evaluates locally.
 */
export class EventsStack extends Stack {
  readonly topic: sns.Topic;
  readonly pipe: pipes.CfnPipe;
  readonly enrichment: nodejs.NodejsFunction;
  /** With an email address: the digest path that mails it (see `emailDigest`). */
  readonly digest: EmailDigest | undefined;

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    super(scope, id, props);

    this.topic = new sns.Topic(this, 'OrderCompletedTopic', {
      displayName: 'dynamo-loadtest: order completed',
      enforceSSL: true,
    });

    this.enrichment = this.enrichmentFunction(
      'OrderNotification',
      'order-notification.ts',
      'dynamo-loadtest: stream record -> order notification (app/events.ts orderNotification)',
    );

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
      this.digest = this.emailDigest(props.notificationEmail);
    }

    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
  }

  /** A Pipe enrichment: a small bundled Lambda that may only write its own logs. */
  private enrichmentFunction(id: string, file: string, description: string): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id} enrichment: writes its own logs, nothing else`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    return new nodejs.NodejsFunction(this, id, {
      description,
      entry: join(REPO_ROOT, 'infra/functions', file),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      timeout: Duration.seconds(10),
      role,
      logGroup,
      bundling: { format: nodejs.OutputFormat.ESM, minify: true, sourceMap: false },
    });
  }

  /**
   * SNS suspends an email subscription that is sent more than 10 messages a second, and a load run
   * can complete more big orders than that. So the address is not subscribed to the order topic:
   * a queue is, with the big-order filter policy (the very policy `loadtest events` checks), and a
   * second Pipe reads that queue in batches (up to DIGEST_BATCH.size notifications or
   * DIGEST_BATCH.windowSeconds) and turns each batch into ONE digest message on a topic the address
   * is subscribed to: one email per batch, whatever the order rate.
   */
  private emailDigest(email: string): EmailDigest {
    const deadLetters = new sqs.Queue(this, 'EmailDigestDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, 'EmailDigestQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longer than a batch can take to collect and enrich, so a batch in flight is not redelivered.
      visibilityTimeout: Duration.seconds(DIGEST_BATCH.windowSeconds * 2),
      // A batch whose digest keeps failing is set aside instead of being retried forever.
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
    });
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.topic.topicArn } },
      }),
    );
    const queueSubscription = new sns.CfnSubscription(this, 'BigOrderQueue', {
      topicArn: this.topic.topicArn,
      protocol: 'sqs',
      endpoint: queue.queueArn,
      // The queue gets the order notification itself, as the topic got it.
      rawMessageDelivery: true,
      filterPolicyScope: 'MessageBody',
      filterPolicy: BIG_ORDER_FILTER_POLICY,
    });
    // SNS may deliver only once the queue policy lets it.
    queueSubscription.node.addDependency(queue);

    const topic = new sns.Topic(this, 'BigOrderDigestTopic', {
      displayName: 'dynamo-loadtest: big orders (digest)',
      enforceSSL: true,
    });
    const enrichment = this.enrichmentFunction(
      'EmailDigest',
      'email-digest.ts',
      'dynamo-loadtest: a batch of big-order notifications -> one digest message',
    );
    const role = new iam.Role(this, 'EmailDigestPipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com'),
      description:
        'Email digest pipe: reads its queue, calls the digest enrichment, publishes to the digest topic',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        resources: [queue.queueArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [enrichment.functionArn] }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
    const pipe = new pipes.CfnPipe(this, 'EmailDigestPipe', {
      description: 'Big-order notifications, batched -> one digest message per batch -> email',
      roleArn: role.roleArn,
      source: queue.queueArn,
      sourceParameters: {
        sqsQueueParameters: {
          batchSize: DIGEST_BATCH.size,
          maximumBatchingWindowInSeconds: DIGEST_BATCH.windowSeconds,
        },
      },
      enrichment: enrichment.functionArn,
      target: topic.topicArn,
    });
    pipe.node.addDependency(role);

    const subscription = new sns.CfnSubscription(this, 'BigOrderEmail', {
      topicArn: topic.topicArn,
      protocol: 'email',
      endpoint: email,
    });
    return { queue, queueSubscription, topic, enrichment, pipe, subscription };
  }
}
