import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DDSketch } from '@datadog/sketches-js';
import {
  decodeSketch,
  quantiles,
  type SerializedSketch,
  SKETCH_RELATIVE_ACCURACY,
} from '../../instrument/index.js';
import type { ClientResult } from '../engine/client-stats.js';
import type { DynamoView, ServerSnapshot } from '../metrics/index.js';

/**
 * The run over time, for the HTML report's charts and the live dashboard: a point every poll (2 s)
 * from the merged client progress, the app's `/__metrics` and the capacity gate, all of which count
 * from the start of the run. Each point holds what happened in its interval, not since the start:
 * counts are differences of the cumulative counters, and latency quantiles are those of the interval's
 * own samples, from the difference of the cumulative DDSketches (bin by bin, so exact to the sketch's
 * 1 % accuracy). Running totals and per-second rates are derived when drawing.
 */
export interface TimelineQuantiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface TimelinePatternPoint {
  /**
   * Client side (Artillery): responses and errors (HTTP >= 400 or none) in the interval. With no client
   * in view (watching `loadtest up` with no run), the app's own count of operations and errors.
   */
  requests: number;
  errors: number;
  /** Client latency of the interval's responses; absent when there were none. */
  latencyMs?: TimelineQuantiles;
  /** DynamoDB side (the gate's counters for the pattern: calls), in the interval; absent without them. */
  serverRequests?: number;
  /** Of those, the calls DynamoDB answered (not throttled): what capacity per call divides by. */
  serverAnswered?: number;
  serverLatencyMs?: TimelineQuantiles;
  rcu?: number;
  wcu?: number;
  throttleEvents?: number;
  throttledRequests?: number;
  retries?: number;
}

/** A table (`shop`) or a GSI (`shop/GSI1`), as the capacity gate (DynamoDB's CloudWatch names) counts it. */
export interface TimelineTargetPoint {
  rcu: number;
  wcu: number;
  readThrottleEvents: number;
  writeThrottleEvents: number;
  /** Provisioned mode only: what the gate enforces, per second. */
  provisionedRcu?: number;
  provisionedWcu?: number;
}

export interface TimelinePoint {
  /** Seconds from the start of the run to the end of this interval. */
  t: number;
  /** Length of the interval in seconds. */
  dt: number;
  /** Client side, every request name. */
  requests: number;
  errors: number;
  /** App side, every pattern: throttle errors seen (including those the SDK retried away). */
  throttleEvents: number;
  patterns: Record<string, TimelinePatternPoint>;
  /** Present when the capacity gate ran. */
  targets?: Record<string, TimelineTargetPoint>;
}

export interface TimelineSample {
  /** The merged client progress so far (cumulative). */
  readonly client?: ClientResult;
  /** The app's counters so far; a `sketch` per pattern (the local app's) gives interval quantiles. */
  readonly server?: ServerSnapshot;
  /** The capacity gate's counters so far. */
  readonly gate?: DynamoView;
}

export interface TimelineOptions {
  /** Milliseconds; injected in tests. */
  readonly clock?: () => number;
  /** When the run started (default: when the recorder is made). */
  readonly startedAt?: number;
  /**
   * Past this many points, neighbours are merged in pairs (counts add; quantiles keep the higher of
   * the two, an upper bound), so a long run's report stays small. 500 points = 16 min at 2 s.
   */
  readonly maxPoints?: number;
}

interface ClientState {
  requests: number;
  errors: number;
  sketch: SerializedSketch;
}
interface ServerState {
  count: number;
  answered: number;
  errors: number;
  rcu: number;
  wcu: number;
  throttleEvents: number;
  throttledRequests: number;
  retries: number;
  sketch?: SerializedSketch;
}
interface TargetState {
  rcu: number;
  wcu: number;
  readThrottleEvents: number;
  writeThrottleEvents: number;
}

const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
/** A counter that went down was reset (a new run on the same app): count from zero again. */
const delta = (now: number, before: number | undefined) => (now >= (before ?? 0) ? now - (before ?? 0) : now);

function hasSketch(p: object): p is { sketch: SerializedSketch } {
  const s = (p as { sketch?: unknown }).sketch;
  return typeof s === 'object' && s !== null && typeof (s as SerializedSketch).proto === 'string';
}

/** Sketch `now` minus sketch `before` (same mapping: both made with the app's accuracy), bin by bin. */
export function subtractSketch(now: DDSketch, before: DDSketch): DDSketch {
  const out = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  const bins = (sketch: DDSketch) => {
    const store = sketch.store;
    const map = new Map<number, number>();
    if (store.count <= 0) return map;
    for (let key = store.minKey; key <= store.maxKey; key += 1) {
      const c = store.bins[key - store.offset] ?? 0;
      if (c > 0) map.set(key, c);
    }
    return map;
  };
  const old = bins(before);
  let count = 0;
  for (const [key, c] of bins(now)) {
    const d = c - (old.get(key) ?? 0);
    if (d > 1e-9) {
      out.store.add(key, d);
      count += d;
    }
  }
  out.zeroCount = Math.max(0, now.zeroCount - before.zeroCount);
  out.count = count + out.zeroCount;
  return out;
}

/** Quantiles of the samples added between two cumulative sketches; undefined if none were. */
export function intervalQuantiles(
  now: SerializedSketch,
  before: SerializedSketch | undefined,
): TimelineQuantiles | undefined {
  const added = now.count - (before?.count ?? 0);
  if (now.count === 0 || added === 0) return undefined;
  // Fewer samples than before: the counters were reset, so `now` is all new.
  const sketch =
    !before || before.count === 0 || added < 0
      ? decodeSketch(now)
      : subtractSketch(decodeSketch(now), decodeSketch(before));
  if (sketch.count <= 0) return undefined;
  const q = quantiles(sketch);
  return { p50: round(q.p50), p95: round(q.p95), p99: round(q.p99) };
}

export class TimelineRecorder {
  private readonly clock: () => number;
  private readonly started: number;
  private last: number;
  private latestClient: ClientResult | undefined;
  private clientState = new Map<string, ClientState>();
  private serverState = new Map<string, ServerState>();
  private targetState = new Map<string, TargetState>();
  private readonly list: TimelinePoint[] = [];
  private readonly maxPoints: number;

  constructor(options: TimelineOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.started = options.startedAt ?? this.clock();
    this.last = this.started;
    this.maxPoints = Math.max(2, options.maxPoints ?? 500);
  }

  /** The latest merged client progress (called on every worker progress message). */
  client(result: ClientResult): void {
    this.latestClient = result;
  }

  /**
   * Takes counters as the starting line without recording a point: for counters that were running
   * before the recorder was (the app of `loadtest up`), whose first values cover an unknown interval.
   */
  baseline(input: TimelineSample): void {
    this.sample(input);
    this.list.pop();
  }

  /** Closes the interval since the last sample and records its point. */
  sample(input: TimelineSample = {}): TimelinePoint {
    const now = this.clock();
    const point: TimelinePoint = {
      t: round((now - this.started) / 1000),
      dt: round(Math.max(0.001, (now - this.last) / 1000)),
      requests: 0,
      errors: 0,
      throttleEvents: 0,
      patterns: {},
    };
    this.last = now;
    const client = input.client ?? this.latestClient;
    const entry = (name: string): TimelinePatternPoint => {
      let p = point.patterns[name];
      if (!p) {
        p = { requests: 0, errors: 0 };
        point.patterns[name] = p;
      }
      return p;
    };

    for (const [name, stats] of Object.entries(client?.byName ?? {})) {
      const before = this.clientState.get(name);
      const p = entry(name);
      p.requests = delta(stats.requests, before?.requests);
      p.errors = delta(stats.errors, before?.errors);
      const latency = intervalQuantiles(stats.latency, before?.sketch);
      if (latency) p.latencyMs = latency;
      point.requests += p.requests;
      point.errors += p.errors;
      this.clientState.set(name, { requests: stats.requests, errors: stats.errors, sketch: stats.latency });
    }

    for (const [name, s] of Object.entries(input.server?.patterns ?? {})) {
      if (!s) continue;
      const before = this.serverState.get(name);
      const reset = s.count < (before?.count ?? 0);
      const d = (now: number, prev: number | undefined) => round(reset ? now : delta(now, prev));
      const p = entry(name);
      p.serverRequests = d(s.count, before?.count);
      p.serverAnswered = d(s.answered ?? s.count, before?.answered);
      if (!client) {
        // No load generator in view (the dashboard watching `loadtest up`): the app's counts stand in.
        p.requests = p.serverRequests;
        p.errors = d(s.errors, before?.errors);
        point.requests += p.requests;
        point.errors += p.errors;
      }
      p.rcu = d(s.rcu, before?.rcu);
      p.wcu = d(s.wcu, before?.wcu);
      p.throttleEvents = d(s.throttleEvents, before?.throttleEvents);
      p.throttledRequests = d(s.throttledRequests, before?.throttledRequests);
      p.retries = d(s.retries, before?.retries);
      const sketch = hasSketch(s) ? s.sketch : undefined;
      if (sketch) {
        const latency = intervalQuantiles(sketch, reset ? undefined : before?.sketch);
        if (latency) p.serverLatencyMs = latency;
      }
      point.throttleEvents += p.throttleEvents;
      this.serverState.set(name, {
        count: s.count,
        answered: s.answered ?? s.count,
        errors: s.errors,
        rcu: s.rcu,
        wcu: s.wcu,
        throttleEvents: s.throttleEvents,
        throttledRequests: s.throttledRequests,
        retries: s.retries,
        ...(sketch ? { sketch } : {}),
      });
    }

    if (input.gate) {
      point.targets = {};
      for (const t of input.gate.tables) {
        const id = t.index ? `${t.table}/${t.index}` : t.table;
        const before = this.targetState.get(id);
        const target: TimelineTargetPoint = {
          rcu: round(delta(t.consumedRcu, before?.rcu)),
          wcu: round(delta(t.consumedWcu, before?.wcu)),
          readThrottleEvents: delta(t.readThrottleEvents, before?.readThrottleEvents),
          writeThrottleEvents: delta(t.writeThrottleEvents, before?.writeThrottleEvents),
          ...(t.provisioned
            ? { provisionedRcu: t.provisioned.read, provisionedWcu: t.provisioned.write }
            : {}),
        };
        point.targets[id] = target;
        this.targetState.set(id, {
          rcu: t.consumedRcu,
          wcu: t.consumedWcu,
          readThrottleEvents: t.readThrottleEvents,
          writeThrottleEvents: t.writeThrottleEvents,
        });
      }
    }

    this.list.push(point);
    if (this.list.length > this.maxPoints) this.halve();
    return point;
  }

  /** Merges neighbours in pairs: counts add, quantiles keep the higher (an upper bound). */
  private halve(): void {
    const merged: TimelinePoint[] = [];
    for (let i = 0; i < this.list.length; i += 2) {
      const a = this.list[i];
      const b = this.list[i + 1];
      if (a && b) merged.push(mergePoints(a, b));
      else if (a) merged.push(a);
    }
    this.list.splice(0, this.list.length, ...merged);
  }

  points(): TimelinePoint[] {
    return [...this.list];
  }
}

function maxQ(a: TimelineQuantiles | undefined, b: TimelineQuantiles | undefined) {
  if (!a || !b) return a ?? b;
  return { p50: Math.max(a.p50, b.p50), p95: Math.max(a.p95, b.p95), p99: Math.max(a.p99, b.p99) };
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : round((a ?? 0) + (b ?? 0));
}

export function mergePoints(a: TimelinePoint, b: TimelinePoint): TimelinePoint {
  const patterns: Record<string, TimelinePatternPoint> = {};
  for (const name of new Set([...Object.keys(a.patterns), ...Object.keys(b.patterns)])) {
    const x = a.patterns[name] ?? { requests: 0, errors: 0 };
    const y = b.patterns[name] ?? { requests: 0, errors: 0 };
    const p: TimelinePatternPoint = { requests: x.requests + y.requests, errors: x.errors + y.errors };
    const latency = maxQ(x.latencyMs, y.latencyMs);
    if (latency) p.latencyMs = latency;
    const server = maxQ(x.serverLatencyMs, y.serverLatencyMs);
    if (server) p.serverLatencyMs = server;
    for (const k of [
      'serverRequests',
      'serverAnswered',
      'rcu',
      'wcu',
      'throttleEvents',
      'throttledRequests',
      'retries',
    ] as const) {
      const v = addOptional(x[k], y[k]);
      if (v !== undefined) p[k] = v;
    }
    patterns[name] = p;
  }
  const out: TimelinePoint = {
    t: b.t,
    dt: round(a.dt + b.dt),
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    throttleEvents: a.throttleEvents + b.throttleEvents,
    patterns,
  };
  if (a.targets || b.targets) {
    out.targets = {};
    for (const id of new Set([...Object.keys(a.targets ?? {}), ...Object.keys(b.targets ?? {})])) {
      const x = a.targets?.[id];
      const y = b.targets?.[id];
      out.targets[id] = {
        rcu: round((x?.rcu ?? 0) + (y?.rcu ?? 0)),
        wcu: round((x?.wcu ?? 0) + (y?.wcu ?? 0)),
        readThrottleEvents: (x?.readThrottleEvents ?? 0) + (y?.readThrottleEvents ?? 0),
        writeThrottleEvents: (x?.writeThrottleEvents ?? 0) + (y?.writeThrottleEvents ?? 0),
        ...(y?.provisionedRcu !== undefined || x?.provisionedRcu !== undefined
          ? { provisionedRcu: y?.provisionedRcu ?? x?.provisionedRcu }
          : {}),
        ...(y?.provisionedWcu !== undefined || x?.provisionedWcu !== undefined
          ? { provisionedWcu: y?.provisionedWcu ?? x?.provisionedWcu }
          : {}),
      };
    }
  }
  return out;
}

/**
 * What `loadtest run` leaves in `<state-dir>/live.json` every poll, for `loadtest dashboard`: the
 * timeline so far and what to draw it against.
 */
export interface LiveFile {
  readonly version: 1;
  readonly scenario: string;
  readonly target: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** False once the run has finished (then `report` names the JSON report). */
  readonly running: boolean;
  /** Planned length of the run, seconds. */
  readonly plannedSec: number;
  /** The scenario's thresholds, parsed (pattern may be "*"). */
  readonly thresholds: readonly { pattern: string; metric: string; op: string; value: number }[];
  readonly pid: number;
  readonly report?: string;
  /** The project's name and declared patterns (rows are drawn in their order, with their descriptions). */
  readonly project?: string;
  readonly declared?: readonly { id: string; description?: string }[];
  readonly timeline: readonly TimelinePoint[];
}

export const LIVE_FILE = 'live.json';

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export async function writeLiveFile(path: string, live: LiveFile): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, JSON.stringify(live));
  await rename(tmp, path);
}

export interface RunTimelineOptions extends TimelineOptions {
  readonly scenario: string;
  readonly target: string;
  readonly plannedSec: number;
  readonly thresholds: LiveFile['thresholds'];
  readonly project?: string;
  readonly declared?: LiveFile['declared'];
  /** Where to keep live.json up to date for `loadtest dashboard`; omit to write none. */
  readonly liveFile?: string;
}

/**
 * What `loadtest run` holds during a run: the recorder, fed by the progress callback and the 2 s poll,
 * and the live file written after each sample. Never throws: a dashboard file that cannot be written
 * must not fail a load test.
 */
export class RunTimeline {
  readonly recorder: TimelineRecorder;
  private readonly startedAt: string;
  private writing: Promise<void> = Promise.resolve();
  private finished = false;

  constructor(private readonly options: RunTimelineOptions) {
    this.recorder = new TimelineRecorder(options);
    this.startedAt = new Date(options.startedAt ?? Date.now()).toISOString();
  }

  client(result: ClientResult): void {
    this.recorder.client(result);
  }

  /** One poll: the server view of the metrics source (the gate's patterns and tables). */
  async poll(view: {
    patterns?: ServerSnapshot | undefined;
    dynamodb?: DynamoView | undefined;
  }): Promise<void> {
    // A poll still in flight when the run ends must not add a point after the last one.
    if (this.finished) return;
    this.recorder.sample({
      ...(view.patterns ? { server: view.patterns } : {}),
      ...(view.dynamodb ? { gate: view.dynamodb } : {}),
    });
    await this.write(true);
  }

  /** The last interval (with the final client result and server view); returns the timeline. */
  async finish(
    client: ClientResult,
    view: { patterns?: ServerSnapshot | undefined; dynamodb?: DynamoView | undefined },
    report?: string,
  ): Promise<TimelinePoint[]> {
    this.finished = true;
    this.recorder.sample({
      client,
      ...(view.patterns ? { server: view.patterns } : {}),
      ...(view.dynamodb ? { gate: view.dynamodb } : {}),
    });
    await this.write(false, report);
    return this.recorder.points();
  }

  private write(running: boolean, report?: string): Promise<void> {
    const path = this.options.liveFile;
    if (!path) return Promise.resolve();
    const live: LiveFile = {
      version: 1,
      scenario: this.options.scenario,
      target: this.options.target,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      running,
      plannedSec: this.options.plannedSec,
      thresholds: this.options.thresholds.map((t) => ({
        pattern: t.pattern,
        metric: t.metric,
        op: t.op,
        value: t.value,
      })),
      pid: process.pid,
      ...(report ? { report } : {}),
      ...(this.options.project ? { project: this.options.project } : {}),
      ...(this.options.declared ? { declared: this.options.declared } : {}),
      timeline: this.recorder.points(),
    };
    // One write at a time, in order: the last one (running: false) must land last.
    this.writing = this.writing.then(() => writeLiveFile(path, live).catch(() => {}));
    return this.writing;
  }
}
