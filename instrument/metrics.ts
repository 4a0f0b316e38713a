import { createRequire } from 'node:module';
import { DDSketch } from '@datadog/sketches-js';

/**
 * Per-access-pattern counters and a mergeable latency sketch (DDSketch, 1 % relative accuracy),
 * so the numbers of many app instances, workers or runs add up exactly. An app that wants its own
 * per-pattern numbers (for CloudWatch on AWS, where no capacity gate stands in front of DynamoDB)
 * records one `OperationSample` per logical operation; the toolkit's client stats, the gate and the
 * report use the same sketches.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** Capacity consumed on one target: the base table ("table") or a GSI by name. */
export interface CapacityUse {
  readonly target: string;
  readonly rcu: number;
  readonly wcu: number;
}

/** What one logical operation of a pattern cost, as recorded by the instrumented path. */
export interface OperationSample {
  readonly pattern: string;
  readonly latencyMs: number;
  readonly ok: boolean;
  /** Throttle errors seen on any attempt, including ones the SDK retried away. */
  readonly throttleEvents: number;
  /** The operation failed because of throttling after every retry. */
  readonly throttled: boolean;
  readonly retries: number;
  readonly capacity: readonly CapacityUse[];
}

export interface PatternSnapshot {
  readonly count: number;
  readonly errors: number;
  readonly throttleEvents: number;
  readonly throttledRequests: number;
  readonly retries: number;
  readonly rcu: number;
  readonly wcu: number;
  readonly capacity: Record<string, { rcu: number; wcu: number }>;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** The latency sketch, portable: merge it with `mergeSketches`. */
  readonly sketch: SerializedSketch;
}

export interface MetricsSnapshot {
  readonly since: string;
  readonly at: string;
  readonly patterns: Partial<Record<string, PatternSnapshot>>;
}

/** One pattern's counters: what the app records per operation, and the gate per DynamoDB call. */
export class PatternStats {
  count = 0;
  errors = 0;
  throttleEvents = 0;
  throttledRequests = 0;
  retries = 0;
  readonly capacity = new Map<string, { rcu: number; wcu: number }>();
  readonly latency = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });

  add(s: OperationSample): void {
    this.count += 1;
    if (!s.ok) this.errors += 1;
    this.throttleEvents += s.throttleEvents;
    if (s.throttled) this.throttledRequests += 1;
    this.retries += s.retries;
    for (const c of s.capacity) {
      const cur = this.capacity.get(c.target) ?? { rcu: 0, wcu: 0 };
      cur.rcu += c.rcu;
      cur.wcu += c.wcu;
      this.capacity.set(c.target, cur);
    }
    // DDSketch cannot hold 0 in its log buckets' relative guarantee; it counts zeros apart, which is fine.
    this.latency.accept(Math.max(0, s.latencyMs));
  }

  snapshot(): PatternSnapshot {
    let rcu = 0;
    let wcu = 0;
    const capacity: Record<string, { rcu: number; wcu: number }> = {};
    for (const [target, c] of this.capacity) {
      capacity[target] = { rcu: round(c.rcu), wcu: round(c.wcu) };
      rcu += c.rcu;
      wcu += c.wcu;
    }
    return {
      count: this.count,
      errors: this.errors,
      throttleEvents: this.throttleEvents,
      throttledRequests: this.throttledRequests,
      retries: this.retries,
      rcu: round(rcu),
      wcu: round(wcu),
      capacity,
      latencyMs: quantiles(this.latency),
      sketch: encodeSketch(this.latency),
    };
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

export function quantiles(sketch: DDSketch): PatternSnapshot['latencyMs'] {
  if (sketch.count === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const q = (x: number) => round(sketch.getValueAtQuantile(x));
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: round(sketch.max) };
}

/**
 * DDSketch's protobuf (base64) plus the summary it does not carry (min, max, sum, count are lost by
 * `fromProto`), so a decoded sketch still knows its maximum.
 */
export interface SerializedSketch {
  readonly proto: string;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
}

/** The parts of the library's protobuf messages read here (proto/compiled.d.ts has them all). */
interface ProtoStore {
  contiguousBinCounts?: number[] | null;
  contiguousBinIndexOffset?: number | null;
}
interface ProtoMapping {
  gamma?: number | null;
  indexOffset?: number | null;
  interpolation?: number | null;
}
interface ProtoSketch {
  mapping?: ProtoMapping | null;
  positiveValues?: ProtoStore | null;
  negativeValues?: ProtoStore | null;
  zeroCount?: number | null;
}
interface ProtoCodec {
  create(message: ProtoSketch): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): ProtoSketch;
}

/**
 * The library's protobuf codec, loaded once. Its own toProto/fromProto call require() for it on
 * every sketch, which dominated merging 1,000 workers' results (under tsx each require() goes
 * through its resolver): encoding and merging here use the codec directly, with the same bytes.
 */
const codec = (
  createRequire(import.meta.url)('@datadog/sketches-js/dist/ddsketch/proto/compiled') as {
    DDSketch: ProtoCodec;
  }
).DDSketch;
/** The index mapping every sketch made here has (SKETCH_RELATIVE_ACCURACY), as its message. */
const MAPPING = codec.decode(new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).toProto())
  .mapping as ProtoMapping;

const sameMapping = (m: ProtoMapping | null | undefined) =>
  m?.gamma === MAPPING.gamma &&
  (m?.indexOffset ?? 0) === (MAPPING.indexOffset ?? 0) &&
  (m?.interpolation ?? 0) === (MAPPING.interpolation ?? 0);

function toProto(sketch: DDSketch): Uint8Array {
  if (sketch.mapping.gamma !== MAPPING.gamma) return sketch.toProto();
  const store = (s: DDSketch['store']): ProtoStore => ({
    contiguousBinCounts: s.bins,
    contiguousBinIndexOffset: s.offset,
  });
  const message = codec.create({
    mapping: MAPPING,
    positiveValues: store(sketch.store),
    negativeValues: store(sketch.negativeStore),
    zeroCount: sketch.zeroCount,
  });
  return codec.encode(message).finish();
}

export function encodeSketch(sketch: DDSketch): SerializedSketch {
  return {
    proto: Buffer.from(toProto(sketch)).toString('base64'),
    count: sketch.count,
    min: sketch.count > 0 ? sketch.min : 0,
    max: sketch.count > 0 ? sketch.max : 0,
    sum: sketch.sum,
  };
}

function addBins(store: DDSketch['store'], proto: ProtoStore | null | undefined): void {
  const bins = proto?.contiguousBinCounts;
  if (!bins) return;
  const offset = proto?.contiguousBinIndexOffset ?? 0;
  for (let i = 0; i < bins.length; i += 1) {
    const n = bins[i] as number;
    if (n > 0) store.add(offset + i, n);
  }
}

/**
 * Adds a serialized sketch into `into` (a sketch of SKETCH_RELATIVE_ACCURACY) straight from its
 * message, no sketch built for it; false (nothing added) when its mapping is another one.
 */
function addSerialized(into: DDSketch, s: SerializedSketch): boolean {
  if (s.count === 0) return true;
  const message = codec.decode(Buffer.from(s.proto, 'base64'));
  if (!sameMapping(message.mapping)) return false;
  addBins(into.store, message.positiveValues);
  addBins(into.negativeStore, message.negativeValues);
  into.zeroCount += message.zeroCount ?? 0;
  into.count += s.count;
  into.sum += s.sum;
  into.min = Math.min(into.min, s.min);
  into.max = Math.max(into.max, s.max);
  return true;
}

/** The library's own decode, for a sketch of another mapping: min, max, sum and count put back. */
function decodeOther(serialized: SerializedSketch): DDSketch {
  const sketch = DDSketch.fromProto(Buffer.from(serialized.proto, 'base64'));
  if (serialized.count > 0) {
    sketch.min = serialized.min;
    sketch.max = serialized.max;
  }
  sketch.sum = serialized.sum;
  sketch.count = serialized.count;
  return sketch;
}

export function decodeSketch(serialized: SerializedSketch): DDSketch {
  const sketch = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  return addSerialized(sketch, serialized) ? sketch : decodeOther(serialized);
}

/** Merge serialized sketches into one; the quantiles of the result are those of all samples. */
export function mergeSketches(serialized: readonly SerializedSketch[]): DDSketch {
  const merged = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  for (const s of serialized) if (!addSerialized(merged, s)) merged.merge(decodeOther(s));
  return merged;
}

export type SampleListener = (sample: OperationSample) => void;

export class PatternMetrics {
  private stats = new Map<string, PatternStats>();
  private since: Date;
  private readonly listeners: SampleListener[] = [];

  constructor(private readonly clock: () => Date = () => new Date()) {
    this.since = clock();
  }

  record(sample: OperationSample): void {
    let s = this.stats.get(sample.pattern);
    if (!s) {
      s = new PatternStats();
      this.stats.set(sample.pattern, s);
    }
    s.add(sample);
    for (const l of this.listeners) l(sample);
  }

  onSample(listener: SampleListener): void {
    this.listeners.push(listener);
  }

  snapshot(): MetricsSnapshot {
    const patterns: Partial<Record<string, PatternSnapshot>> = {};
    for (const [id, s] of this.stats) patterns[id] = s.snapshot();
    return { since: this.since.toISOString(), at: this.clock().toISOString(), patterns };
  }

  /** Start a new window: a load run resets before it starts so the numbers are its own. */
  reset(): void {
    this.stats = new Map();
    this.since = this.clock();
  }
}
