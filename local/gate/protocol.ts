import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './capacity.js';
import { type PartiqlStatement, parsePartiql } from './partiql.js';
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
/** PartiQL: read like the item operations its statements stand for (partiql.ts). */
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
  /** In a transaction: which of its items (a throttle cancels the transaction naming it). */
  readonly item?: number;
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

/**
 * A write reaches the table and every GSI of it (whether the item lands in a GSI is known only
 * after). A GSI's partition is known when the written item carries its key (a Put).
 */
function writeAccesses(
  table: string,
  schema: TableSchema | undefined,
  pk: string | undefined,
  item?: Item,
  index?: number,
): Access[] {
  const at = index !== undefined ? { item: index } : {};
  return [
    { table, target: 'table', kind: 'Write', pk, ...at },
    ...(schema?.indexes ?? [])
      .filter((i) => i.kind === 'GSI')
      .map((i) => ({
        table,
        target: i.name,
        kind: 'Write' as const,
        pk: keyString(item?.[i.partitionKey]),
        ...at,
      })),
  ];
}

/** The statements of a PartiQL call, each read (undefined where it cannot be). */
export function partiqlStatements(op: string, body: Json): (PartiqlStatement | undefined)[] {
  const read = (s: Json | undefined) => {
    if (typeof s?.Statement !== 'string') return undefined;
    try {
      return parsePartiql(s.Statement, (s.Parameters as AttributeValue[] | undefined) ?? []);
    } catch {
      // DynamoDB answers what it cannot run; what the gate cannot read it does not meter.
      return undefined;
    }
  };
  if (op === 'ExecuteStatement') return [read(body)];
  const list = (op === 'BatchExecuteStatement' ? body.Statements : body.TransactStatements) as
    | Json[]
    | undefined;
  return (list ?? []).map(read);
}

/** A statement's key: the table's (or index's) key attributes it pins with `=`. */
export function statementKey(
  statement: PartiqlStatement,
  schema: TableSchema | undefined,
): { pk?: string; key?: Item } {
  if (!schema) return {};
  const keys = keysOf(schema, statement.index);
  if (!keys) return {};
  const source = statement.item ?? statement.equalities;
  const pkValue = source[keys.partitionKey];
  const skValue = keys.sortKey ? source[keys.sortKey] : undefined;
  const pk = keyString(pkValue);
  if (statement.index !== undefined || !pkValue || (keys.sortKey && !skValue)) return pk ? { pk } : {};
  const key: Item = { [keys.partitionKey]: pkValue };
  if (keys.sortKey && skValue) key[keys.sortKey] = skValue;
  return { pk, key };
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
  let kind: Kind | undefined = READ_OPS.has(op) ? 'Read' : WRITE_OPS.has(op) ? 'Write' : undefined;
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
      accesses.push(
        ...writeAccesses(tableName, schema, pkOf(item, schema), op === 'PutItem' ? item : undefined),
      );
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
          const put = (r.PutRequest as Json | undefined)?.Item as Item | undefined;
          accesses.push(...writeAccesses(table, s, pkOf(item, s), put));
          shapes.push({ table, clauses: keyClauses(item, s) });
        }
      }
      break;
    }
    case 'TransactGetItems':
    case 'TransactWriteItems': {
      for (const [n, t] of ((body.TransactItems as Json[] | undefined) ?? []).entries()) {
        const [action, spec] = Object.entries(t)[0] ?? [];
        const sp = spec as Json | undefined;
        const table = typeof sp?.TableName === 'string' ? sp.TableName : undefined;
        if (!table) continue;
        tables.add(table);
        const s = schemas(table);
        const item = (sp?.Item ?? sp?.Key) as Item | undefined;
        const pk = pkOf(item, s);
        shapes.push({ table, clauses: keyClauses(item, s) });
        if (op === 'TransactGetItems') accesses.push({ table, target: 'table', kind: 'Read', pk, item: n });
        else if (action === 'Put' || action === 'Update' || action === 'Delete')
          accesses.push(...writeAccesses(table, s, pk, action === 'Put' ? item : undefined, n));
        // A ConditionCheck reads; it is still charged as a transactional write.
        else accesses.push({ table, target: 'table', kind: 'Write', pk, item: n });
      }
      break;
    }
    case 'ExecuteStatement':
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      for (const [n, st] of partiqlStatements(op, body).entries()) {
        if (!st) continue;
        tables.add(st.table);
        const s = schemas(st.table);
        const { pk } = statementKey(st, s);
        const at = op === 'ExecuteTransaction' ? n : undefined;
        const clauses = Object.entries(st.equalities).map(([attr, v]) => ({
          attr,
          op: '=' as const,
          values: [v],
        }));
        shapes.push({
          table: st.table,
          ...(st.index ? { index: st.index } : {}),
          clauses: st.item ? keyClauses(st.item, s) : clauses,
        });
        if (st.action === 'select') {
          const lsi = st.index !== undefined && s?.indexes.find((i) => i.name === st.index)?.kind === 'LSI';
          const target = st.index === undefined || lsi ? 'table' : st.index;
          accesses.push({
            table: st.table,
            target,
            kind: 'Read',
            pk,
            ...(at !== undefined ? { item: at } : {}),
          });
        } else if (st.action === 'exists')
          accesses.push({
            table: st.table,
            target: 'table',
            kind: 'Write',
            pk,
            ...(at !== undefined ? { item: at } : {}),
          });
        else accesses.push(...writeAccesses(st.table, s, pk, st.item, at));
      }
      break;
    }
    default:
      break;
  }
  // A PartiQL call is all reads or all writes (DynamoDB refuses a mix in a batch or transaction).
  if (PARTIQL_OPS.has(op) && accesses.length > 0)
    kind = accesses.every((a) => a.kind === 'Read') ? 'Read' : 'Write';
  return { op, kind, accesses, shapes, tables: [...tables] };
}
