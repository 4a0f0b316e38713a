import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import {
  type BillingOptions,
  createTableInput,
  DEFAULT_BILLING,
  type TableDefinition,
  tableDefinition,
} from '../../app/index.js';

export interface DataStackProps extends StackProps {
  /** Default: the app's own default (`DEFAULT_BILLING`, on-demand). */
  readonly billing?: BillingOptions;
  /** Default: DESTROY, a load-test table holds synthetic data. */
  readonly removalPolicy?: RemovalPolicy;
  /** Default: the app's key layout. */
  readonly definition?: TableDefinition;
  /**
   * CloudWatch Contributor Insights on the table and every GSI: the most accessed and throttled
   * partition keys, AWS's counterpart of the gate's hot-key list. Default 'accessed-and-throttled';
   * 'throttled' only logs throttled keys (fewer events billed); 'off' none.
   */
  readonly contributorInsights?: ContributorInsights;
}

export const CONTRIBUTOR_INSIGHTS = ['accessed-and-throttled', 'throttled', 'off'] as const;
export type ContributorInsights = (typeof CONTRIBUTOR_INSIGHTS)[number];

type Schema = ReturnType<typeof createTableInput>;

function attribute(schema: Schema, name: string | undefined): dynamodb.Attribute {
  const def = schema.AttributeDefinitions?.find((a) => a.AttributeName === name);
  if (!name || !def) throw new Error(`key attribute ${name} has no definition`);
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER }[
    def.AttributeType as 'S' | 'N'
  ];
  if (!type) throw new Error(`key attribute ${name} has unsupported type ${def.AttributeType}`);
  return { name, type };
}

function keyOf(schema: Schema, keySchema: Schema['KeySchema'], kind: 'HASH' | 'RANGE') {
  return attribute(schema, keySchema?.find((k) => k.KeyType === kind)?.AttributeName);
}

/**
 * The shop's single table. Keys, GSIs, projections, capacities and the stream all come from
 * `createTableInput`, the very function that creates the table on DynamoDB Local, so the emulator
 * and AWS cannot drift apart.
 */
export class DataStack extends Stack {
  readonly table: dynamodb.Table;
  readonly indexNames: readonly string[];

  constructor(scope: Construct, id: string, props: DataStackProps = {}) {
    super(scope, id, props);
    const billing = props.billing ?? DEFAULT_BILLING;
    const schema = createTableInput('unused', billing, props.definition ?? tableDefinition);
    if (schema.StreamSpecification?.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
      throw new Error('the events flow needs the table stream with NEW_AND_OLD_IMAGES');
    }
    const provisioned = schema.BillingMode === 'PROVISIONED';

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: keyOf(schema, schema.KeySchema, 'HASH'),
      sortKey: keyOf(schema, schema.KeySchema, 'RANGE'),
      billingMode: provisioned ? dynamodb.BillingMode.PROVISIONED : dynamodb.BillingMode.PAY_PER_REQUEST,
      ...(provisioned
        ? {
            readCapacity: schema.ProvisionedThroughput?.ReadCapacityUnits,
            writeCapacity: schema.ProvisionedThroughput?.WriteCapacityUnits,
          }
        : {}),
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    const insights = props.contributorInsights ?? 'accessed-and-throttled';
    const insightsSpec =
      insights === 'off'
        ? undefined
        : {
            Enabled: true,
            Mode:
              insights === 'throttled'
                ? dynamodb.ContributorInsightsMode.THROTTLED_KEYS
                : dynamodb.ContributorInsightsMode.ACCESSED_AND_THROTTLED_KEYS,
          };
    const cfnTable = this.table.node.defaultChild as dynamodb.CfnTable;
    if (insightsSpec) cfnTable.addPropertyOverride('ContributorInsightsSpecification', insightsSpec);

    const names: string[] = [];
    for (const gsi of schema.GlobalSecondaryIndexes ?? []) {
      if (!gsi.IndexName) throw new Error('a GSI has no name');
      if (gsi.Projection?.ProjectionType !== 'ALL') {
        throw new Error(`${gsi.IndexName}: only ALL projections are mapped`);
      }
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        partitionKey: keyOf(schema, gsi.KeySchema, 'HASH'),
        sortKey: keyOf(schema, gsi.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType.ALL,
        ...(gsi.ProvisionedThroughput
          ? {
              readCapacity: gsi.ProvisionedThroughput.ReadCapacityUnits,
              writeCapacity: gsi.ProvisionedThroughput.WriteCapacityUnits,
            }
          : {}),
      });
      // The L2 index props have no Contributor Insights setting; the CloudFormation property does.
      if (insightsSpec) {
        cfnTable.addPropertyOverride(
          `GlobalSecondaryIndexes.${names.length}.ContributorInsightsSpecification`,
          insightsSpec,
        );
      }
      names.push(gsi.IndexName);
    }
    this.indexNames = names;

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'TableArn', { value: this.table.tableArn });
  }
}
