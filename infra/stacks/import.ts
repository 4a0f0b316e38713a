import { join } from 'node:path';
import {
  Annotations,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { BATCH_WRITES_IN_FLIGHT } from '../../runner/data/index.js';
import { REPO_ROOT } from '../paths.js';

/** Defaults of the distributed import: `-c importConcurrency=N -c importBatchSize=N`. */
export const DEFAULT_IMPORT = { concurrency: 20, batchSize: 200 } as const;

/** Step Functions passes at most 256 KB to a task: the rows of one batch stay under it. */
const MAX_BATCH_BYTES = 240 * 1024;

export interface ImportStackProps extends StackProps {
  readonly tableName: string;
  readonly tableArn: string;
  /** The Lambda entry: a file exporting `handler` built with runner/data's importBatchHandler and the project's mapping. */
  readonly entry: string;
  /** Child workflows (Lambda batches) at once; Step Functions allows up to 10,000. */
  readonly concurrency?: number;
  /** Rows per batch (per Lambda invocation). */
  readonly batchSize?: number;
}

/**
 * The guide's custom migration script, at scale: dump files go to an S3 bucket; a state machine's
 * Distributed Map reads one (JSON lines or CSV, chosen by the execution's `format`), batches its rows
 * and invokes a Lambda that runs the same mapping and BatchWriteItem code as `loadtest import`
 * (runner/data importRows). Rejects go back to the bucket; a last step sums the batches' results.
 *
 * Start an execution with `{"key": "dumps/products.jsonl", "entity": "product", "format": "jsonl"}`.
 */
export class ImportStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly fn: nodejs.NodejsFunction;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ImportStackProps) {
    super(scope, id, props);
    // ResultWriterV2 (the non-deprecated writer) renders only under its feature flag.
    this.node.setContext('@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2', true);
    const concurrency = props.concurrency ?? DEFAULT_IMPORT.concurrency;
    const batchSize = props.batchSize ?? DEFAULT_IMPORT.batchSize;

    this.bucket = new s3.Bucket(this, 'DumpBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
      lifecycleRules: [{ prefix: 'results/', expiration: Duration.days(30) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'A staging bucket for one migration: only this stack reads and writes it (the dump, rejects and results); CloudTrail data events can be turned on for an audited migration',
    });

    const logGroup = new logs.LogGroup(this, 'ImportBatchLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ImportBatchRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Import batches: BatchWriteItem on the table, rejects and summaries to the bucket, its own logs',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:BatchWriteItem'], resources: [props.tableArn] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('rejects/*'), this.bucket.arnForObjects('summaries/*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('results/*')],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<DumpBucket62B00D03.Arn>/rejects/*]',
      reason:
        'Each batch writes its rejects under rejects/<execution>/, a key known only at run time: the prefix is the narrowest resource',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<DumpBucket62B00D03.Arn>/summaries/*]',
      reason:
        'The summary of each execution is written as summaries/<execution>.json, named at run time: the prefix is the narrowest resource',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<DumpBucket62B00D03.Arn>/results/*]',
      reason:
        "The summary reads the map's result files, which Step Functions names under results/<map run id>/: the prefix is the narrowest resource",
    });

    this.fn = new nodejs.NodejsFunction(this, 'ImportBatch', {
      description: "Distributed import: one batch of rows through the project's mapping into the table",
      entry: props.entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      role,
      logGroup,
      environment: { TABLE_NAME: props.tableName, BUCKET: this.bucket.bucketName },
      bundling: { format: nodejs.OutputFormat.ESM, minify: true, sourceMap: false },
    });

    const batchTask = (id: string) =>
      new tasks.LambdaInvoke(this, id, { lambdaFunction: this.fn, payloadResponseOnly: true }).addRetry({
        // The writes of a batch are idempotent puts: a batch that ran out of write capacity
        // (ImportWriteFailed after DynamoSink's own backoff) is run again, later.
        errors: ['ImportWriteFailed', 'Lambda.TooManyRequestsException', 'States.Timeout'],
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 4,
        jitterStrategy: sfn.JitterType.FULL,
      });
    const map = (id: string, format: 'jsonl' | 'csv') => {
      const reader =
        format === 'jsonl'
          ? new sfn.S3JsonLItemReader({ bucket: this.bucket, key: sfn.JsonPath.stringAt('$.key') })
          : new sfn.S3CsvItemReader({
              bucket: this.bucket,
              key: sfn.JsonPath.stringAt('$.key'),
              csvHeaders: sfn.CsvHeaders.useFirstRow(),
            });
      return new sfn.DistributedMap(this, id, {
        itemReader: reader,
        itemSelector: { 'row.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        itemBatcher: new sfn.ItemBatcher({
          maxItemsPerBatch: batchSize,
          // A Lambda's input is at most 256 KB: a batch of long rows is cut before it.
          maxInputBytesPerBatch: MAX_BATCH_BYTES,
          batchInput: {
            'entity.$': '$.entity',
            'key.$': '$.key',
            format,
            'rejectsPrefix.$': "States.Format('rejects/{}/', $$.Execution.Name)",
            'params.$': '$.params',
          },
        }),
        maxConcurrency: concurrency,
        resultWriterV2: new sfn.ResultWriterV2({ bucket: this.bucket, prefix: 'results' }),
        resultPath: '$.map',
      }).itemProcessor(batchTask(`${id}Batch`));
    };
    const summarize = new tasks.LambdaInvoke(this, 'Summarize', {
      lambdaFunction: this.fn,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        summarize: {
          'manifestKey.$': '$.map.ResultWriterDetails.Key',
          'summaryKey.$': "States.Format('summaries/{}.json', $$.Execution.Name)",
        },
      }),
    });
    // An execution input without params gets {}: every batch's BatchInput has them.
    const noParams = new sfn.Pass(this, 'NoParams', {
      result: sfn.Result.fromObject({}),
      resultPath: '$.params',
    });
    const choose = new sfn.Choice(this, 'Format')
      .when(sfn.Condition.stringEquals('$.format', 'jsonl'), map('ImportJsonLines', 'jsonl').next(summarize))
      .when(sfn.Condition.stringEquals('$.format', 'csv'), map('ImportCsv', 'csv').next(summarize))
      .otherwise(
        new sfn.Fail(this, 'UnknownFormat', { error: 'UnknownFormat', cause: 'format must be jsonl or csv' }),
      );

    const smLogs = new logs.LogGroup(this, 'ImportStateMachineLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Import', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Choice(this, 'Params')
          .when(sfn.Condition.isNotPresent('$.params'), noParams.next(choose))
          .otherwise(choose),
      ),
      tracingEnabled: true,
      logs: { destination: smLogs, level: sfn.LogLevel.ALL },
    });

    const acknowledge = (id: string, reason: string) =>
      Validations.of(this.stateMachine).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<DumpBucket62B00D03>/*]',
      "The map's item reader reads the dump file named by the execution's input (any key of this stack's own bucket), and its result writer writes under results/",
    );
    acknowledge(
      'AwsSolutions-IAM5[Resource::<ImportBatchE1863912.Arn>:*]',
      "CDK's LambdaInvoke grants the function and its versions (ARN:*) so an alias or version can be invoked; it is this stack's one function",
    );
    acknowledge(
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (PutTraceSegments, PutTelemetryRecords) and CloudWatch Logs delivery for the state machine have no resource-level permissions',
    );
    // cdk-nag names these resources with the stack's region when it is known at synth time.
    const region = Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region;
    const executions = `arn:<AWS::Partition>:states:${region}:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"Import98530AF4"}]}]}`;
    acknowledge(
      `AwsSolutions-IAM5[Resource::${executions}:*]`,
      "A Distributed Map starts child executions of this state machine (named at run time): the policy is limited to this state machine's executions",
    );
    acknowledge(
      `AwsSolutions-IAM5[Resource::${executions}/*:*]`,
      "The Distributed Map's child executions (named at run time) of this state machine only: Step Functions needs to describe and stop them",
    );

    // What the import will ask of the table, before any run: at most `concurrency` batches at once,
    // each with BATCH_WRITES_IN_FLIGHT BatchWriteItem calls of 25 items.
    const peakItems = concurrency * BATCH_WRITES_IN_FLIGHT * 25;
    const capacity = `up to ${concurrency} batches of ${batchSize} rows at once, ${peakItems} item writes in flight: one write capacity unit per KB of each item, so at ~10 ms a BatchWriteItem call up to ${peakItems * 100} WCU/s for items up to 1 KB; an on-demand table takes it (within its account limit), a provisioned one throttles and the batches back off; 'loadtest import FILE --dry-run' counts the exact WCU of a dump`;
    Annotations.of(this).addInfo(`distributed import: ${capacity}`);
    new CfnOutput(this, 'ImportBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'ImportStateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ImportWriteCapacity', { value: capacity });
  }
}
