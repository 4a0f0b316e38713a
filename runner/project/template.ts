import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AttributeType,
  BillingSpec,
  GlobalIndexSpec,
  KeyAttribute,
  LocalIndexSpec,
  Projection,
  StreamView,
  TableSpec,
} from '../../local/index.js';

/**
 * Tables from CloudFormation: a `*.template.json` file, or a `cdk.out` folder (every template in it).
 * `AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable` resources give their key schema, GSIs,
 * LSIs, billing and stream. A table whose name CloudFormation would generate (no plain `TableName`)
 * is named after its construct (the CDK path's id, e.g. `Orders`) or else its logical id.
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

function templateFiles(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new TemplateError(`${path}: cannot read: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isFile() && entry.name.endsWith('.template.json')) out.push(full);
    // Stages put their stacks in nested assemblies.
    else if (entry.isDirectory() && entry.name.startsWith('assembly-')) out.push(...templateFiles(full));
  }
  if (out.length === 0)
    throw new TemplateError(`${path}: no *.template.json in this folder (run cdk synth?)`);
  return out.sort();
}

function tableName(logicalId: string, resource: Json): string {
  const props = (resource.Properties as Json | undefined) ?? {};
  if (typeof props.TableName === 'string') return props.TableName;
  const path = (resource.Metadata as Json | undefined)?.['aws:cdk:path'];
  if (typeof path === 'string') {
    const parts = path.split('/');
    // Stack/Orders/Resource -> Orders
    const id = parts[parts.length - 1] === 'Resource' ? parts[parts.length - 2] : parts[parts.length - 1];
    if (id && /^[A-Za-z0-9_.-]{3,255}$/.test(id)) return id;
  }
  return logicalId;
}

function projectionOf(p: unknown): Projection {
  const type = (p as Json | undefined)?.ProjectionType;
  if (type === 'KEYS_ONLY') return 'KEYS_ONLY';
  if (type === 'INCLUDE') {
    const attrs = (p as Json).NonKeyAttributes;
    return { include: Array.isArray(attrs) ? attrs.map(String) : [] };
  }
  return 'ALL';
}

function tableFrom(where: string, logicalId: string, resource: Json): TableSpec {
  const props = (resource.Properties as Json | undefined) ?? {};
  const here = `${where}: ${logicalId}`;
  const types = new Map<string, AttributeType>();
  for (const a of (props.AttributeDefinitions as Json[] | undefined) ?? []) {
    if (typeof a.AttributeName === 'string')
      types.set(a.AttributeName, (a.AttributeType as AttributeType) ?? 'S');
  }
  const key = (schema: unknown, which: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const name = ((schema as Json[] | undefined) ?? []).find((k) => k.KeyType === which)?.AttributeName;
    if (typeof name !== 'string') return undefined;
    const type = types.get(name);
    if (!type) throw new TemplateError(`${here}: key attribute ${name} has no AttributeDefinitions entry`);
    return { name, type };
  };
  const pk = key(props.KeySchema, 'HASH');
  if (!pk) throw new TemplateError(`${here}: KeySchema has no HASH key (or is not plain JSON)`);
  const sk = key(props.KeySchema, 'RANGE');
  const global = resource.Type === 'AWS::DynamoDB::GlobalTable';
  const provisioned =
    props.BillingMode === 'PROVISIONED' ||
    (!global && props.ProvisionedThroughput !== undefined && props.BillingMode !== 'PAY_PER_REQUEST');
  let billing: BillingSpec = { mode: 'on-demand' };
  if (provisioned) {
    const pt = (props.ProvisionedThroughput as Json | undefined) ?? {};
    // A global table keeps read capacity per replica and write capacity as auto scaling settings.
    const replica = ((props.Replicas as Json[] | undefined) ?? [])[0];
    const read =
      num(pt.ReadCapacityUnits) ??
      num((replica?.ReadProvisionedThroughputSettings as Json | undefined)?.ReadCapacityUnits);
    const writeScaling = (props.WriteProvisionedThroughputSettings as Json | undefined)
      ?.WriteCapacityAutoScalingSettings as Json | undefined;
    const write = num(pt.WriteCapacityUnits) ?? num(writeScaling?.MinCapacity);
    if (read === undefined || write === undefined)
      throw new TemplateError(`${here}: PROVISIONED without read and write capacity as numbers`);
    billing = { mode: 'provisioned', read, write };
  } else {
    const od = (props.OnDemandThroughput as Json | undefined) ?? {};
    const maxRead = num(od.MaxReadRequestUnits);
    const maxWrite = num(od.MaxWriteRequestUnits);
    billing = {
      mode: 'on-demand',
      ...(maxRead !== undefined && maxRead > 0 ? { maxRead } : {}),
      ...(maxWrite !== undefined && maxWrite > 0 ? { maxWrite } : {}),
    };
  }
  const gsis = ((props.GlobalSecondaryIndexes as Json[] | undefined) ?? []).map((g): GlobalIndexSpec => {
    const gpk = key(g.KeySchema, 'HASH');
    if (!gpk || typeof g.IndexName !== 'string')
      throw new TemplateError(`${here}: a GlobalSecondaryIndexes entry without IndexName or HASH key`);
    const gsk = key(g.KeySchema, 'RANGE');
    const pt = g.ProvisionedThroughput as Json | undefined;
    const r = num(pt?.ReadCapacityUnits);
    const w = num(pt?.WriteCapacityUnits);
    return {
      name: g.IndexName,
      partitionKey: gpk,
      ...(gsk ? { sortKey: gsk } : {}),
      projection: projectionOf(g.Projection),
      ...(r !== undefined && w !== undefined ? { capacity: { read: r, write: w } } : {}),
    };
  });
  const lsis = ((props.LocalSecondaryIndexes as Json[] | undefined) ?? []).map((l): LocalIndexSpec => {
    const lsk = key(l.KeySchema, 'RANGE');
    if (!lsk || typeof l.IndexName !== 'string')
      throw new TemplateError(`${here}: a LocalSecondaryIndexes entry without IndexName or RANGE key`);
    return { name: l.IndexName, sortKey: lsk, projection: projectionOf(l.Projection) };
  });
  const view = (props.StreamSpecification as Json | undefined)?.StreamViewType;
  return {
    name: tableName(logicalId, resource),
    partitionKey: pk,
    ...(sk ? { sortKey: sk } : {}),
    ...(gsis.length ? { globalSecondaryIndexes: gsis } : {}),
    ...(lsis.length ? { localSecondaryIndexes: lsis } : {}),
    billing,
    ...(typeof view === 'string' ? { stream: view as StreamView } : {}),
  };
}

/** Every DynamoDB table in the templates at `path` (a file or a cdk.out folder). */
export function tablesFromTemplate(path: string): TableSpec[] {
  const out: TableSpec[] = [];
  // A name is what the stack creates and the gate meters: two stacks (or stages) with the same
  // construct id and no TableName would be one table here, so the pair is named.
  const seen = new Map<string, string>();
  for (const file of templateFiles(path)) {
    let template: Json;
    try {
      template = JSON.parse(readFileSync(file, 'utf8')) as Json;
    } catch (err) {
      throw new TemplateError(`${file}: not a JSON CloudFormation template: ${(err as Error).message}`);
    }
    const resources = (template.Resources as Record<string, Json> | undefined) ?? {};
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable')
        continue;
      const table = tableFrom(file, logicalId, resource);
      const here = `${file} (${logicalId})`;
      const first = seen.get(table.name);
      if (first)
        throw new TemplateError(
          `two tables are named "${table.name}": ${first} and ${here}; give them a TableName, or point tables.template at one stack's *.template.json`,
        );
      seen.set(table.name, here);
      out.push(table);
    }
  }
  if (out.length === 0) throw new TemplateError(`${path}: no AWS::DynamoDB::Table or GlobalTable resource`);
  return out;
}
