import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The AWS SDK's DynamoDB client, loaded when a table is first created or described: ~0.13 s of CPU
 * that `loadtest run --url` (no tables to make) would otherwise spend before its first request.
 */
export const dynamoSdk = () => import('@aws-sdk/client-dynamodb');

/**
 * A project's tables, as plain data: written inline in a config, read from a CloudFormation template
 * or from DescribeTable. The embedded stack creates them on DynamoDB Local from this; the capacity
 * gate never reads it (it learns what the endpoint holds).
 */
export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export type Projection = 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };

export interface GlobalIndexSpec {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projection?: Projection;
  /** Provisioned tables: this GSI's own capacity (default: the table's). */
  readonly capacity?: { readonly read: number; readonly write: number };
}

export interface LocalIndexSpec {
  readonly name: string;
  readonly sortKey: KeyAttribute;
  readonly projection?: Projection;
}

export type BillingSpec =
  | { readonly mode: 'on-demand'; readonly maxRead?: number; readonly maxWrite?: number }
  | { readonly mode: 'provisioned'; readonly read: number; readonly write: number };

export type StreamView = 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes?: readonly GlobalIndexSpec[];
  readonly localSecondaryIndexes?: readonly LocalIndexSpec[];
  readonly billing?: BillingSpec;
  readonly stream?: StreamView;
}

function projection(p: Projection | undefined): {
  ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
} {
  if (p === undefined || p === 'ALL') return { ProjectionType: 'ALL' };
  if (p === 'KEYS_ONLY') return { ProjectionType: 'KEYS_ONLY' };
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p.include] };
}

/** CreateTable's input for a spec (what DynamoDB Local is given). */
export function createTableInput(spec: TableSpec): CreateTableCommandInput {
  const attrs = new Map<string, AttributeType>();
  const add = (k: KeyAttribute | undefined) => {
    if (k) attrs.set(k.name, k.type);
  };
  add(spec.partitionKey);
  add(spec.sortKey);
  for (const g of spec.globalSecondaryIndexes ?? []) {
    add(g.partitionKey);
    add(g.sortKey);
  }
  for (const l of spec.localSecondaryIndexes ?? []) add(l.sortKey);
  const keySchema = (pk: KeyAttribute, sk: KeyAttribute | undefined) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  const billing = spec.billing ?? { mode: 'on-demand' };
  const provisioned = billing.mode === 'provisioned' ? billing : undefined;
  const throughput = (c: { read: number; write: number }) => ({
    ReadCapacityUnits: c.read,
    WriteCapacityUnits: c.write,
  });
  return {
    TableName: spec.name,
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(provisioned ? { ProvisionedThroughput: throughput(provisioned) } : {}),
    ...(billing.mode === 'on-demand' && (billing.maxRead !== undefined || billing.maxWrite !== undefined)
      ? {
          OnDemandThroughput: {
            ...(billing.maxRead !== undefined ? { MaxReadRequestUnits: billing.maxRead } : {}),
            ...(billing.maxWrite !== undefined ? { MaxWriteRequestUnits: billing.maxWrite } : {}),
          },
        }
      : {}),
    ...(spec.globalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: spec.globalSecondaryIndexes.map((g) => ({
            IndexName: g.name,
            KeySchema: keySchema(g.partitionKey, g.sortKey),
            Projection: projection(g.projection),
            ...(provisioned ? { ProvisionedThroughput: throughput(g.capacity ?? provisioned) } : {}),
          })),
        }
      : {}),
    ...(spec.localSecondaryIndexes?.length
      ? {
          LocalSecondaryIndexes: spec.localSecondaryIndexes.map((l) => ({
            IndexName: l.name,
            KeySchema: keySchema(spec.partitionKey, l.sortKey),
            Projection: projection(l.projection),
          })),
        }
      : {}),
    ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } } : {}),
  };
}

/** A client for a local endpoint: DynamoDB Local wants some key to sign with, any will do. */
export async function localDynamoClient(endpoint: string, region = 'us-east-1'): Promise<DynamoDBClient> {
  const { DynamoDBClient } = await dynamoSdk();
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

/** How a table that exists differs from its spec, in its keys and indexes (empty: it does not). */
export function shapeDifferences(spec: TableSpec, actual: TableSpec): string[] {
  const out: string[] = [];
  const key = (k: KeyAttribute | undefined) => (k ? `${k.name} (${k.type})` : 'none');
  if (key(spec.partitionKey) !== key(actual.partitionKey))
    out.push(`partition key ${key(actual.partitionKey)}, the project's ${key(spec.partitionKey)}`);
  if (key(spec.sortKey) !== key(actual.sortKey))
    out.push(`sort key ${key(actual.sortKey)}, the project's ${key(spec.sortKey)}`);
  for (const kind of ['globalSecondaryIndexes', 'localSecondaryIndexes'] as const) {
    const want = new Set((spec[kind] ?? []).map((i) => i.name));
    const have = new Set((actual[kind] ?? []).map((i) => i.name));
    const label = kind === 'globalSecondaryIndexes' ? 'GSI' : 'LSI';
    for (const n of want) if (!have.has(n)) out.push(`no ${label} ${n}`);
    for (const n of have) if (!want.has(n)) out.push(`a ${label} ${n} the project does not declare`);
  }
  return out;
}

/**
 * Creates each table that is not there yet; returns which it created and which existed. A table that
 * exists is told by CreateTable's ResourceInUseException rather than by a ListTables first, and the
 * wait for it to be ACTIVE is skipped when CreateTable says it already is (DynamoDB Local always
 * does): on a just-started DynamoDB Local every call is a cold one (~0.1 s), on every run's
 * critical path. One that exists (data kept with `--persist`, or an endpoint's own) is left as it
 * is: `differs` says how its keys and indexes are not the project's.
 */
export async function ensureTables(
  client: DynamoDBClient,
  specs: readonly TableSpec[],
): Promise<{ created: string[]; existed: string[]; differs: { table: string; what: string[] }[] }> {
  const { CreateTableCommand, ResourceInUseException, waitUntilTableExists } = await dynamoSdk();
  const created: string[] = [];
  const existed: string[] = [];
  const differs: { table: string; what: string[] }[] = [];
  await Promise.all(
    specs.map(async (spec) => {
      try {
        const out = await client.send(new CreateTableCommand(createTableInput(spec)));
        created.push(spec.name);
        if (out.TableDescription?.TableStatus === 'ACTIVE') return;
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
        existed.push(spec.name);
      }
      await waitUntilTableExists(
        { client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
        { TableName: spec.name },
      );
      if (!existed.includes(spec.name)) return;
      const what = shapeDifferences(spec, await describeTableSpec(client, spec.name));
      if (what.length > 0) differs.push({ table: spec.name, what });
    }),
  );
  return {
    created: created.sort(),
    existed: existed.sort(),
    differs: differs.sort((a, b) => a.table.localeCompare(b.table)),
  };
}

/** The spec of a table that exists (DescribeTable), for a project that reads its tables from an endpoint. */
export async function describeTableSpec(client: DynamoDBClient, name: string): Promise<TableSpec> {
  const { DescribeTableCommand } = await dynamoSdk();
  const { Table: t } = await client.send(new DescribeTableCommand({ TableName: name }));
  if (!t) throw new Error(`DescribeTable ${name}: no table in the answer`);
  const types = new Map(
    (t.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? '', a.AttributeType as AttributeType]),
  );
  const key = (name: string | undefined): KeyAttribute | undefined =>
    name ? { name, type: types.get(name) ?? 'S' } : undefined;
  const hash = (ks: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    key(ks?.find((k) => k.KeyType === 'HASH')?.AttributeName);
  const range = (ks: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    key(ks?.find((k) => k.KeyType === 'RANGE')?.AttributeName);
  const proj = (p: { ProjectionType?: string; NonKeyAttributes?: string[] } | undefined): Projection =>
    p?.ProjectionType === 'KEYS_ONLY'
      ? 'KEYS_ONLY'
      : p?.ProjectionType === 'INCLUDE'
        ? { include: p.NonKeyAttributes ?? [] }
        : 'ALL';
  const pk = hash(t.KeySchema);
  if (!pk) throw new Error(`DescribeTable ${name}: no HASH key`);
  const sk = range(t.KeySchema);
  const read = t.ProvisionedThroughput?.ReadCapacityUnits ?? 0;
  const write = t.ProvisionedThroughput?.WriteCapacityUnits ?? 0;
  const provisioned = t.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST' && read > 0 && write > 0;
  return {
    name,
    partitionKey: pk,
    ...(sk ? { sortKey: sk } : {}),
    globalSecondaryIndexes: (t.GlobalSecondaryIndexes ?? []).map((g) => {
      const gsk = range(g.KeySchema);
      return {
        name: g.IndexName ?? '',
        partitionKey: hash(g.KeySchema) ?? pk,
        ...(gsk ? { sortKey: gsk } : {}),
        projection: proj(g.Projection),
      };
    }),
    localSecondaryIndexes: (t.LocalSecondaryIndexes ?? []).flatMap((l) => {
      const lsk = range(l.KeySchema);
      return lsk ? [{ name: l.IndexName ?? '', sortKey: lsk, projection: proj(l.Projection) }] : [];
    }),
    billing: provisioned ? { mode: 'provisioned', read, write } : { mode: 'on-demand' },
    ...(t.StreamSpecification?.StreamEnabled && t.StreamSpecification.StreamViewType
      ? { stream: t.StreamSpecification.StreamViewType as StreamView }
      : {}),
  };
}
