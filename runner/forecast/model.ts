import {
  BURST_SECONDS,
  type Capacity,
  exceptionFor,
  ON_DEMAND_INITIAL,
  PARTITION_LIMIT,
  PEAK_WINDOW_SECONDS,
  type Reason,
  type ResolvedCapacity,
  TABLE_QUOTA,
  throttleLabel,
} from '../../local/index.js';
import type { LoadProfile } from '../report/types.js';

/**
 * The forecast: a small run's load, scaled to the rate a team expects, against DynamoDB's limits.
 *
 * Per client request of the scenario, the run measured the units each pattern took on each table
 * and GSI, and on each partition key the gate saw. At `rate` requests a second (with the run's mix
 * of patterns, or another), each of those loads is `rate x units per request`; a limit is reached
 * at `limit / units per request`. The limits are the gate's own (local/gate/policy.ts), so a run
 * through the gate at that rate throttles where the forecast says:
 *
 * - provisioned: the table's or GSI's RCU/WCU, after up to 300 s of unused capacity as burst;
 * - on-demand: the warm throughput (a new table: 12,000 / 4,000) or twice the previous peak, unless
 *   traffic grows no faster than doubling per 30 minutes; a configured maximum; the per-table quota;
 * - per partition key: 3,000 RCU / 1,000 WCU a second, whatever the table has.
 *
 * Pure: no I/O, no clock.
 */

export type Kind = 'read' | 'write';

/** How traffic reaches the rate: at once, or growing by `factor` every `seconds`. */
export type Growth =
  | { readonly kind: 'instant' }
  | { readonly kind: 'rate'; readonly factor: number; readonly seconds: number };

export interface Prices {
  readonly region: string;
  /** On-demand, USD per million read / write request units. */
  readonly readPerMillionUsd: number;
  readonly writePerMillionUsd: number;
  /** Provisioned, USD per RCU-hour / WCU-hour. */
  readonly rcuHourUsd: number;
  readonly wcuHourUsd: number;
}

/** us-east-1 list prices (standard table class): on-demand per million units, provisioned per unit-hour. */
export const DEFAULT_PRICES: Prices = {
  region: 'us-east-1',
  readPerMillionUsd: 0.125,
  writePerMillionUsd: 0.625,
  rcuHourUsd: 0.00013,
  wcuHourUsd: 0.00065,
};

/** Auto scaling's default target: provisioned capacity bought at this share of utilisation. */
export const DEFAULT_UTILIZATION = 0.7;
const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

export interface ForecastOptions {
  /** Client requests a second (the scenario's requests, as the run counted them). */
  readonly rate: number;
  /** Pattern id -> share of the DynamoDB calls (normalised); default the run's own mix. */
  readonly mix?: Readonly<Record<string, number>>;
  readonly growth?: Growth;
  /** On-demand: the requests a second (same mix) the tables served at their previous peak. */
  readonly previousPeak?: number;
  /** By table, over what the run's gate enforced. */
  readonly capacity?: Readonly<Record<string, ResolvedCapacity>>;
  readonly prices?: Prices;
  readonly utilization?: number;
}

export class ForecastError extends Error {
  override name = 'ForecastError';
}

/** One limit: a table or GSI's capacity for a kind, or one partition key's. */
export interface ForecastLimit {
  readonly table: string;
  readonly index: string | null;
  readonly kind: Kind;
  readonly scope: 'table' | 'partition';
  /** The key, for a partition limit. */
  readonly partitionKey: string | null;
  /** What the limit is, in words: "provisioned 100 WCU/s", "per-partition 1,000 WCU/s", ... */
  readonly limit: string;
  readonly unitsPerSecond: number;
  /** Units per client request at the forecast's mix. */
  readonly unitsPerRequest: number;
  /** Client requests a second at which the limit is reached. */
  readonly rate: number;
  /** DynamoDB's throttling reason and exception, as the gate answers them. */
  readonly reason: string;
  readonly exception: string;
  /** At the forecast's rate: units a second asked of it, and seconds of burst before throttling (null: not reached). */
  readonly load: number;
  readonly throttlesAfterSec: number | null;
  /** By pattern: its share of the units on this limit. */
  readonly shares: Record<string, number>;
}

export interface ForecastPattern {
  readonly id: string;
  /** DynamoDB calls a second at the forecast's rate. */
  readonly callsPerSecond: number;
  /** Units a second per table and GSI at the forecast's rate (an LSI's are its table's). */
  readonly targets: { table: string; index: string | null; rcu: number; wcu: number }[];
  /** The key that takes most of this pattern's units, and its share of them on its table or GSI. */
  readonly busiestKey: {
    table: string;
    index: string | null;
    kind: Kind;
    partitionKey: string;
    share: number;
    /** Distinct keys the run saw there (a lower bound when `truncated`). */
    keys: number;
    truncated: boolean;
  } | null;
  /** The first limit this pattern reaches (an index into `limits`), null when none is in sight. */
  readonly firstLimit: number | null;
  /** Client requests a second at which it first throttles, null when it takes no capacity. */
  readonly maxRate: number | null;
  /** maxRate / rate: above 1, headroom; below 1, throttled at the forecast's rate. */
  readonly headroom: number | null;
  readonly throttles: boolean;
}

export interface ForecastCost {
  readonly region: string;
  readonly onDemandMonthlyUsd: number;
  readonly provisionedMonthlyUsd: number;
  /** The provisioned units bought per table and GSI: the load at `utilization`, rounded up. */
  readonly provisioned: { table: string; index: string | null; rcu: number; wcu: number }[];
  readonly utilization: number;
  readonly prices: Prices;
}

export interface Forecast {
  readonly rate: number;
  /** The run's own client request rate, for scale. */
  readonly measuredRate: number | null;
  /** Share of the DynamoDB calls per pattern, as forecast. */
  readonly mix: Record<string, number>;
  readonly growth: string;
  readonly patterns: ForecastPattern[];
  /** Every limit with load on it, the first reached first. */
  readonly limits: ForecastLimit[];
  /** The rate at which the first pattern throttles (null: nothing takes capacity). */
  readonly maxRate: number | null;
  /** The first limit reached: `limits[0]` and the pattern with the largest share of it. */
  readonly first: { pattern: string; limit: number } | null;
  readonly cost: ForecastCost;
  readonly verdict: string;
  readonly assumptions: string[];
  /** What the forecast could not see (keys past the cap, patterns with no key data). */
  readonly notes: string[];
}

export const ASSUMPTIONS = [
  'arrivals spread evenly over each second (no bursts within it)',
  "each pattern costs per call what it cost in the run, and its keys spread as they did in the run (a short run over few keys overstates the busiest key's share; a pattern that took a new key on every call has no hot key)",
  'a hot key is limited at 3,000 RCU / 1,000 WCU a second (DynamoDB does not split a single partition key further)',
  'limits and their burst as the capacity gate enforces them: provisioned keeps 300 s of unused capacity, on-demand and partitions 1 s',
];

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

export function growthLabel(g: Growth): string {
  if (g.kind === 'instant') return 'instant';
  const m = g.seconds / 60;
  return Number.isInteger(m) ? `${g.factor}x/${m}min` : `${g.factor}x/${g.seconds}s`;
}

/** "instant", "2x/30min", "3x/1h", "1.5x/600s". */
export function parseGrowth(text: string): Growth {
  if (text === 'instant') return { kind: 'instant' };
  const m = /^(\d+(?:\.\d+)?)x\/(\d+(?:\.\d+)?)(s|min|h)$/.exec(text.trim());
  const factor = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || !(factor >= 1) || !(n > 0))
    throw new ForecastError(
      `growth "${text}": expected "instant" or "<factor>x/<n>(s|min|h)", e.g. 2x/30min`,
    );
  const seconds = n * (m[3] === 'h' ? 3600 : m[3] === 'min' ? 60 : 1);
  return { kind: 'rate', factor, seconds };
}

/** "checkout=0.2,getProduct=0.8" -> shares (any positive weights; normalised later). */
export function parseMix(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^=]+)=(\d+(?:\.\d+)?)%?$/.exec(part);
    const share = Number(m?.[2]);
    if (!m || !(share >= 0))
      throw new ForecastError(`mix "${part}": expected pattern=share, e.g. checkout=0.2`);
    out[(m[1] ?? '').trim()] = share;
  }
  if (Object.keys(out).length === 0) throw new ForecastError('mix: expected pattern=share,...');
  return out;
}

const pick = (c: Capacity, kind: Kind) => (kind === 'read' ? c.read : c.write);
const unitName = (kind: Kind) => (kind === 'read' ? 'RCU' : 'WCU');
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : String(round(n, 2)));

/** A table's (or GSI's) limit for a kind, in units a second, with the limit's reason and burst. */
function targetLimit(
  c: ResolvedCapacity,
  index: string | null,
  kind: Kind,
  growth: Growth,
  previousPeakUnits: number,
): { units: number; reason: Reason; what: string; burstSeconds: number } {
  const u = unitName(kind);
  if (c.mode === 'provisioned') {
    const own = index === null ? c.table : (c.indexes[index] ?? c.table);
    const units = pick(own, kind);
    return {
      units,
      reason: 'ProvisionedThroughputExceeded',
      what: `provisioned ${fmt(units)} ${u}/s`,
      burstSeconds: BURST_SECONDS,
    };
  }
  const warm = pick(c.warm ?? ON_DEMAND_INITIAL, kind);
  const window = c.peakWindowSeconds ?? PEAK_WINDOW_SECONDS;
  // Traffic growing by at most 2x per peak window never outruns twice the previous peak.
  const keepsUp = growth.kind === 'rate' && growth.factor ** (window / growth.seconds) <= 2 + 1e-9;
  let limit = keepsUp
    ? { units: Number.POSITIVE_INFINITY, reason: 'KeyRangeThroughputExceeded' as Reason, what: '' }
    : previousPeakUnits * 2 > warm
      ? {
          units: previousPeakUnits * 2,
          reason: 'KeyRangeThroughputExceeded' as Reason,
          what: `on-demand twice the previous peak (${fmt(previousPeakUnits * 2)} ${u}/s)`,
        }
      : {
          units: warm,
          reason: 'KeyRangeThroughputExceeded' as Reason,
          what: `on-demand warm throughput ${fmt(warm)} ${u}/s`,
        };
  const quota = pick(c.quota ?? TABLE_QUOTA, kind);
  if (quota < limit.units)
    limit = { units: quota, reason: 'AccountLimitExceeded', what: `per-table quota ${fmt(quota)} ${u}/s` };
  const max = kind === 'read' ? c.maxRead : c.maxWrite;
  if (max !== undefined && max <= limit.units)
    limit = {
      units: max,
      reason: 'MaxOnDemandThroughputExceeded',
      what: `on-demand maximum ${fmt(max)} ${u}/s`,
    };
  return { ...limit, burstSeconds: 1 };
}

/** "orders/byStatus" -> table orders, index byStatus; an LSI folds into its table (same partitions). */
function splitTarget(key: string, capacity: Readonly<Record<string, ResolvedCapacity>>) {
  const slash = key.indexOf('/');
  const table = slash < 0 ? key : key.slice(0, slash);
  const index = slash < 0 ? null : key.slice(slash + 1);
  const gsi = index !== null && capacity[table]?.indexes[index] !== undefined;
  return { table, index: gsi ? index : null };
}

export function forecast(profile: LoadProfile, options: ForecastOptions): Forecast {
  const rate = options.rate;
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new ForecastError(`rate: expected requests per second > 0, got ${rate}`);
  const growth = options.growth ?? { kind: 'instant' };
  const prices = options.prices ?? DEFAULT_PRICES;
  const utilization = options.utilization ?? DEFAULT_UTILIZATION;
  if (!(utilization > 0 && utilization <= 1))
    throw new ForecastError(`utilization: expected 0 < u <= 1, got ${utilization}`);
  if (
    options.previousPeak !== undefined &&
    !(options.previousPeak >= 0 && Number.isFinite(options.previousPeak))
  )
    throw new ForecastError(`previous peak: expected requests per second >= 0, got ${options.previousPeak}`);
  // A negative or NaN price would print a negative or "$NaN" bill as if it were one.
  for (const [name, usd] of Object.entries(prices))
    if (typeof usd === 'number' && !(usd >= 0 && Number.isFinite(usd)))
      throw new ForecastError(`prices.${name}: expected USD >= 0, got ${usd}`);
  const capacity: Record<string, ResolvedCapacity> = { ...profile.capacity, ...(options.capacity ?? {}) };
  const notes: string[] = [];

  // Calls per client request, per pattern: the run's, or the mix's over the same total.
  const patterns = profile.patterns.filter((p) => p.calls > 0);
  const totalCalls = patterns.reduce((n, p) => n + p.calls, 0);
  const requests = profile.requests > 0 ? profile.requests : totalCalls;
  if (profile.requests <= 0) notes.push('the run counted no client requests: the rate counts DynamoDB calls');
  const callsPerRequest = new Map<string, number>(patterns.map((p) => [p.id, p.calls / requests]));
  if (options.mix) {
    const known = new Set(patterns.map((p) => p.id));
    for (const id of Object.keys(options.mix))
      if (!known.has(id))
        throw new ForecastError(
          `mix: no pattern "${id}" in the run (patterns with DynamoDB calls: ${[...known].join(', ') || 'none'})`,
        );
    const sum = Object.values(options.mix).reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new ForecastError('mix: the shares add up to 0');
    // Shares are weights: say so when they do not read as fractions, and which patterns get none.
    if (Math.abs(sum - 1) > 1e-6)
      notes.push(`the mix's shares add up to ${round(sum, 6)}: each pattern takes its share of that total`);
    const left = patterns.filter((p) => options.mix?.[p.id] === undefined).map((p) => p.id);
    if (left.length > 0) notes.push(`the mix gives no calls to ${left.join(', ')}`);
    const perRequest = totalCalls / requests;
    for (const p of patterns) callsPerRequest.set(p.id, ((options.mix[p.id] ?? 0) / sum) * perRequest);
  }
  // A pattern's run totals times this weight are its units per client request: its totals were
  // spent by the calls DynamoDB answered, so per call they divide by those.
  const weight = new Map(
    patterns.map((p) => [p.id, (callsPerRequest.get(p.id) ?? 0) / (p.answered ?? p.calls)]),
  );
  const allCalls = [...callsPerRequest.values()].reduce((a, b) => a + b, 0);

  // Units per request on each table/GSI and kind, by pattern.
  type Acc = { table: string; index: string | null; kind: Kind; perRequest: number; by: Map<string, number> };
  const targets = new Map<string, Acc>();
  const patternTargets = new Map<
    string,
    Map<string, { table: string; index: string | null; rcu: number; wcu: number }>
  >();
  for (const p of patterns) {
    const w = weight.get(p.id) ?? 0;
    const mine = new Map<string, { table: string; index: string | null; rcu: number; wcu: number }>();
    patternTargets.set(p.id, mine);
    for (const [key, units] of Object.entries(p.capacity)) {
      const { table, index } = splitTarget(key, capacity);
      const id = `${table}/${index ?? ''}`;
      const t = mine.get(id) ?? { table, index, rcu: 0, wcu: 0 };
      t.rcu += units.rcu * w * rate;
      t.wcu += units.wcu * w * rate;
      mine.set(id, t);
      for (const kind of ['read', 'write'] as const) {
        const u = (kind === 'read' ? units.rcu : units.wcu) * w;
        if (u <= 0) continue;
        const tk = `${id}/${kind}`;
        const acc = targets.get(tk) ?? { table, index, kind, perRequest: 0, by: new Map() };
        acc.perRequest += u;
        acc.by.set(p.id, (acc.by.get(p.id) ?? 0) + u);
        targets.set(tk, acc);
      }
    }
  }

  const limits: ForecastLimit[] = [];
  const shares = (by: Map<string, number>, total: number) =>
    Object.fromEntries([...by].filter(([, u]) => u > 0).map(([id, u]) => [id, round(u / total, 4)]));
  const previousPeak = options.previousPeak ?? 0;
  for (const t of targets.values()) {
    const c = capacity[t.table];
    if (!c) {
      notes.push(`no capacity known for table ${t.table}: its table limits are not forecast`);
      continue;
    }
    const l = targetLimit(c, t.index, t.kind, growth, previousPeak * t.perRequest);
    if (!Number.isFinite(l.units)) continue;
    limits.push(
      limitRow(
        t,
        null,
        'table',
        l.what,
        l.units,
        l.reason,
        c.mode,
        l.burstSeconds,
        rate,
        shares(t.by, t.perRequest),
      ),
    );
  }

  // A pattern that touched a new key every time (a new id each call) says nothing about which of its
  // keys would be hot: its keys are left out of the per-key limits. Counted against the times it
  // named a key: a transaction of two items names two a call, so 16 calls over 17 of 20 accounts
  // reuse keys. Reports before `touches` have only calls to go by.
  const calls = new Map(patterns.map((p) => [p.id, p.calls]));
  const spreadKey = (pattern: string, table: string, index: string | null, kind: Kind) =>
    `${pattern}\u0000${table}\u0000${index ?? ''}\u0000${kind}`;
  const fresh = new Set(
    profile.keySpread
      .filter(
        (s) =>
          !s.truncated &&
          s.keys > 1 &&
          s.keys >= (s.touches ?? calls.get(s.pattern) ?? Number.POSITIVE_INFINITY),
      )
      .map((s) => spreadKey(s.pattern, s.table, s.index, s.kind)),
  );
  for (const id of new Set(
    profile.keySpread
      .filter((s) => fresh.has(spreadKey(s.pattern, s.table, s.index, s.kind)))
      .map((s) => s.pattern)
      // A pattern the mix gives no calls has no key to forecast: no note.
      .filter((id) => (weight.get(id) ?? 0) > 0),
  ))
    notes.push(`${id} touched a new partition key on every call: none of its keys is forecast hot`);

  // Per partition key: the keys the run saw, each pattern's units there weighed by its calls.
  for (const k of profile.keys) {
    let perRequest = 0;
    const by = new Map<string, number>();
    for (const [id, u] of Object.entries(k.units)) {
      const w = weight.get(id);
      if (w === undefined || u <= 0 || fresh.has(spreadKey(id, k.table, k.index, k.kind))) continue;
      perRequest += u * w;
      by.set(id, u * w);
    }
    if (perRequest <= 0) continue;
    const units = pick(PARTITION_LIMIT, k.kind);
    const mode = capacity[k.table]?.mode ?? 'on-demand';
    limits.push(
      limitRow(
        { table: k.table, index: k.index, kind: k.kind, perRequest },
        k.partitionKey,
        'partition',
        `per-partition ${fmt(units)} ${unitName(k.kind)}/s`,
        units,
        'KeyRangeThroughputExceeded',
        mode,
        1,
        rate,
        shares(by, perRequest),
      ),
    );
  }
  limits.sort((a, b) => a.rate - b.rate || (a.scope === 'partition' ? -1 : 1));
  if (profile.keySpread.some((s) => s.truncated))
    notes.push(
      'some patterns touched more partition keys than the gate names one by one: a key first seen late is not weighed',
    );
  const keyed = new Set(profile.keySpread.map((s) => s.pattern));
  const unkeyed = patterns.filter((p) => !keyed.has(p.id) && (weight.get(p.id) ?? 0) > 0).map((p) => p.id);
  if (unkeyed.length > 0)
    notes.push(
      `no partition key seen for ${unkeyed.join(', ')} (scans, or calls without a key): per-key limits not forecast for them`,
    );
  // A GSI's units with no key the gate saw: an UpdateItem or DeleteItem moves an index entry whose
  // key is in the stored item, not in the request (the gate reads items only around transactions).
  // Those units weigh on some GSI partition the per-key limits cannot name: said, not left silent.
  for (const p of patterns) {
    if ((weight.get(p.id) ?? 0) <= 0 || unkeyed.includes(p.id)) continue;
    for (const [key, units] of Object.entries(p.capacity)) {
      const { table, index } = splitTarget(key, capacity);
      if (index === null) continue;
      for (const [kind, total] of [
        ['read', units.rcu],
        ['write', units.wcu],
      ] as const) {
        const spread = profile.keySpread.find(
          (s) => s.pattern === p.id && s.table === table && s.index === index && s.kind === kind,
        );
        const missing = total - (spread?.keyedUnits ?? 0);
        if (total <= 0 || missing <= total * 0.001) continue;
        notes.push(
          `${p.id}: ${round(missing, 2)} of its ${round(total, 2)} ${kind === 'read' ? 'RCU' : 'WCU'} on ${table}/${index} named no partition key the gate saw (an UpdateItem or DeleteItem changes an index entry whose key is in the stored item): not in that index's per-key limits`,
        );
      }
    }
  }

  const rows: ForecastPattern[] = patterns.map((p) => {
    const mine = limits.findIndex((l) => (l.shares[p.id] ?? 0) > 0);
    const maxRate = mine >= 0 ? (limits[mine]?.rate ?? null) : null;
    const spreads = profile.keySpread.filter((s) => s.pattern === p.id);
    let busiest: ForecastPattern['busiestKey'] = null;
    for (const k of profile.keys) {
      const u = k.units[p.id];
      const s = spreads.find((x) => x.table === k.table && x.index === k.index && x.kind === k.kind);
      if (!u || !s || s.keyedUnits <= 0 || fresh.has(spreadKey(p.id, k.table, k.index, k.kind))) continue;
      const share = u / s.keyedUnits;
      if (!busiest || share > busiest.share)
        busiest = {
          table: k.table,
          index: k.index,
          kind: k.kind,
          partitionKey: k.partitionKey,
          share: round(share, 4),
          keys: s.keys,
          truncated: s.truncated,
        };
    }
    return {
      id: p.id,
      callsPerSecond: round((callsPerRequest.get(p.id) ?? 0) * rate, 3),
      targets: [...(patternTargets.get(p.id)?.values() ?? [])].map((t) => ({
        ...t,
        rcu: round(t.rcu, 3),
        wcu: round(t.wcu, 3),
      })),
      busiestKey: busiest,
      firstLimit: mine >= 0 ? mine : null,
      maxRate: maxRate === null ? null : round(maxRate, 3),
      headroom: maxRate === null ? null : round(maxRate / rate, 4),
      throttles: maxRate !== null && maxRate < rate,
    };
  });

  const first = limits[0];
  const firstPattern = first
    ? Object.entries(first.shares).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0]
    : undefined;
  const cost = costAt(targets, rate, prices, utilization);
  const mix = Object.fromEntries(
    patterns.map((p) => [p.id, allCalls > 0 ? round((callsPerRequest.get(p.id) ?? 0) / allCalls, 4) : 0]),
  );
  const measuredRate =
    profile.durationSec > 0 && profile.requests > 0 ? round(profile.requests / profile.durationSec, 3) : null;
  const result = {
    rate,
    measuredRate,
    mix,
    growth: growthLabel(growth),
    patterns: rows,
    limits: limits.map((l) => ({ ...l, rate: round(l.rate, 3) })),
    maxRate: first ? round(first.rate, 3) : null,
    first: first && firstPattern ? { pattern: firstPattern, limit: 0 } : null,
    cost,
    assumptions: ASSUMPTIONS,
    notes,
  };
  return { ...result, verdict: verdict(result) };
}

function limitRow(
  t: { table: string; index: string | null; kind: Kind; perRequest: number },
  partitionKey: string | null,
  scope: 'table' | 'partition',
  what: string,
  units: number,
  reason: Reason,
  mode: 'provisioned' | 'on-demand',
  burstSeconds: number,
  rate: number,
  shares: Record<string, number>,
): ForecastLimit {
  const at = units / t.perRequest;
  const load = rate * t.perRequest;
  return {
    table: t.table,
    index: t.index,
    kind: t.kind,
    scope,
    partitionKey,
    limit: what,
    unitsPerSecond: units,
    unitsPerRequest: round(t.perRequest),
    rate: at,
    reason: throttleLabel(t.index !== null, t.kind === 'read' ? 'Read' : 'Write', reason),
    exception: exceptionFor(mode, reason, t.index !== null).exception,
    load: round(load, 3),
    // The bucket starts full (burstSeconds of the limit) and drains at the excess.
    throttlesAfterSec: load > units ? round((units * burstSeconds) / (load - units), 1) : null,
    shares,
  };
}

function costAt(
  targets: Map<string, { table: string; index: string | null; kind: Kind; perRequest: number }>,
  rate: number,
  prices: Prices,
  utilization: number,
): ForecastCost {
  let onDemand = 0;
  const bought = new Map<string, { table: string; index: string | null; rcu: number; wcu: number }>();
  for (const t of targets.values()) {
    const perSecond = t.perRequest * rate;
    onDemand +=
      ((perSecond * SECONDS_PER_MONTH) / 1e6) *
      (t.kind === 'read' ? prices.readPerMillionUsd : prices.writePerMillionUsd);
    const id = `${t.table}/${t.index ?? ''}`;
    // A provisioned table or GSI has at least 1 RCU and 1 WCU.
    const b = bought.get(id) ?? { table: t.table, index: t.index, rcu: 1, wcu: 1 };
    // Provisioned capacity is bought in whole units, at least 1.
    const units = Math.max(1, Math.ceil(perSecond / utilization - 1e-9));
    if (t.kind === 'read') b.rcu = units;
    else b.wcu = units;
    bought.set(id, b);
  }
  let provisioned = 0;
  for (const b of bought.values())
    provisioned += (b.rcu * prices.rcuHourUsd + b.wcu * prices.wcuHourUsd) * HOURS_PER_MONTH;
  return {
    region: prices.region,
    onDemandMonthlyUsd: round(onDemand, 2),
    provisionedMonthlyUsd: round(provisioned, 2),
    provisioned: [...bought.values()],
    utilization,
    prices,
  };
}

export const usd = (n: number) =>
  `$${n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : 2 })}`;

/** One line: which pattern throttles first, at what rate, where, and what the rate costs. */
function verdict(f: Omit<Forecast, 'verdict'>): string {
  const costs = `on-demand ${usd(f.cost.onDemandMonthlyUsd)}/month, provisioned ${usd(f.cost.provisionedMonthlyUsd)}/month (${f.cost.region})`;
  const first = f.first ? f.limits[f.first.limit] : undefined;
  if (!f.first || !first) return `no pattern takes DynamoDB capacity: nothing to throttle; ${costs}`;
  const where = `${unitName(first.kind)} on ${first.index ? `${first.table}/${first.index}` : first.table}`;
  const key = first.partitionKey !== null ? `, key ${first.partitionKey}` : '';
  const at = `~${fmt(first.rate)} rps`;
  const state =
    first.rate < f.rate
      ? `throttles at ${at}, below the forecast's ${fmt(f.rate)} rps`
      : `throttles first at ${at} (${round(first.rate / f.rate, 2)}x the forecast's ${fmt(f.rate)} rps)`;
  return `${f.first.pattern} ${state}: ${where}${key}, ${first.limit} (${first.reason}); ${costs}`;
}
