import { type PatternSnapshot, PatternStats } from '../../instrument/index.js';
import type { AttributionSource } from './attribution.js';
import type { Charge } from './policy.js';

/**
 * What the gate counts per access pattern (the DynamoDB side of a report) and per table and
 * operation (DynamoDB's CloudWatch metrics by name). Every figure here was measured at the gate.
 */
export interface CallRecord {
  readonly pattern: string;
  readonly source: AttributionSource;
  readonly op: string;
  readonly tables: readonly string[];
  /** HTTP status DynamoDB (or the gate, for a throttle) answered. */
  readonly status: number;
  /** DynamoDB's error code (`ConditionalCheckFailedException`, ...), for a non-2xx answer. */
  readonly code?: string;
  /** From the request to the answer, at the gate. */
  readonly latencyMs: number;
  /** The SDK's `amz-sdk-request: attempt=N; max=M`, when it sent one. */
  readonly attempt?: number;
  readonly maxAttempts?: number;
  /** The SDK's `amz-sdk-invocation-id`: the same on every attempt of one request. */
  readonly invocation?: string;
  /** DynamoDB's throttling reason, when the gate throttled the call. */
  readonly throttleReason?: string;
  readonly charges: readonly Charge[];
  /** Items a read returned (Count of a Query or Scan, 0 or 1 for GetItem, the items of a batch). */
  readonly items?: number;
}

/**
 * Units one partition key took on one table or GSI, per pattern: what a forecast scales up to find
 * the key that reaches DynamoDB's per-partition limit first.
 */
export interface KeyLoad {
  readonly table: string;
  readonly index: string | null;
  readonly kind: 'read' | 'write';
  readonly partitionKey: string;
  /** By pattern id: units consumed on this key since the reset. */
  readonly units: Record<string, number>;
}

/** How one pattern's units on one table or GSI spread over partition keys. */
export interface KeySpread {
  readonly pattern: string;
  readonly table: string;
  readonly index: string | null;
  readonly kind: 'read' | 'write';
  /** Distinct partition keys seen (at most KEYS_PER_TARGET; `truncated` says more were). */
  readonly keys: number;
  /** Units that named a partition key (a Scan's do not). */
  readonly keyedUnits: number;
  /**
   * Times a call named a partition key: a transaction or batch names several per call, so "a new key
   * every time" is keys >= touches, not keys >= calls. Absent in reports written before it.
   */
  readonly touches?: number;
  readonly truncated: boolean;
}

/**
 * Partition keys counted one by one per pattern and target; past this many, a new key's units are
 * counted together (a key first seen that late cannot be named). Bounded so that a long run with
 * millions of user ids keeps a flat memory.
 */
export const KEYS_PER_TARGET = 10_000;

interface KeyCounter {
  readonly table: string;
  readonly payer: string;
  readonly kind: 'read' | 'write';
  readonly units: Map<string, number>;
  overflow: number;
  touches: number;
}

/** One pattern, DynamoDB side: the instrument's snapshot shape (so the report and timeline read both) and more. */
export interface GatePatternSnapshot extends PatternSnapshot {
  readonly source: AttributionSource;
  readonly operations: string[];
  readonly tables: string[];
  /** Non-2xx answers by DynamoDB error code (throttles included). */
  readonly errorCodes: Record<string, number>;
  readonly throttleReasons: Record<string, number>;
  readonly items: number;
  /**
   * Calls DynamoDB answered: `count` less the attempts the gate throttled. A throttled request
   * consumes no capacity (Developer Guide, "Read/write capacity mode": throttling prevents the
   * application from consuming too many capacity units), so units per call divide by these.
   */
  readonly answered: number;
}

export interface GateMetric {
  name: string;
  dimensions: Record<string, string>;
  sum: number;
  count: number;
  max?: number;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** `shop` for the table itself, `shop/GSI1` for an index: how capacity per pattern is keyed. */
export function targetKey(table: string, target: string): string {
  return target === 'table' ? table : `${table}/${target}`;
}

/** Throttled requests held open for a retry at most this many per pattern, and this long. */
const PENDING_MAX = 10_000;
const PENDING_SETTLE_MS = 60_000;

/**
 * A pattern at the gate: the instrument's counters (calls, errors, throttles, retries, capacity per
 * target, latency sketch), fed one sample per call, and what only the gate sees on the wire.
 */
class PatternCounters {
  private readonly stats = new PatternStats();
  private items = 0;
  private answered = 0;
  /**
   * Requests (by invocation id) whose latest attempt was throttled, by when: each failed throttled
   * unless another attempt of it comes. Its attempt header cannot say so: botocore's first try says
   * `attempt=1` with no max, and an SDK whose retry quota ran out under throttling stops before its
   * max. Past PENDING_MAX, or PENDING_SETTLE_MS old (longer than any SDK's backoff), one is counted
   * for good and forgotten, so memory stays flat.
   */
  private readonly pending = new Map<string, number>();
  private settledThrottled = 0;
  private readonly operations = new Set<string>();
  private readonly tables = new Set<string>();
  private readonly codes = new Map<string, number>();
  private readonly reasons = new Map<string, number>();
  readonly keys = new Map<string, KeyCounter>();

  constructor(readonly source: AttributionSource) {}

  private addKeys(c: Charge): void {
    if (!c.partitions) return;
    const kind = c.kind === 'Read' ? 'read' : 'write';
    const id = `${c.table}\u0000${c.partitions.payer}\u0000${kind}`;
    let k = this.keys.get(id);
    if (!k) {
      k = { table: c.table, payer: c.partitions.payer, kind, units: new Map(), overflow: 0, touches: 0 };
      this.keys.set(id, k);
    }
    k.touches += c.partitions.keys.length;
    for (const { pk, units } of c.partitions.keys) {
      const had = k.units.get(pk);
      if (had !== undefined) k.units.set(pk, had + units);
      else if (k.units.size < KEYS_PER_TARGET) k.units.set(pk, units);
      else k.overflow += units;
    }
  }

  add(r: CallRecord, now: number): void {
    const ok = r.status >= 200 && r.status < 300;
    const tracked = r.invocation !== undefined;
    if (tracked) {
      this.pending.delete(r.invocation as string);
      if (r.throttleReason !== undefined) this.pending.set(r.invocation as string, now);
      this.settle(now);
    }
    this.stats.add({
      pattern: r.pattern,
      latencyMs: r.latencyMs,
      ok,
      throttleEvents: r.throttleReason ? 1 : 0,
      // With an invocation id, `pending` above counts it. Without one: the client's last try, as its
      // attempt header says (attempt=N; max=N), or a client that sends no header (no retries): the
      // request failed throttled. A transaction cancelled for throttling is never retried by the
      // SDKs (TransactionCanceledException is not a retryable error): its first try is its last.
      throttled:
        !tracked &&
        r.throttleReason !== undefined &&
        (r.code === 'TransactionCanceledException' ||
          r.attempt === undefined ||
          (r.maxAttempts !== undefined && r.attempt >= r.maxAttempts)),
      retries: r.attempt !== undefined && r.attempt > 1 ? 1 : 0,
      capacity: r.charges.map((c) => ({
        target: targetKey(c.table, c.target),
        rcu: c.kind === 'Read' ? c.units : 0,
        wcu: c.kind === 'Write' ? c.units : 0,
      })),
    });
    for (const c of r.charges) this.addKeys(c);
    this.operations.add(r.op);
    for (const t of r.tables) this.tables.add(t);
    if (!ok) {
      const code = r.code ?? `HTTP ${r.status}`;
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
    if (r.throttleReason) this.reasons.set(r.throttleReason, (this.reasons.get(r.throttleReason) ?? 0) + 1);
    else this.answered += 1;
    this.items += r.items ?? 0;
  }

  private settle(now: number): void {
    for (const [id, at] of this.pending) {
      if (this.pending.size <= PENDING_MAX && now - at < PENDING_SETTLE_MS) break;
      this.pending.delete(id);
      this.settledThrottled += 1;
    }
  }

  snapshot(): GatePatternSnapshot {
    const base = this.stats.snapshot();
    return {
      ...base,
      // A request still pending at a snapshot taken after the load (the report's) failed throttled;
      // during the load, one of them may yet be retried and succeed.
      throttledRequests: base.throttledRequests + this.settledThrottled + this.pending.size,
      source: this.source,
      operations: [...this.operations].sort(),
      tables: [...this.tables].sort(),
      errorCodes: Object.fromEntries(this.codes),
      throttleReasons: Object.fromEntries(this.reasons),
      items: this.items,
      answered: this.answered,
    };
  }
}

interface OperationCounters {
  throttled: number;
  latency: { sum: number; count: number; max: number };
}

export class GateStats {
  private patterns = new Map<string, PatternCounters>();
  private operations = new Map<string, OperationCounters>();
  private started: number;

  constructor(private readonly clock: () => number) {
    this.started = clock();
  }

  reset(): void {
    this.patterns = new Map();
    this.operations = new Map();
    this.started = this.clock();
  }

  get since(): number {
    return this.started;
  }

  record(r: CallRecord): void {
    let p = this.patterns.get(r.pattern);
    if (!p) {
      p = new PatternCounters(r.source);
      this.patterns.set(r.pattern, p);
    }
    p.add(r, this.clock());
    for (const table of r.tables) {
      const key = `${table}\u0000${r.op}`;
      let o = this.operations.get(key);
      if (!o) {
        o = { throttled: 0, latency: { sum: 0, count: 0, max: 0 } };
        this.operations.set(key, o);
      }
      if (r.throttleReason) o.throttled += 1;
      else if (r.status >= 200 && r.status < 300) {
        o.latency.sum += r.latencyMs;
        o.latency.count += 1;
        o.latency.max = Math.max(o.latency.max, r.latencyMs);
      }
    }
  }

  patternSnapshots(): Record<string, GatePatternSnapshot> {
    const out: Record<string, GatePatternSnapshot> = {};
    for (const [id, p] of this.patterns) out[id] = p.snapshot();
    return out;
  }

  /**
   * The busiest partition keys: per table or GSI and kind, the `perTarget` keys that took the most
   * units over all patterns, and each pattern's own `perPattern` busiest, each with every pattern's
   * units on it (so any mix of the patterns can be weighed).
   */
  keyLoad(perTarget = 10, perPattern = 3): { keys: KeyLoad[]; spread: KeySpread[] } {
    const byTarget = new Map<
      string,
      {
        table: string;
        payer: string;
        kind: 'read' | 'write';
        totals: Map<string, number>;
        picked: Set<string>;
      }
    >();
    const spread: KeySpread[] = [];
    const top = (m: Map<string, number>, n: number) =>
      [...m]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, n)
        .map(([pk]) => pk);
    for (const [pattern, p] of this.patterns) {
      for (const [id, k] of p.keys) {
        let t = byTarget.get(id);
        if (!t) {
          t = { table: k.table, payer: k.payer, kind: k.kind, totals: new Map(), picked: new Set() };
          byTarget.set(id, t);
        }
        let keyed = k.overflow;
        for (const [pk, u] of k.units) {
          t.totals.set(pk, (t.totals.get(pk) ?? 0) + u);
          keyed += u;
        }
        for (const pk of top(k.units, perPattern)) t.picked.add(pk);
        spread.push({
          pattern,
          table: k.table,
          index: k.payer === 'table' ? null : k.payer,
          kind: k.kind,
          keys: k.units.size,
          keyedUnits: round(keyed),
          touches: k.touches,
          truncated: k.overflow > 0,
        });
      }
    }
    const keys: KeyLoad[] = [];
    for (const [id, t] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
      for (const pk of top(t.totals, perTarget)) t.picked.add(pk);
      for (const pk of [...t.picked].sort((a, b) => (t.totals.get(b) ?? 0) - (t.totals.get(a) ?? 0))) {
        const units: Record<string, number> = {};
        for (const [pattern, p] of this.patterns) {
          const u = p.keys.get(id)?.units.get(pk);
          if (u !== undefined && u > 0) units[pattern] = round(u);
        }
        keys.push({
          table: t.table,
          index: t.payer === 'table' ? null : t.payer,
          kind: t.kind,
          partitionKey: pk,
          units,
        });
      }
    }
    return { keys, spread };
  }

  /** ThrottledRequests and SuccessfulRequestLatency per table and operation, as CloudWatch names them. */
  operationMetrics(): GateMetric[] {
    const out: GateMetric[] = [];
    for (const [key, o] of this.operations) {
      const [table = '', op = ''] = key.split('\u0000');
      const dimensions = { TableName: table, Operation: op };
      out.push({ name: 'ThrottledRequests', dimensions, sum: o.throttled, count: 1 });
      if (o.latency.count > 0) {
        out.push({
          name: 'SuccessfulRequestLatency',
          dimensions,
          sum: round(o.latency.sum),
          count: o.latency.count,
          max: round(o.latency.max),
        });
      }
    }
    return out;
  }
}
