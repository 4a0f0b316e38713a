import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './capacity.js';
import { keysOf, type TableSchema } from './schema.js';

/**
 * The DynamoDB JSON protocol as the gate reads it: which tables, indexes and partition keys a call
 * touches (for capacity), and the shape of its key conditions (for naming its access pattern). Pure:
 * a request body and the table schemas in, plain data out.
 */
export type Kind = 'Read' | 'Write';
export type Json = Record<string, unknown>;
export type { Item };

export const READ_OPS: ReadonlySet<string> = new Set([
  'GetItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'TransactGetItems',
]);
export const WRITE_OPS: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
/** PartiQL: attributed by name only (the statement is not parsed). */
export const PARTIQL_OPS: ReadonlySet<string> = new Set([
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** One table or index and partition a call reads or writes. */
export interface Access {
  readonly table: string;
  /** 'table' or an index name. */
  readonly target: string;
  readonly kind: Kind;
  /** The partition key value, when the call names one. */
  readonly pk: string | undefined;
}

export type KeyOperator = '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'begins_with';

/** One clause of a key condition, or one key attribute of an item (`=`). */
export interface KeyClause {
  readonly attr: string;
  readonly op: KeyOperator;
  readonly values: readonly AttributeValue[];
}

/** What a call (or one item of a batch or transaction) looks like, for naming its pattern. */
export interface CallShape {
  readonly table: string;
  readonly index?: string;
  readonly clauses: readonly KeyClause[];
}

/** A key value as text; a binary key stays in its wire form (base64). */
export function keyString(v: AttributeValue | undefined): string | undefined {
  if (!v) return undefined;
  const b = v.B as unknown;
  return v.S ?? v.N ?? (typeof b === 'string' ? b : undefined);
}

export type Schemas = (table: string) => TableSchema | undefined;

const CLAUSE =
  /begins_with\s*\(\s*([#\w.-]+)\s*,\s*(:[\w-]+)\s*\)|([#\w.-]+)\s+BETWEEN\s+(:[\w-]+)\s+AND\s+(:[\w-]+)|([#\w.-]+)\s*(<=|>=|=|<|>)\s*(:[\w-]+)/gi;

/** The clauses of a KeyConditionExpression with names and values put in. */
export function parseKeyCondition(
  expression: string,
  names: Record<string, string> = {},
  values: Record<string, AttributeValue> = {},
): KeyClause[] {
  const name = (n: string) => (n.startsWith('#') ? (names[n] ?? n) : n);
  const value = (v: string): AttributeValue => values[v] ?? { NULL: true };
  const out: KeyClause[] = [];
  for (const m of expression.matchAll(CLAUSE)) {
    if (m[1] && m[2]) out.push({ attr: name(m[1]), op: 'begins_with', values: [value(m[2])] });
    else if (m[3] && m[4] && m[5])
      out.push({ attr: name(m[3]), op: 'BETWEEN', values: [value(m[4]), value(m[5])] });
    else if (m[6] && m[7] && m[8])
      out.push({ attr: name(m[6]), op: m[7] as KeyOperator, values: [value(m[8])] });
  }
  return out;
}

const LEGACY_OPS: Record<string, KeyOperator> = {
  EQ: '=',
  LT: '<',
  LE: '<=',
  GT: '>',
  GE: '>=',
  BETWEEN: 'BETWEEN',
  BEGINS_WITH: 'begins_with',
};

function queryClauses(body: Json): KeyClause[] {
  if (typeof body.KeyConditionExpression === 'string') {
    return parseKeyCondition(
      body.KeyConditionExpression,
      (body.ExpressionAttributeNames as Record<string, string> | undefined) ?? {},
      (body.ExpressionAttributeValues as Record<string, AttributeValue> | undefined) ?? {},
    );
  }
  // The legacy KeyConditions parameter, which some older clients still send.
  const legacy = body.KeyConditions as
    | Record<string, { ComparisonOperator?: string; AttributeValueList?: AttributeValue[] }>
    | undefined;
  return Object.entries(legacy ?? {}).flatMap(([attr, c]) => {
    const op = LEGACY_OPS[c.ComparisonOperator ?? ''];
    return op ? [{ attr, op, values: c.AttributeValueList ?? [] }] : [];
  });
}

/** An item's key attributes as `=` clauses (the table's key schema, when known). */
function keyClauses(item: Item | undefined, schema: TableSchema | undefined): KeyClause[] {
  if (!item || !schema) return [];
  const attrs = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
  return attrs.flatMap((attr) => (item[attr] ? [{ attr, op: '=' as const, values: [item[attr]] }] : []));
}

function pkOf(item: unknown, schema: TableSchema | undefined): string | undefined {
  return schema ? keyString((item as Item | undefined)?.[schema.partitionKey]) : undefined;
}

export function writeRequestItem(r: Json): Item | undefined {
  return ((r.PutRequest as Json | undefined)?.Item ?? (r.DeleteRequest as Json | undefined)?.Key) as
    | Item
    | undefined;
}

/** A write reaches the table and every GSI of it (whether the item lands in the GSI is known only after). */
function writeAccesses(table: string, schema: TableSchema | undefined, pk: string | undefined): Access[] {
  return [
    { table, target: 'table', kind: 'Write', pk },
    ...(schema?.indexes ?? [])
      .filter((i) => i.kind === 'GSI')
      .map((i) => ({ table, target: i.name, kind: 'Write' as const, pk: undefined })),
  ];
}

export interface ParsedCall {
  readonly op: string;
  /** Read or Write for metered operations; undefined for the rest (control plane, PartiQL). */
  readonly kind: Kind | undefined;
  readonly accesses: Access[];
  readonly shapes: CallShape[];
  /** Every table the call names. */
  readonly tables: string[];
}

/** What a request touches, with the schemas known so far (unknown tables give no partition keys). */
export function parseCall(op: string, body: Json, schemas: Schemas): ParsedCall {
  const kind: Kind | undefined = READ_OPS.has(op) ? 'Read' : WRITE_OPS.has(op) ? 'Write' : undefined;
  const accesses: Access[] = [];
  const shapes: CallShape[] = [];
  const tables = new Set<string>();
  const tableName = typeof body.TableName === 'string' ? body.TableName : undefined;
  if (tableName) tables.add(tableName);
  const schema = tableName ? schemas(tableName) : undefined;
  switch (op) {
    case 'GetItem': {
      if (!tableName) break;
      accesses.push({ table: tableName, target: 'table', kind: 'Read', pk: pkOf(body.Key, schema) });
      shapes.push({ table: tableName, clauses: keyClauses(body.Key as Item, schema) });
      break;
    }
    case 'Query':
    case 'Scan': {
      if (!tableName) break;
      const index = typeof body.IndexName === 'string' ? body.IndexName : undefined;
      // An LSI lives in its table's partitions and draws on its table's capacity.
      const lsi = index !== undefined && schema?.indexes.find((i) => i.name === index)?.kind === 'LSI';
      const target = index === undefined || lsi ? 'table' : index;
      const clauses = op === 'Query' ? queryClauses(body) : [];
      const pkAttr = schema ? keysOf(schema, index)?.partitionKey : undefined;
      const pkClause = clauses.find((c) => c.attr === pkAttr && c.op === '=');
      accesses.push({ table: tableName, target, kind: 'Read', pk: keyString(pkClause?.values[0]) });
      shapes.push({ table: tableName, ...(index ? { index } : {}), clauses });
      break;
    }
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem': {
      if (!tableName) break;
      const item = (op === 'PutItem' ? body.Item : body.Key) as Item | undefined;
      accesses.push(...writeAccesses(tableName, schema, pkOf(item, schema)));
      shapes.push({ table: tableName, clauses: keyClauses(item, schema) });
      break;
    }
    case 'BatchGetItem': {
      for (const [table, spec] of Object.entries((body.RequestItems as Json | undefined) ?? {})) {
        tables.add(table);
        const s = schemas(table);
        for (const key of ((spec as { Keys?: Item[] }).Keys ?? []) as Item[]) {
          accesses.push({ table, target: 'table', kind: 'Read', pk: pkOf(key, s) });
          shapes.push({ table, clauses: keyClauses(key, s) });
        }
      }
      break;
    }
    case 'BatchWriteItem': {
      for (const [table, reqs] of Object.entries((body.RequestItems as Json | undefined) ?? {})) {
        tables.add(table);
        const s = schemas(table);
        for (const r of (reqs as Json[] | undefined) ?? []) {
          const item = writeRequestItem(r);
          accesses.push(...writeAccesses(table, s, pkOf(item, s)));
          shapes.push({ table, clauses: keyClauses(item, s) });
        }
      }
      break;
    }
    case 'TransactGetItems':
    case 'TransactWriteItems': {
      for (const t of (body.TransactItems as Json[] | undefined) ?? []) {
        const [action, spec] = Object.entries(t)[0] ?? [];
        const sp = spec as Json | undefined;
        const table = typeof sp?.TableName === 'string' ? sp.TableName : undefined;
        if (!table) continue;
        tables.add(table);
        const s = schemas(table);
        const item = (sp?.Item ?? sp?.Key) as Item | undefined;
        const pk = pkOf(item, s);
        shapes.push({ table, clauses: keyClauses(item, s) });
        if (op === 'TransactGetItems') accesses.push({ table, target: 'table', kind: 'Read', pk });
        else if (action === 'Put' || action === 'Update' || action === 'Delete')
          accesses.push(...writeAccesses(table, s, pk));
        // A ConditionCheck reads; it is still charged as a transactional write.
        else accesses.push({ table, target: 'table', kind: 'Write', pk });
      }
      break;
    }
    default:
      break;
  }
  return { op, kind, accesses, shapes, tables: [...tables] };
}
