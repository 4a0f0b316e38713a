import {
  type IndexShape,
  type Item,
  indexWrites,
  itemSize,
  type ReadConsistency,
  readUnits,
  writeUnits,
} from './capacity.js';
import { type ConsumedJson, type ItemShares, itemShareKey } from './policy.js';
import type { Json, Kind } from './protocol.js';
import type { TableSchema } from './schema.js';

/**
 * What a call consumed, table by table and index by index, computed by the gate from the items it
 * can see with DynamoDB's rules (capacity.ts). The gate builds one where DynamoDB Local's figure is
 * wrong or missing (transactions, failed conditions, PartiQL, empty reads, missing batch keys) and
 * hands it to the client in the shape it asked for and to the throttle policy.
 */
interface Units {
  read: number;
  write: number;
}

interface TableUnits {
  readonly table: Units;
  readonly gsi: Map<string, Units>;
  readonly lsi: Map<string, Units>;
}

const zero = (): Units => ({ read: 0, write: 0 });

export class Consumption {
  readonly tables = new Map<string, TableUnits>();
  private readonly byItem = new Map<string, Map<number, number>>();
  private item: number | undefined;

  /** What follows is the transaction's item `n` (its place in TransactItems or TransactStatements). */
  forItem(n: number | undefined): this {
    this.item = n;
    return this;
  }

  /** The units of each item, where they were told with forItem. */
  get shares(): ItemShares {
    return this.byItem;
  }

  private of(table: string): TableUnits {
    let t = this.tables.get(table);
    if (!t) {
      t = { table: zero(), gsi: new Map(), lsi: new Map() };
      this.tables.set(table, t);
    }
    return t;
  }

  add(table: string, where: { index?: string; lsi?: boolean }, kind: Kind, units: number): void {
    const t = this.of(table);
    let u = t.table;
    if (where.index !== undefined) {
      const map = where.lsi ? t.lsi : t.gsi;
      u = map.get(where.index) ?? zero();
      map.set(where.index, u);
    }
    if (kind === 'Read') u.read += units;
    else u.write += units;
    if (this.item !== undefined && units > 0) {
      const key = itemShareKey(table, where.index ?? 'table', kind);
      const items = this.byItem.get(key) ?? new Map<number, number>();
      items.set(this.item, (items.get(this.item) ?? 0) + units);
      this.byItem.set(key, items);
    }
  }

  /**
   * One item read (GetItem, a BatchGetItem key, a TransactGetItems Get, a PartiQL SELECT of one
   * key): 4 KB units of the item, and the minimum when there is no item (Developer Guide, "Read
   * and write operations": a read of an item that does not exist still consumes capacity).
   */
  readItem(table: string, item: Item | undefined, consistency: ReadConsistency): void {
    this.add(table, {}, 'Read', readUnits(itemSize(item), consistency));
  }

  /**
   * One item write: the table pays 1 KB units of the larger image (at least one unit, also for an
   * item that was not there), each index what its entry changes (capacity.ts, indexWrites); a
   * transaction pays twice for all of it (Developer Guide, "Capacity management for transactions":
   * a prepare and a commit of every item).
   */
  writeItem(
    schema: TableSchema,
    before: Item | undefined,
    after: Item | undefined,
    transactional: boolean,
  ): void {
    const factor = transactional ? 2 : 1;
    this.add(schema.name, {}, 'Write', writeUnits(itemSize(before), itemSize(after)) * factor);
    for (const index of schema.indexes) {
      const { units } = indexWrites(before, after, index as IndexShape, schema);
      if (units > 0)
        this.add(schema.name, { index: index.name, lsi: index.kind === 'LSI' }, 'Write', units * factor);
    }
  }

  /** A write whose condition failed: the table pays for the write it would have made; no index changed. */
  failedWrite(table: string, before: Item | undefined, after: Item | undefined, transactional = false): void {
    this.add(table, {}, 'Write', writeUnits(itemSize(before), itemSize(after)) * (transactional ? 2 : 1));
  }

  /** Everything one table consumed, as DynamoDB writes it with ReturnConsumedCapacity=INDEXES. */
  consumed(table: string, style: ConsumedStyle = {}): ConsumedJson & Json {
    const t = this.of(table);
    const entry = (u: Units, withKinds: boolean) => ({
      ...(withKinds && style.kinds?.includes('Read') ? { ReadCapacityUnits: u.read } : {}),
      ...(withKinds && style.kinds?.includes('Write') ? { WriteCapacityUnits: u.write } : {}),
      CapacityUnits: u.read + u.write,
    });
    const all = [t.table, ...t.gsi.values(), ...t.lsi.values()];
    const total = { read: sum(all.map((u) => u.read)), write: sum(all.map((u) => u.write)) };
    const kinds = entry(total, true);
    // DynamoDB Local's order: the total first, then the split by kind.
    return {
      TableName: table,
      CapacityUnits: kinds.CapacityUnits,
      ...(kinds.ReadCapacityUnits !== undefined ? { ReadCapacityUnits: kinds.ReadCapacityUnits } : {}),
      ...(kinds.WriteCapacityUnits !== undefined ? { WriteCapacityUnits: kinds.WriteCapacityUnits } : {}),
      Table: entry(t.table, style.kindsInTable ?? true),
      ...(t.gsi.size
        ? { GlobalSecondaryIndexes: mapEntries(t.gsi, (u) => entry(u, style.kindsInTable ?? true)) }
        : {}),
      ...(t.lsi.size
        ? { LocalSecondaryIndexes: mapEntries(t.lsi, (u) => entry(u, style.kindsInTable ?? true)) }
        : {}),
    };
  }

  /** Every table's figure, tables in the order they were first charged. */
  all(style: ConsumedStyle = {}): (ConsumedJson & Json)[] {
    return [...this.tables.keys()].map((t) => this.consumed(t, style));
  }
}

/**
 * Which split fields DynamoDB writes besides CapacityUnits: transactions and PartiQL transactions
 * add ReadCapacityUnits and/or WriteCapacityUnits (ConsumedCapacity in the API reference).
 */
export interface ConsumedStyle {
  readonly kinds?: readonly Kind[];
  /** Whether the Table and index entries carry those split fields too. */
  readonly kindsInTable?: boolean;
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

function mapEntries<T>(m: Map<string, Units>, f: (u: Units) => T): Record<string, T> {
  return Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, u]) => [k, f(u)]));
}

/** What a client that asked for TOTAL gets: the totals without the per-table and per-index split. */
export function totalOnly(c: Json): Json {
  return {
    TableName: c.TableName,
    CapacityUnits: c.CapacityUnits,
    ...(c.ReadCapacityUnits !== undefined ? { ReadCapacityUnits: c.ReadCapacityUnits } : {}),
    ...(c.WriteCapacityUnits !== undefined ? { WriteCapacityUnits: c.WriteCapacityUnits } : {}),
  };
}

/** The ConsumedCapacity a client gets for what it asked: INDEXES as is, TOTAL the totals, else none. */
export function asAsked(asked: unknown, consumed: Json | Json[]): Json | Json[] | undefined {
  if (asked === 'INDEXES') return consumed;
  if (asked === 'TOTAL') return Array.isArray(consumed) ? consumed.map(totalOnly) : totalOnly(consumed);
  return undefined;
}

/** The minimum one read of this consistency costs: half a unit eventually consistent, one strong. */
export function minimumRead(consistency: ReadConsistency): number {
  return readUnits(0, consistency);
}
