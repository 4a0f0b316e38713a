import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single-table layout, defined once. The local table creation (below) and the CDK stack both
 * derive from this object, so a key or index cannot drift between the emulator and AWS.
 */
export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly indexes: readonly IndexDefinition[];
}

export const DEFAULT_TABLE_NAME = 'shop';

export const tableDefinition = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  indexes: [
    { name: 'GSI1', partitionKey: { name: 'GSI1PK', type: 'S' }, sortKey: { name: 'GSI1SK', type: 'S' } },
    // Sort by price: a number, so BETWEEN compares numerically.
    { name: 'GSI2', partitionKey: { name: 'GSI2PK', type: 'S' }, sortKey: { name: 'GSI2SK', type: 'N' } },
    { name: 'GSI3', partitionKey: { name: 'GSI3PK', type: 'S' }, sortKey: { name: 'GSI3SK', type: 'S' } },
  ],
} as const satisfies TableDefinition;

export type IndexName = (typeof tableDefinition.indexes)[number]['name'];

export interface Capacity {
  readonly read: number;
  readonly write: number;
}

export type BillingOptions =
  | { readonly mode: 'on-demand' }
  | {
      readonly mode: 'provisioned';
      readonly table: Capacity;
      readonly indexes?: Partial<Record<IndexName, Capacity>>;
    };

/**
 * The billing the table is created with unless told otherwise: locally (and what the capacity gate
 * enforces when a scenario says nothing) and, later, in the CDK stack.
 */
export const DEFAULT_BILLING: BillingOptions = { mode: 'on-demand' };

/** Every attribute that appears in a key of the table or of an index, once. */
export function keyAttributes(def: TableDefinition = tableDefinition): KeyAttribute[] {
  const all = [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  const seen = new Map<string, KeyAttribute>();
  for (const a of all) seen.set(a.name, a);
  return [...seen.values()];
}

export function createTableInput(
  tableName: string,
  billing: BillingOptions = { mode: 'on-demand' },
  def: TableDefinition = tableDefinition,
): CreateTableCommandInput {
  const throughput = (c: Capacity) => ({ ReadCapacityUnits: c.read, WriteCapacityUnits: c.write });
  const provisioned = billing.mode === 'provisioned';
  return {
    TableName: tableName,
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes(def).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: def.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
      ...(provisioned
        ? { ProvisionedThroughput: throughput(billing.indexes?.[i.name as IndexName] ?? billing.table) }
        : {}),
    })),
    ...(provisioned ? { ProvisionedThroughput: throughput(billing.table) } : {}),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

/** The entity prefixes of every key: spelled here and nowhere else. */
const USER = 'USER#';
const PRODUCT = 'PRODUCT#';
const ORDER = 'ORDER#';
const ORDER_ITEMS = 'ORDERITEMS#';
const CURRENT = 'CURRENT';

/** Key builders: the only place that knows how entity keys are spelled. */
export const keys = {
  user: (email: string) => ({ PK: `${USER}${email}`, SK: `${USER}${email}` }),
  product: (id: string) => ({ PK: `${PRODUCT}${id}`, SK: `${PRODUCT}${id}` }),
  productIndexes: (p: { id: string; category: string; price: number; title: string }) => ({
    GSI1PK: keys.productCategory(p.category),
    GSI1SK: `${PRODUCT}${p.id}`,
    GSI2PK: keys.productCatalogue,
    GSI2SK: p.price,
    GSI3PK: keys.productCatalogue,
    GSI3SK: keys.productTitle(p.title),
  }),
  /** GSI1's partition: the products of one category. */
  productCategory: (category: string) => `${PRODUCT}${category}`,
  /** GSI2's and GSI3's one partition: every product. */
  productCatalogue: PRODUCT,
  /** GSI3's sort key: the lower-case title (a prefix of it for title search). */
  productTitle: (title: string) => `${PRODUCT}${title.toLowerCase()}`,
  order: (email: string, orderId: string) => ({ PK: `${USER}${email}`, SK: `${ORDER}${orderId}` }),
  /** A user's partition, holding the user and its orders. */
  userPartition: (email: string) => `${USER}${email}`,
  /** The sort key prefix of a user's orders. */
  orderPrefix: ORDER,
  orderIndex: (email: string, orderId: string, current: boolean) => ({
    GSI3PK: `${ORDER}${email}`,
    GSI3SK: current ? `${ORDER}${CURRENT}` : `${ORDER}${orderId}`,
  }),
  orderItem: (orderId: string, productId: string) => ({
    PK: `${ORDER_ITEMS}${orderId}`,
    SK: `${ORDER_ITEMS}${productId}`,
  }),
  orderItemsPartition: (orderId: string) => `${ORDER_ITEMS}${orderId}`,
} as const;
