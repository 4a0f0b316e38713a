import { MetricsContext } from 'aws-embedded-metrics/lib/logger/MetricsContext.js';
import { LogSerializer } from 'aws-embedded-metrics/lib/serializers/LogSerializer.js';
import type { OperationSample, PatternMetrics } from './metrics.js';

/**
 * Publishes per-pattern numbers as CloudWatch Embedded Metric Format log lines (on Lambda, or any
 * host whose log path sends the `x-amzn-logs-format: json/emf` header, the lines become CloudWatch
 * metrics). Samples are aggregated per pattern and flushed on an interval: one log line per pattern
 * per interval, not one per request. The namespace, dimensions and counter names are the contract
 * the toolkit's CloudWatch read-back and dashboards use.
 */
export const EMF_NAMESPACE = 'DynamoLoadtest/App';
/** The `Service` dimension when an app names none. */
export const DEFAULT_SERVICE = 'app';
/** CloudWatch takes at most 100 values per metric in one EMF event; we keep a uniform sample of that size. */
const MAX_LATENCY_VALUES = 100;

/**
 * The counters each EMF line carries (statistic Sum), by CloudWatch metric name, with the field of a
 * pattern's counts they come from: the one definition the publisher, the CloudWatch read-back and
 * the dashboards share. Latency is published too, as up to 100 sampled values.
 */
export const EMF_COUNTERS = {
  Requests: 'count',
  Errors: 'errors',
  ThrottleEvents: 'throttleEvents',
  ThrottledRequests: 'throttledRequests',
  Retries: 'retries',
  ConsumedRCU: 'rcu',
  ConsumedWCU: 'wcu',
} as const;
export type EmfCounter = keyof typeof EMF_COUNTERS;
type CounterField = (typeof EMF_COUNTERS)[EmfCounter];

type Window = Record<CounterField, number> & { latencies: number[]; seen: number };

export interface EmfOptions {
  readonly write: (line: string) => void;
  /** The `Service` dimension (default "app"). */
  readonly service?: string;
  readonly namespace?: string;
  readonly random?: () => number;
}

export class EmfPublisher {
  private windows = new Map<string, Window>();
  private readonly serializer = new LogSerializer();

  constructor(private readonly options: EmfOptions) {}

  attach(metrics: PatternMetrics): this {
    metrics.onSample((s) => this.add(s));
    return this;
  }

  add(s: OperationSample): void {
    let w = this.windows.get(s.pattern);
    if (!w) {
      w = {
        count: 0,
        errors: 0,
        throttleEvents: 0,
        throttledRequests: 0,
        retries: 0,
        rcu: 0,
        wcu: 0,
        latencies: [],
        seen: 0,
      };
      this.windows.set(s.pattern, w);
    }
    w.count += 1;
    if (!s.ok) w.errors += 1;
    w.throttleEvents += s.throttleEvents;
    if (s.throttled) w.throttledRequests += 1;
    w.retries += s.retries;
    for (const c of s.capacity) {
      w.rcu += c.rcu;
      w.wcu += c.wcu;
    }
    // Reservoir sampling keeps a uniform sample of the window's latencies within the EMF limit.
    w.seen += 1;
    if (w.latencies.length < MAX_LATENCY_VALUES) w.latencies.push(s.latencyMs);
    else {
      const j = Math.floor((this.options.random ?? Math.random)() * w.seen);
      if (j < MAX_LATENCY_VALUES) w.latencies[j] = s.latencyMs;
    }
  }

  /** Writes one EMF line per pattern seen since the last flush. */
  flush(): number {
    const windows = this.windows;
    this.windows = new Map();
    let lines = 0;
    for (const [pattern, w] of windows) {
      const ctx = MetricsContext.empty();
      ctx.setNamespace(this.options.namespace ?? EMF_NAMESPACE);
      ctx.setDimensions(
        [{ Service: this.options.service ?? DEFAULT_SERVICE, AccessPattern: pattern }],
        false,
      );
      for (const [name, field] of Object.entries(EMF_COUNTERS)) ctx.putMetric(name, w[field], 'Count');
      for (const l of w.latencies) ctx.putMetric('Latency', l, 'Milliseconds');
      ctx.setProperty('LatencySampled', w.seen > w.latencies.length);
      for (const line of this.serializer.serialize(ctx)) {
        this.options.write(line);
        lines += 1;
      }
    }
    return lines;
  }

  /** Flush every `intervalMs`; returns a stop function that flushes what is left. */
  start(intervalMs: number): () => void {
    const timer = setInterval(() => this.flush(), intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.flush();
    };
  }
}
