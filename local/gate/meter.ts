import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item, ReadConsistency } from './capacity.js';
import { type ConsumedStyle, Consumption, minimumRead } from './metering.js';
import type { PartiqlStatement } from './partiql.js';
import type { ItemShares } from './policy.js';
import { type Json, type Kind, PARTIQL_OPS, type Schemas, statementKey } from './protocol.js';
import type { TableSchema } from './schema.js';
import { applyUpdate } from './update-expression.js';

/**
 * What a call consumed, per DynamoDB's rules, from the request, DynamoDB Local's answer and the items
 * the gate read around it. DynamoDB Local's own figure stands where the table-driven test
 * (test/integration/capacity-rules.test.ts) shows it equals the rule (GetItem, non-empty Query and
 * Scan, single-item writes that succeed, BatchWriteItem, TransactGetItems); the gate corrects it
 * where it does not (empty Query/Scan, missing BatchGetItem keys) and computes it where DynamoDB
 * Local is wrong or silent (TransactWriteItems, failed conditional writes, cancelled transactions,
 * PartiQL).
 */
export interface ItemRef {
  readonly table: string;
  readonly key: Item;
}

/** Items by `refKey`; a missing entry (or undefined) means no item. */
export type Images = ReadonlyMap<string, Item | undefined>;

export function refKey(table: string, key: Item, schema: TableSchema | undefined): string {
  const attrs = schema
    ? [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]
    : Object.keys(key).sort();
  return `${table}\u0000${JSON.stringify(attrs.map((a) => key[a]))}`;
}

function keyOf(item: Item | undefined, schema: TableSchema | undefined): Item | undefined {
  if (!item || !schema) return undefined;
  const key: Item = {};
  for (const a of [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]) {
    const v = item[a];
    if (v === undefined) return undefined;
    key[a] = v;
  }
  return key;
}

interface TransactAction {
  readonly action: string;
  readonly table: string;
  readonly spec: Json;
  /** Its place in TransactItems (the `item` of its accesses). */
  readonly n: number;
}

function transactActions(body: Json): TransactAction[] {
  return ((body.TransactItems as Json[] | undefined) ?? []).flatMap((t, n) => {
    const [action, spec] = Object.entries(t)[0] ?? [];
    const sp = spec as Json | undefined;
    return action && typeof sp?.TableName === 'string' ? [{ action, table: sp.TableName, spec: sp, n }] : [];
  });
}

/**
 * The items whose images the gate reads before forwarding the call: what a transaction's or a
 * PartiQL write's items are now (DynamoDB charges the larger of before and after).
 */
export function imagesBefore(
  op: string,
  body: Json,
  statements: readonly (PartiqlStatement | undefined)[],
  schemas: Schemas,
): ItemRef[] {
  const refs: ItemRef[] = [];
  if (op === 'TransactWriteItems') {
    for (const a of transactActions(body)) {
      const key =
        a.action === 'Put' ? keyOf(a.spec.Item as Item, schemas(a.table)) : (a.spec.Key as Item | undefined);
      if (key) refs.push({ table: a.table, key });
    }
  } else if (PARTIQL_OPS.has(op)) {
    for (const st of statements) {
      if (!st || st.action === 'select') continue;
      const { key } = statementKey(st, schemas(st.table));
      if (key) refs.push({ table: st.table, key });
    }
  }
  return refs;
}

/** What the gate reads after answering a PartiQL SELECT, to size what it read. */
export interface ReadsAfter {
  /** One-key SELECTs: the items, read whole. */
  readonly items: ItemRef[];
  /** Other SELECTs: the Query or Scan they stand for, asking only for a count and the capacity. */
  readonly scans: { readonly statement: number; readonly op: 'Query' | 'Scan'; readonly body: Json }[];
}

export function readsAfter(
  op: string,
  body: Json,
  statements: readonly (PartiqlStatement | undefined)[],
  schemas: Schemas,
): ReadsAfter {
  const items: ItemRef[] = [];
  const scans: ReadsAfter['scans'][number][] = [];
  for (const [n, st] of statements.entries()) {
    if (st?.action !== 'select') continue;
    const schema = schemas(st.table);
    const { key } = statementKey(st, schema);
    if (key) {
      items.push({ table: st.table, key });
      continue;
    }
    if (op !== 'ExecuteStatement' || !schema) continue;
    const keys = st.index ? schema.indexes.find((i) => i.name === st.index) : schema;
    const pk = keys ? st.equalities[keys.partitionKey] : undefined;
    const sk = keys?.sortKey ? st.equalities[keys.sortKey] : undefined;
    const common: Json = {
      TableName: st.table,
      ...(st.index ? { IndexName: st.index } : {}),
      Select: 'COUNT',
      ReturnConsumedCapacity: 'INDEXES',
      ...(body.ConsistentRead === true ? { ConsistentRead: true } : {}),
      ...(typeof body.Limit === 'number' ? { Limit: body.Limit } : {}),
    };
    if (keys && pk) {
      const values: Record<string, AttributeValue> = { ':pk': pk };
      if (sk) values[':sk'] = sk;
      scans.push({
        statement: n,
        op: 'Query',
        body: {
          ...common,
          KeyConditionExpression: sk ? '#pk = :pk AND #sk = :sk' : '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': keys.partitionKey,
            ...(sk && keys.sortKey ? { '#sk': keys.sortKey } : {}),
          },
          ExpressionAttributeValues: values,
        },
      });
    } else scans.push({ statement: n, op: 'Scan', body: common });
  }
  return { items, scans };
}

export interface MeterInput {
  readonly op: string;
  readonly body: Json;
  readonly statements: readonly (PartiqlStatement | undefined)[];
  readonly schemas: Schemas;
  /** DynamoDB Local's answer, parsed. */
  readonly status: number;
  readonly out: Json;
  /** The error code of a failed call (`ConditionalCheckFailedException`, ...). */
  readonly code?: string;
  /** Items before the call (imagesBefore) and read after it (readsAfter), by refKey. */
  readonly before: Images;
  readonly after: Images;
  /** What each readsAfter scan consumed, by statement. */
  readonly scanned: ReadonlyMap<number, Json>;
}

export interface Metered {
  /** One INDEXES-shaped ConsumedCapacity per table. */
  readonly consumed: Json[];
  /** True when it is the gate's figure, not DynamoDB Local's as it came. */
  readonly corrected: boolean;
  /** A transaction's: what each of its items consumed (the policy charges each item's key its own). */
  readonly shares?: ItemShares;
}

const list = (c: unknown): Json[] => (Array.isArray(c) ? (c as Json[]) : c ? [c as Json] : []);

function consistency(strong: unknown): ReadConsistency {
  return strong === true ? 'strong' : 'eventual';
}

/** The figure for a call, or undefined when nothing was consumed (a call DynamoDB refused). */
export function meter(input: MeterInput): Metered | undefined {
  const { op, status, out, code } = input;
  if (PARTIQL_OPS.has(op)) return meterPartiql(input);
  if (op === 'TransactWriteItems') {
    if (status === 200 || code === 'TransactionCanceledException') return meterTransactWrite(input);
    return undefined;
  }
  if (status !== 200) {
    if (code === 'ConditionalCheckFailedException') return meterFailedWrite(input);
    return undefined;
  }
  const local = list(out.ConsumedCapacity);
  if (op === 'Query' || op === 'Scan') return emptyRead(input, local);
  if (op === 'BatchGetItem') return missingKeys(input, local);
  return { consumed: local, corrected: false };
}

function adjust(entry: Json, where: string | undefined, index: string | undefined, units: number): void {
  entry.CapacityUnits = ((entry.CapacityUnits as number | undefined) ?? 0) + units;
  if (entry.ReadCapacityUnits !== undefined)
    entry.ReadCapacityUnits = (entry.ReadCapacityUnits as number) + units;
  let target: Json;
  if (where && index) {
    const map = ((entry[where] as Json | undefined) ?? {}) as Record<string, Json>;
    entry[where] = map;
    target = map[index] ?? {};
    map[index] = target;
  } else {
    target = (entry.Table as Json | undefined) ?? {};
    entry.Table = target;
  }
  target.CapacityUnits = ((target.CapacityUnits as number | undefined) ?? 0) + units;
}

/**
 * A Query or Scan that read nothing still costs the minimum read of its consistency, on what it read
 * (API reference, Query: "Queries that do not return results consume the minimum number of read
 * capacity units for that type of read operation"). DynamoDB Local says 0.
 */
function emptyRead(input: MeterInput, local: Json[]): Metered {
  const entry = local[0];
  if (!entry || (entry.CapacityUnits as number | undefined) !== 0)
    return { consumed: local, corrected: false };
  const { body, schemas } = input;
  const index = typeof body.IndexName === 'string' ? body.IndexName : undefined;
  const schema = schemas(String(body.TableName ?? ''));
  const lsi = index !== undefined && schema?.indexes.find((i) => i.name === index)?.kind === 'LSI';
  const fixed = structuredClone(entry);
  adjust(
    fixed,
    index ? (lsi ? 'LocalSecondaryIndexes' : 'GlobalSecondaryIndexes') : undefined,
    index,
    minimumRead(consistency(body.ConsistentRead)),
  );
  return { consumed: [fixed], corrected: true };
}

/**
 * BatchGetItem: each key is a GetItem, and a key with no item costs the minimum read (API reference,
 * BatchGetItem: "Requests for nonexistent items consume the minimum read capacity units according
 * to the type of read"). DynamoDB Local charges them nothing.
 */
function missingKeys(input: MeterInput, local: Json[]): Metered {
  const requested =
    (input.body.RequestItems as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>) ?? {};
  const responses = (input.out.Responses as Record<string, unknown[]> | undefined) ?? {};
  const unprocessed = (input.out.UnprocessedKeys as Record<string, { Keys?: unknown[] }> | undefined) ?? {};
  const consumed = local.map((c) => structuredClone(c));
  let corrected = false;
  for (const [table, spec] of Object.entries(requested)) {
    const missing =
      (spec.Keys?.length ?? 0) - (responses[table]?.length ?? 0) - (unprocessed[table]?.Keys?.length ?? 0);
    if (missing <= 0) continue;
    let entry = consumed.find((c) => c.TableName === table);
    if (!entry) {
      entry = { TableName: table, CapacityUnits: 0, Table: { CapacityUnits: 0 } };
      consumed.push(entry);
    }
    adjust(entry, undefined, undefined, missing * minimumRead(consistency(spec.ConsistentRead)));
    corrected = true;
  }
  return { consumed, corrected };
}

/** An Update's after-image: the UpdateExpression applied to the before-image (or to the key alone). */
function updated(before: Item | undefined, spec: Json): Item | undefined {
  const key = spec.Key as Item | undefined;
  if (!key || typeof spec.UpdateExpression !== 'string') return before ?? key;
  try {
    return applyUpdate(
      before,
      key,
      spec.UpdateExpression,
      (spec.ExpressionAttributeNames as Record<string, string> | undefined) ?? {},
      (spec.ExpressionAttributeValues as Record<string, Item[string]> | undefined) ?? {},
    );
  } catch {
    // An expression the gate cannot apply: the before-image is the best it knows.
    return before ?? key;
  }
}

/**
 * TransactWriteItems: every item twice ("Capacity management for transactions": a prepare and a
 * commit), Put/Update/Delete at the larger of their images with their index writes, a ConditionCheck
 * at the size of the item it checks. A cancelled transaction consumes its table's part the same
 * ("This capacity is consumed even when a transaction does not succeed"), but no index write: it
 * changed no item, so no index entry changed, as for a single write whose condition failed.
 */
function meterTransactWrite(input: MeterInput): Metered {
  const c = new Consumption();
  const cancelled = input.code === 'TransactionCanceledException';
  for (const a of transactActions(input.body)) {
    const schema = input.schemas(a.table);
    if (!schema) continue;
    const key = a.action === 'Put' ? keyOf(a.spec.Item as Item, schema) : (a.spec.Key as Item | undefined);
    const before = key ? input.before.get(refKey(a.table, key, schema)) : undefined;
    const after =
      a.action === 'Put'
        ? (a.spec.Item as Item)
        : a.action === 'Update'
          ? updated(before, a.spec)
          : a.action === 'Delete'
            ? undefined
            : before;
    c.forItem(a.n);
    if (cancelled || a.action === 'ConditionCheck') c.failedWrite(a.table, before, after, true);
    else c.writeItem(schema, before, after, true);
  }
  return { consumed: c.all({ kinds: ['Write'] }), corrected: true, shares: c.shares };
}

/**
 * A single-item write whose condition failed: DynamoDB still charges the table for the write, at the
 * larger of the item as it is and as the write would have made it ("DynamoDB read and write
 * operations", "Capacity unit consumption for write operations": an existing 300 KB item and a new
 * 310 KB one consume 310 KB). The gate asks DynamoDB Local for the old item on failure
 * (ReturnValuesOnConditionCheckFailure) and applies the write to it. No index changes.
 */
function meterFailedWrite(input: MeterInput): Metered | undefined {
  const { op, body, out } = input;
  const table = String(body.TableName ?? '');
  const before = out.Item as Item | undefined;
  const after =
    op === 'PutItem' ? (body.Item as Item) : op === 'UpdateItem' ? updated(before, body) : undefined;
  const c = new Consumption();
  c.failedWrite(table, before, after);
  return { consumed: c.all(), corrected: true };
}

/** PartiQL: each statement charged like the item operation it stands for. */
function meterPartiql(input: MeterInput): Metered | undefined {
  const { op, status, code, statements, schemas, out } = input;
  const transaction = op === 'ExecuteTransaction';
  const cancelled = transaction && code === 'TransactionCanceledException';
  if (status !== 200 && !cancelled && !(op === 'ExecuteStatement' && isFailedWrite(code))) return undefined;
  const c = new Consumption();
  const responses = (out.Responses as { Error?: { Code?: string } }[] | undefined) ?? [];
  for (const [n, st] of statements.entries()) {
    if (!st) continue;
    const schema = schemas(st.table);
    if (!schema) continue;
    const { key } = statementKey(st, schema);
    const ref = key ? refKey(st.table, key, schema) : undefined;
    const before = ref ? input.before.get(ref) : undefined;
    const statementCode = op === 'BatchExecuteStatement' ? responses[n]?.Error?.Code : code;
    // A statement DynamoDB refused for its input consumed nothing; a failed condition did.
    if (op === 'BatchExecuteStatement' && statementCode && !isFailedWrite(statementCode)) continue;
    // A cancelled transaction changed no item: its writes are the table's only, as a failed condition's.
    const failed = cancelled || (!transaction && isFailedWrite(statementCode));
    c.forItem(transaction ? n : undefined);
    switch (st.action) {
      case 'select': {
        if (ref) {
          const strong = transaction ? 'transactional' : consistency(statementConsistent(input.body, op, n));
          c.readItem(st.table, input.after.get(ref), strong);
        } else {
          const scanned = input.scanned.get(n);
          if (scanned) addScan(c, st, schema, scanned, consistency(input.body.ConsistentRead));
        }
        break;
      }
      case 'exists':
        c.failedWrite(st.table, before, before, true);
        break;
      case 'insert':
        if (failed) c.failedWrite(st.table, before, st.item, transaction);
        else c.writeItem(schema, before, st.item, transaction);
        break;
      case 'update': {
        const after = st.update && key ? safeApply(before, key, st.update) : before;
        if (failed) c.failedWrite(st.table, before, after, transaction);
        else c.writeItem(schema, before, after, transaction);
        break;
      }
      case 'delete':
        if (failed) c.failedWrite(st.table, before, undefined, transaction);
        else c.writeItem(schema, before, undefined, transaction);
        break;
    }
  }
  const kinds: Kind[] = statements.every((s) => !s || s.action === 'select') ? ['Read'] : ['Write'];
  const style: ConsumedStyle = transaction ? { kinds, kindsInTable: kinds[0] === 'Write' } : {};
  return { consumed: c.all(style), corrected: true, ...(transaction ? { shares: c.shares } : {}) };
}

function isFailedWrite(code: string | undefined): boolean {
  return (
    code === 'ConditionalCheckFailed' ||
    code === 'ConditionalCheckFailedException' ||
    code === 'DuplicateItem' ||
    code === 'DuplicateItemException'
  );
}

function statementConsistent(body: Json, op: string, n: number): unknown {
  if (op === 'BatchExecuteStatement') return (body.Statements as Json[] | undefined)?.[n]?.ConsistentRead;
  return body.ConsistentRead;
}

function safeApply(
  before: Item | undefined,
  key: Item,
  update: NonNullable<PartiqlStatement['update']>,
): Item | undefined {
  try {
    return applyUpdate(before, key, update.expression, update.names, update.values);
  } catch {
    return before;
  }
}

/** A SELECT that stands for a Query or Scan: what DynamoDB Local charged its count, at least the minimum. */
function addScan(
  c: Consumption,
  st: PartiqlStatement,
  schema: TableSchema,
  scanned: Json,
  strong: ReadConsistency,
): void {
  const lsi = st.index !== undefined && schema.indexes.find((i) => i.name === st.index)?.kind === 'LSI';
  const where = st.index ? { index: st.index, lsi } : {};
  const total = (scanned.CapacityUnits as number | undefined) ?? 0;
  if (total === 0) {
    c.add(st.table, where, 'Read', minimumRead(strong));
    return;
  }
  const table = ((scanned.Table as Json | undefined)?.CapacityUnits as number | undefined) ?? 0;
  if (table > 0) c.add(st.table, {}, 'Read', table);
  for (const [name, u] of Object.entries(
    (scanned.GlobalSecondaryIndexes as Record<string, Json> | undefined) ?? {},
  ))
    c.add(st.table, { index: name }, 'Read', (u.CapacityUnits as number | undefined) ?? 0);
  for (const [name, u] of Object.entries(
    (scanned.LocalSecondaryIndexes as Record<string, Json> | undefined) ?? {},
  ))
    c.add(st.table, { index: name, lsi: true }, 'Read', (u.CapacityUnits as number | undefined) ?? 0);
}
