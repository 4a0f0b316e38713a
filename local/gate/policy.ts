import { TokenBucket } from './bucket.js';
import type { Access, Kind } from './protocol.js';
import type { TableSchema } from './schema.js';

/**
 * The throttle policy: DynamoDB's capacity rules for every table the gate knows, with no HTTP in
 * sight (the clock is injected, so tests move time by hand).
 *
 * - provisioned: a token bucket per table and per GSI at its RCU/WCU, keeping up to 300 s of unused
 *   capacity as burst; a GSI short of write capacity throttles the base-table write;
 * - on-demand: the table's warm throughput (a new table: 12,000 read / 4,000 write units a second,
 *   more when `warm` says so) or twice the previous peak, a peak counting as "previous" once it is
 *   30 minutes old ("DynamoDB on-demand capacity mode", "Initial throughput and scaling properties":
 *   throttling can occur if you exceed double your previous peak within 30 minutes); capped by an
 *   optional maximum throughput and by the per-table quota (40,000 units a second, "Quotas in
 *   Amazon DynamoDB", applied to the table and to each GSI);
 * - per partition key: 3,000 RCU / 1,000 WCU a second, whatever the table has.
 * A request is admitted while its buckets are above zero and charged what it consumed afterwards.
 */
export interface Capacity {
  readonly read: number;
  readonly write: number;
}

/** Capacity for one table (and its GSIs). */
export interface TableCapacity {
  readonly mode?: 'provisioned' | 'on-demand';
  readonly table?: Capacity;
  readonly indexes?: Readonly<Record<string, Capacity>>;
  /** On-demand maximum throughput, per second. */
  readonly maxRead?: number;
  readonly maxWrite?: number;
  /** On-demand: what the table (and each GSI) takes at once before any peak (WarmThroughput). */
  readonly warm?: Capacity;
  /** On-demand: how old a peak must be before twice it is allowed (default 1,800 s). */
  readonly peakWindowSeconds?: number;
  /** On-demand: the account's per-table throughput quota (default 40,000 units a second). */
  readonly quota?: Capacity;
}

/** What the gate enforces: the top level for every table, `tables` per table on top of it. */
export interface GateCapacity extends TableCapacity {
  readonly tables?: Readonly<Record<string, TableCapacity>>;
}

/** One table's capacity after defaults: the table's own billing, then the config's. */
export interface ResolvedCapacity {
  readonly mode: 'provisioned' | 'on-demand';
  readonly table: Capacity;
  readonly indexes: Readonly<Record<string, Capacity>>;
  readonly maxRead?: number;
  readonly maxWrite?: number;
  /** On-demand only. */
  readonly warm?: Capacity;
  readonly peakWindowSeconds?: number;
  readonly quota?: Capacity;
}

export const PARTITION_LIMIT: Capacity = { read: 3000, write: 1000 };
export const ON_DEMAND_INITIAL: Capacity = { read: 12_000, write: 4_000 };
export const BURST_SECONDS = 300;
export const PEAK_WINDOW_SECONDS = 30 * 60;
export const TABLE_QUOTA: Capacity = { read: 40_000, write: 40_000 };
export const DEFAULT_PROVISIONED: Capacity = { read: 5, write: 5 };

export type Reason =
  | 'ProvisionedThroughputExceeded'
  | 'KeyRangeThroughputExceeded'
  | 'MaxOnDemandThroughputExceeded'
  | 'AccountLimitExceeded';

/** DynamoDB's name for a throttle: `<Table|Index><Read|Write><limit>`, e.g. TableWriteKeyRangeThroughputExceeded. */
export function throttleLabel(index: boolean, kind: Kind, reason: Reason): string {
  return `${index ? 'Index' : 'Table'}${kind}${reason}`;
}

export function resolveCapacity(schema: TableSchema, capacity: GateCapacity): ResolvedCapacity {
  const own = capacity.tables?.[schema.name] ?? {};
  // A table's units mean provisioned mode unless a mode is named: an on-demand table has none.
  const mode =
    own.mode ?? capacity.mode ?? ((own.table ?? capacity.table) ? 'provisioned' : schema.billing.mode);
  const fromSchema = schema.billing.mode === 'provisioned' ? schema.billing : undefined;
  const set = own.table ?? capacity.table;
  const table = set ?? fromSchema ?? DEFAULT_PROVISIONED;
  const indexes: Record<string, Capacity> = {};
  for (const i of schema.indexes) {
    if (i.kind !== 'GSI') continue;
    // A GSI takes what it is given by name, else the table's capacity as set, else its own.
    indexes[i.name] = own.indexes?.[i.name] ??
      capacity.indexes?.[i.name] ??
      (set ? table : undefined) ??
      i.provisioned ?? { read: table.read, write: table.write };
  }
  const onDemandMax: { maxRead?: number; maxWrite?: number } =
    schema.billing.mode === 'on-demand' ? schema.billing : {};
  const maxRead = own.maxRead ?? capacity.maxRead ?? onDemandMax.maxRead;
  const maxWrite = own.maxWrite ?? capacity.maxWrite ?? onDemandMax.maxWrite;
  const warm = own.warm ?? capacity.warm ?? schema.warm;
  const peakWindowSeconds = own.peakWindowSeconds ?? capacity.peakWindowSeconds;
  const quota = own.quota ?? capacity.quota;
  return {
    mode,
    table: { read: table.read, write: table.write },
    indexes,
    ...(maxRead !== undefined ? { maxRead } : {}),
    ...(maxWrite !== undefined ? { maxWrite } : {}),
    ...(mode === 'on-demand' && warm ? { warm } : {}),
    ...(mode === 'on-demand' && peakWindowSeconds !== undefined ? { peakWindowSeconds } : {}),
    ...(mode === 'on-demand' && quota ? { quota } : {}),
  };
}

/** A table or a GSI: its buckets and what it consumed and refused. */
class Target {
  readonly read: TokenBucket;
  readonly write: TokenBucket;
  consumed = { Read: 0, Write: 0 };
  throttles = { Read: 0, Write: 0 };
  readonly reasons = new Map<string, number>();
  // On-demand: this second's running total, and each second that set a new peak (rising).
  private second = { at: -1, Read: 0, Write: 0 };
  private readonly peaks: Record<Kind, { at: number; units: number }[]> = { Read: [], Write: [] };

  constructor(
    private readonly capacity: ResolvedCapacity,
    readonly provisioned: Capacity,
    now: number,
  ) {
    const rate = (k: Kind) =>
      capacity.mode === 'provisioned'
        ? provisioned[k === 'Read' ? 'read' : 'write']
        : this.ceiling(k, now).units;
    const burst = (k: Kind) => (capacity.mode === 'provisioned' ? rate(k) * BURST_SECONDS : rate(k));
    this.read = new TokenBucket(rate('Read'), burst('Read'), now);
    this.write = new TokenBucket(rate('Write'), burst('Write'), now);
  }

  /** The highest second that is at least the peak window old: the "previous peak". */
  private previousPeak(kind: Kind, now: number): number {
    const window = (this.capacity.peakWindowSeconds ?? PEAK_WINDOW_SECONDS) * 1000;
    let peak = 0;
    for (const p of this.peaks[kind]) if (p.at * 1000 + 1000 <= now - window) peak = Math.max(peak, p.units);
    return peak;
  }

  /** On-demand: what this target takes a second now, and which limit sets it. */
  private ceiling(kind: Kind, now: number): { units: number; reason: Reason } {
    const pick = (c: Capacity | undefined) => (c ? (kind === 'Read' ? c.read : c.write) : undefined);
    const warm = pick(this.capacity.warm) ?? pick(ON_DEMAND_INITIAL) ?? 0;
    const scaled = Math.max(warm, 2 * this.previousPeak(kind, now));
    const quota = pick(this.capacity.quota) ?? pick(TABLE_QUOTA) ?? Number.POSITIVE_INFINITY;
    const max = kind === 'Read' ? this.capacity.maxRead : this.capacity.maxWrite;
    // A table past what its partitions serve today is throttled per partition (key range); the
    // quota and a configured maximum have reasons of their own.
    let limit: { units: number; reason: Reason } = { units: scaled, reason: 'KeyRangeThroughputExceeded' };
    if (quota < limit.units) limit = { units: quota, reason: 'AccountLimitExceeded' };
    if (max !== undefined && max <= limit.units)
      limit = { units: max, reason: 'MaxOnDemandThroughputExceeded' };
    return limit;
  }

  bucket(kind: Kind): TokenBucket {
    return kind === 'Read' ? this.read : this.write;
  }

  /** Why this target would throttle now, if it would. */
  refuses(kind: Kind, now: number): Reason | undefined {
    const b = this.bucket(kind);
    if (this.capacity.mode === 'provisioned')
      return b.admits(now) ? undefined : 'ProvisionedThroughputExceeded';
    const c = this.ceiling(kind, now);
    if (c.units !== b.rate) {
      b.available(now);
      b.rate = c.units;
      b.burst = c.units;
    }
    return b.admits(now) ? undefined : c.reason;
  }

  charge(kind: Kind, units: number, now: number): void {
    this.bucket(kind).take(units, now);
    this.consumed[kind] += units;
    if (this.capacity.mode !== 'on-demand') return;
    const sec = Math.floor(now / 1000);
    if (sec !== this.second.at) this.second = { at: sec, Read: 0, Write: 0 };
    this.second[kind] += units;
    const peaks = this.peaks[kind];
    const last = peaks[peaks.length - 1];
    if (!last || this.second[kind] > last.units) {
      if (last?.at === sec) last.units = this.second[kind];
      else peaks.push({ at: sec, units: this.second[kind] });
    }
  }
}

interface Partition {
  read: TokenBucket;
  write: TokenBucket;
  rcu: number;
  wcu: number;
  throttles: number;
}

interface TableState {
  readonly schema: TableSchema;
  readonly capacity: ResolvedCapacity;
  readonly targets: Map<string, Target>;
}

/** Units charged to one table or index, as the stats record them. */
export interface Charge {
  readonly table: string;
  readonly target: string;
  readonly kind: Kind;
  readonly units: number;
  /**
   * The partition keys that paid, with their shares of the units: on `payer`, the target whose
   * partitions serve it (the table for an LSI, which lives in its table's partitions). Absent when
   * the request named no partition key there (a Scan spreads over every partition).
   */
  readonly partitions?: { readonly payer: string; readonly keys: readonly KeyShare[] };
}

export interface KeyShare {
  readonly pk: string;
  readonly units: number;
}

/** One ConsumedCapacity entry, as DynamoDB (Local) returns it with ReturnConsumedCapacity=INDEXES. */
export interface ConsumedJson {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<
    string,
    { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }
  >;
  LocalSecondaryIndexes?: Record<
    string,
    { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }
  >;
}

export interface TargetStats {
  table: string;
  index: string | null;
  consumedRcu: number;
  consumedWcu: number;
  readThrottleEvents: number;
  writeThrottleEvents: number;
  throttleReasons: Record<string, number>;
  /** What the gate enforces on it: provisioned units per second, or null on-demand. */
  provisioned: Capacity | null;
}

export interface HotKey {
  table: string;
  index: string | null;
  partitionKey: string;
  rcu: number;
  wcu: number;
  throttleEvents: number;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * A transaction's units by item, for each table or index and kind (`itemShareKey`): what each item
 * consumed there, so the partition keys of one transaction pay what their own items cost.
 */
export type ItemShares = ReadonlyMap<string, ReadonlyMap<number, number>>;

export const itemShareKey = (table: string, target: string, kind: Kind) =>
  `${table}\u0000${target}\u0000${kind}`;

/**
 * Each keyed access's part of its target's units: what its item consumed there over what every item
 * did, or undefined to split evenly when the items' own figures are not known for every access. An
 * item whose key the request does not name (an Update moving a GSI entry) keeps its part off every
 * key, rather than handing it to the keys that are named.
 */
function itemWeights(
  keyed: readonly Access[],
  items: ReadonlyMap<number, number> | undefined,
): number[] | undefined {
  if (!items) return undefined;
  const own = keyed.map((a) => (a.item === undefined ? undefined : (items.get(a.item) ?? 0)));
  if (own.some((u) => u === undefined)) return undefined;
  const total = [...items.values()].reduce((s, x) => s + x, 0);
  if (total <= 0) return undefined;
  // An item reached more than once on this target shares its figure between its accesses.
  const counts = new Map<number, number>();
  for (const a of keyed) counts.set(a.item as number, (counts.get(a.item as number) ?? 0) + 1);
  return keyed.map((a, i) => (own[i] as number) / (counts.get(a.item as number) as number) / total);
}

export class ThrottlePolicy {
  private tables = new Map<string, TableState>();
  private partitions = new Map<string, Partition>();

  constructor(
    private readonly clock: () => number,
    private capacity: GateCapacity,
  ) {}

  /** Forget consumption and refill every bucket (a new run), optionally with new capacity. */
  reset(capacity: GateCapacity = this.capacity): void {
    this.capacity = capacity;
    const schemas = [...this.tables.values()].map((t) => t.schema);
    this.tables = new Map();
    this.partitions = new Map();
    for (const s of schemas) this.learn(s);
  }

  get configured(): GateCapacity {
    return this.capacity;
  }

  /** Adds (or replaces, after an UpdateTable) a table's schema, with fresh buckets. */
  learn(schema: TableSchema): void {
    const now = this.clock();
    const capacity = resolveCapacity(schema, this.capacity);
    const targets = new Map<string, Target>([['table', new Target(capacity, capacity.table, now)]]);
    for (const [name, c] of Object.entries(capacity.indexes)) targets.set(name, new Target(capacity, c, now));
    this.tables.set(schema.name, { schema, capacity, targets });
  }

  forget(table: string): void {
    this.tables.delete(table);
  }

  schema(table: string): TableSchema | undefined {
    return this.tables.get(table)?.schema;
  }

  schemas(): TableSchema[] {
    return [...this.tables.values()].map((t) => t.schema).sort((a, b) => a.name.localeCompare(b.name));
  }

  knows(table: string): boolean {
    return this.tables.has(table);
  }

  capacityOf(table: string): ResolvedCapacity | undefined {
    return this.tables.get(table)?.capacity;
  }

  private target(a: Pick<Access, 'table' | 'target'>): Target | undefined {
    return this.tables.get(a.table)?.targets.get(a.target);
  }

  private partition(table: string, target: string, pk: string): Partition {
    const key = `${table}\u0000${target}\u0000${pk}`;
    let p = this.partitions.get(key);
    if (!p) {
      const now = this.clock();
      p = {
        read: new TokenBucket(PARTITION_LIMIT.read, PARTITION_LIMIT.read, now),
        write: new TokenBucket(PARTITION_LIMIT.write, PARTITION_LIMIT.write, now),
        rcu: 0,
        wcu: 0,
        throttles: 0,
      };
      this.partitions.set(key, p);
    }
    return p;
  }

  /** Whether one partition key would take another request of this kind now. */
  partitionAdmits(a: Access): boolean {
    if (a.pk === undefined) return true;
    const p = this.partition(a.table, a.target, a.pk);
    return (a.kind === 'Read' ? p.read : p.write).admits(this.clock());
  }

  /** The first reason any of the accesses would be throttled now. */
  refusal(accesses: readonly Access[]): { access: Access; reason: Reason } | undefined {
    const now = this.clock();
    for (const a of accesses) {
      const reason = this.target(a)?.refuses(a.kind, now);
      if (reason) return { access: a, reason };
      if (!this.partitionAdmits(a)) return { access: a, reason: 'KeyRangeThroughputExceeded' };
    }
    return undefined;
  }

  /** The first access its table or index refuses as a whole (its capacity), whatever its partition. */
  targetRefusal(accesses: readonly Access[]): { access: Access; reason: Reason } | undefined {
    const now = this.clock();
    for (const a of accesses) {
      const reason = this.target(a)?.refuses(a.kind, now);
      if (reason) return { access: a, reason };
    }
    return undefined;
  }

  /** Counts a throttle event; returns DynamoDB's label for it (e.g. TableWriteKeyRangeThroughputExceeded). */
  countThrottle(a: Access, reason: Reason): string {
    const t = this.target(a);
    const label = throttleLabel(a.target !== 'table', a.kind, reason);
    if (t) {
      t.throttles[a.kind] += 1;
      t.reasons.set(label, (t.reasons.get(label) ?? 0) + 1);
    }
    if (a.pk !== undefined) this.partition(a.table, a.target, a.pk).throttles += 1;
    return label;
  }

  /**
   * Charges what DynamoDB says a request consumed to its table and indexes, and splits each
   * target's units over the partition keys the request touched there: in proportion to what each
   * item consumed when that is known (a transaction's `shares`: a 1 KB slot and a 5 KB booking of
   * one transaction do not cost their keys the same), else evenly.
   */
  charge(accesses: readonly Access[], consumed: ConsumedJson, kind: Kind, shares?: ItemShares): Charge[] {
    const table = consumed.TableName;
    if (!table) return [];
    const now = this.clock();
    const units = (
      c: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined,
      k: Kind,
    ) =>
      c === undefined
        ? 0
        : ((k === 'Read' ? c.ReadCapacityUnits : c.WriteCapacityUnits) ??
          (k === kind ? (c.CapacityUnits ?? 0) : 0));
    // An LSI shares its table's capacity: DynamoDB reports its units apart, the table's bucket pays.
    const split: [string, string, ConsumedJson['Table']][] = [
      ['table', 'table', consumed.Table ?? consumed],
      ...Object.entries(consumed.GlobalSecondaryIndexes ?? {}).map(
        ([name, c]): [string, string, ConsumedJson['Table']] => [name, name, c],
      ),
      ...Object.entries(consumed.LocalSecondaryIndexes ?? {}).map(
        ([name, c]): [string, string, ConsumedJson['Table']] => [name, 'table', c],
      ),
    ];
    const charges: Charge[] = [];
    for (const [target, payer, c] of split) {
      for (const k of ['Read', 'Write'] as const) {
        const u = units(c, k);
        if (u <= 0) continue;
        this.target({ table, target: payer })?.charge(k, u, now);
        const keyed = accesses.filter(
          (a) => a.table === table && a.target === payer && a.pk !== undefined && a.kind === k,
        );
        const keys: KeyShare[] = [];
        const weights = itemWeights(keyed, shares?.get(itemShareKey(table, target, k)));
        for (const [i, a] of keyed.entries()) {
          const share = weights ? u * (weights[i] as number) : u / keyed.length;
          const p = this.partition(table, payer, a.pk as string);
          (k === 'Read' ? p.read : p.write).take(share, now);
          if (k === 'Read') p.rcu += share;
          else p.wcu += share;
          keys.push({ pk: a.pk as string, units: share });
        }
        charges.push({
          table,
          target,
          kind: k,
          units: u,
          ...(keys.length > 0 ? { partitions: { payer, keys } } : {}),
        });
      }
    }
    return charges;
  }

  /** Tables by name, each followed by its GSIs by name: an order that does not depend on timing. */
  targets(): TargetStats[] {
    const out: TargetStats[] = [];
    for (const [table, state] of [...this.tables].sort(([a], [b]) => a.localeCompare(b))) {
      const byName = [...state.targets].sort(([a], [b]) =>
        a === 'table' ? -1 : b === 'table' ? 1 : a.localeCompare(b),
      );
      for (const [target, t] of byName) {
        out.push({
          table,
          index: target === 'table' ? null : target,
          consumedRcu: round(t.consumed.Read),
          consumedWcu: round(t.consumed.Write),
          readThrottleEvents: t.throttles.Read,
          writeThrottleEvents: t.throttles.Write,
          throttleReasons: Object.fromEntries(t.reasons),
          provisioned: state.capacity.mode === 'provisioned' ? t.provisioned : null,
        });
      }
    }
    return out;
  }

  hotKeys(limit = 10): HotKey[] {
    return [...this.partitions.entries()]
      .map(([key, p]) => {
        const [table = '', target = 'table', partitionKey = ''] = key.split('\u0000');
        return {
          table,
          index: target === 'table' ? null : target,
          partitionKey,
          rcu: round(p.rcu),
          wcu: round(p.wcu),
          throttleEvents: p.throttles,
        };
      })
      .sort((a, b) => b.throttleEvents - a.throttleEvents || b.rcu + b.wcu - (a.rcu + a.wcu))
      .slice(0, limit);
  }
}
