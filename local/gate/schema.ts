/**
 * What the gate knows of a table, learned with DescribeTable (never from an app's code): its key
 * schema, its secondary indexes and the billing it was created with (the default capacity the gate
 * enforces when neither the project nor the scenario sets one).
 */
export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface IndexSchema extends KeySchema {
  readonly name: string;
  readonly kind: 'GSI' | 'LSI';
  /** ALL, KEYS_ONLY or INCLUDE: which attributes an index entry holds (its write size). */
  readonly projection?: string;
  /** INCLUDE: the non-key attributes projected. */
  readonly nonKeyAttributes?: readonly string[];
  readonly provisioned?: { read: number; write: number };
}

export interface TableSchema extends KeySchema {
  readonly name: string;
  readonly indexes: readonly IndexSchema[];
  /** DescribeTable's WarmThroughput, when it reports one: what an on-demand table takes at once. */
  readonly warm?: { readonly read: number; readonly write: number };
  readonly billing:
    | { readonly mode: 'on-demand'; readonly maxRead?: number; readonly maxWrite?: number }
    | { readonly mode: 'provisioned'; readonly read: number; readonly write: number };
}

interface KeyElement {
  AttributeName?: string;
  KeyType?: string;
}
interface Throughput {
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}
interface Projection {
  ProjectionType?: string;
  NonKeyAttributes?: string[];
}
interface OnDemand {
  MaxReadRequestUnits?: number;
  MaxWriteRequestUnits?: number;
}

/** DescribeTable's `Table` (the wire JSON, which is also the SDK's TableDescription). */
export interface TableDescriptionJson {
  TableName?: string;
  KeySchema?: KeyElement[];
  BillingModeSummary?: { BillingMode?: string };
  ProvisionedThroughput?: Throughput;
  OnDemandThroughput?: OnDemand;
  WarmThroughput?: { ReadUnitsPerSecond?: number; WriteUnitsPerSecond?: number };
  GlobalSecondaryIndexes?: {
    IndexName?: string;
    KeySchema?: KeyElement[];
    Projection?: Projection;
    ProvisionedThroughput?: Throughput;
  }[];
  LocalSecondaryIndexes?: { IndexName?: string; KeySchema?: KeyElement[]; Projection?: Projection }[];
}

function keys(schema: KeyElement[] | undefined): KeySchema {
  const hash = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  if (!hash) throw new Error('a key schema without a HASH key');
  return range ? { partitionKey: hash, sortKey: range } : { partitionKey: hash };
}

function projection(p: Projection | undefined): Pick<IndexSchema, 'projection' | 'nonKeyAttributes'> {
  if (!p?.ProjectionType) return {};
  return {
    projection: p.ProjectionType,
    ...(p.ProjectionType === 'INCLUDE' ? { nonKeyAttributes: p.NonKeyAttributes ?? [] } : {}),
  };
}

const positive = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);

/** The gate's view of a DescribeTable answer. */
export function schemaFromDescription(table: TableDescriptionJson): TableSchema {
  const name = table.TableName;
  if (!name) throw new Error('DescribeTable answered a table without a name');
  const read = positive(table.ProvisionedThroughput?.ReadCapacityUnits);
  const write = positive(table.ProvisionedThroughput?.WriteCapacityUnits);
  // DynamoDB Local reports 0/0 throughput for on-demand tables, and sometimes no BillingModeSummary.
  const onDemand = table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' || !read || !write;
  const maxRead = positive(table.OnDemandThroughput?.MaxReadRequestUnits);
  const maxWrite = positive(table.OnDemandThroughput?.MaxWriteRequestUnits);
  const indexes: IndexSchema[] = [
    ...(table.GlobalSecondaryIndexes ?? []).map((g): IndexSchema => {
      const r = positive(g.ProvisionedThroughput?.ReadCapacityUnits);
      const w = positive(g.ProvisionedThroughput?.WriteCapacityUnits);
      return {
        name: g.IndexName ?? '',
        kind: 'GSI',
        ...keys(g.KeySchema),
        ...projection(g.Projection),
        ...(!onDemand && r && w ? { provisioned: { read: r, write: w } } : {}),
      };
    }),
    ...(table.LocalSecondaryIndexes ?? []).map(
      (l): IndexSchema => ({
        name: l.IndexName ?? '',
        kind: 'LSI',
        ...keys(l.KeySchema),
        ...projection(l.Projection),
      }),
    ),
  ];
  const warmRead = positive(table.WarmThroughput?.ReadUnitsPerSecond);
  const warmWrite = positive(table.WarmThroughput?.WriteUnitsPerSecond);
  return {
    name,
    ...keys(table.KeySchema),
    indexes,
    ...(warmRead && warmWrite ? { warm: { read: warmRead, write: warmWrite } } : {}),
    billing:
      onDemand || !read || !write
        ? {
            mode: 'on-demand',
            ...(maxRead !== undefined ? { maxRead } : {}),
            ...(maxWrite !== undefined ? { maxWrite } : {}),
          }
        : { mode: 'provisioned', read, write },
  };
}

/** The key attributes of the table itself or of one of its indexes. */
export function keysOf(schema: TableSchema, index: string | undefined): KeySchema | undefined {
  if (index === undefined) return schema;
  return schema.indexes.find((i) => i.name === index);
}
