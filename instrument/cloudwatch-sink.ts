import type { MetricDatum, PutMetricDataCommandInput, StandardUnit } from '@aws-sdk/client-cloudwatch';

/**
 * CloudWatch turns EMF log lines into metrics only when they reach CloudWatch Logs with the
 * `x-amzn-logs-format: json/emf` header: Lambda's log path sends it, but a container's stdout on ECS
 * (awslogs driver) or App Runner does not, so there the lines stay plain logs. Express Mode has no
 * room for a CloudWatch agent sidecar either (one container per task). This sink takes the very lines
 * `EmfPublisher` writes and sends their metrics with PutMetricData instead, as CloudWatch itself
 * would have extracted them: same namespace, dimensions, names, units and timestamp.
 */
export type PutMetricData = (input: PutMetricDataCommandInput) => Promise<unknown>;

export interface CloudWatchEmfSinkOptions {
  /** Called when a PutMetricData call fails: the app keeps serving, the metrics of that call are lost. */
  readonly onError?: (err: unknown) => void;
}

/** PutMetricData limits: 1,000 datums a request, 150 distinct values a datum. */
export const MAX_DATUMS_PER_REQUEST = 1000;
export const MAX_VALUES_PER_DATUM = 150;

interface EmfDirective {
  readonly Namespace: string;
  readonly Dimensions: readonly (readonly string[])[];
  readonly Metrics: readonly { readonly Name: string; readonly Unit?: string }[];
}

export class EmfParseError extends Error {
  override readonly name = 'EmfParseError';
}

/** The PutMetricData requests that carry what CloudWatch would extract from these EMF lines. */
export function emfToMetricData(lines: readonly string[]): PutMetricDataCommandInput[] {
  const byNamespace = new Map<string, MetricDatum[]>();
  for (const line of lines) {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new EmfParseError(`not an EMF line (not JSON): ${line.slice(0, 80)}`, { cause: err });
    }
    const aws = doc._aws as { Timestamp?: number; CloudWatchMetrics?: EmfDirective[] } | undefined;
    if (!aws?.CloudWatchMetrics)
      throw new EmfParseError(`not an EMF line (no _aws.CloudWatchMetrics): ${line.slice(0, 80)}`);
    const timestamp = new Date(aws.Timestamp ?? Date.now());
    for (const directive of aws.CloudWatchMetrics) {
      const datums = byNamespace.get(directive.Namespace) ?? [];
      byNamespace.set(directive.Namespace, datums);
      for (const dimensionSet of directive.Dimensions) {
        const dimensions = dimensionSet.map((name) => ({ Name: name, Value: String(doc[name]) }));
        for (const metric of directive.Metrics) {
          const raw = doc[metric.Name];
          const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
          if (values.length === 0) continue;
          const unit = metric.Unit as StandardUnit | undefined;
          // Repeated values become counts; past 150 distinct ones the datum is split.
          const counts = new Map<number, number>();
          for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
          const distinct = [...counts.entries()];
          for (let i = 0; i < distinct.length; i += MAX_VALUES_PER_DATUM) {
            const chunk = distinct.slice(i, i + MAX_VALUES_PER_DATUM);
            datums.push({
              MetricName: metric.Name,
              Dimensions: dimensions,
              Timestamp: timestamp,
              ...(unit ? { Unit: unit } : {}),
              Values: chunk.map(([v]) => v),
              Counts: chunk.map(([, n]) => n),
            });
          }
        }
      }
    }
  }
  const requests: PutMetricDataCommandInput[] = [];
  for (const [namespace, datums] of byNamespace) {
    for (let i = 0; i < datums.length; i += MAX_DATUMS_PER_REQUEST) {
      requests.push({ Namespace: namespace, MetricData: datums.slice(i, i + MAX_DATUMS_PER_REQUEST) });
    }
  }
  return requests;
}

/**
 * An `EmfPublisher` write target that sends PutMetricData: the lines of one flush (written together)
 * go in as few requests as the limits allow, on the next tick. `drain()` waits for what is in flight,
 * for a clean shutdown.
 */
export class CloudWatchEmfSink {
  private pending: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly put: PutMetricData,
    private readonly options: CloudWatchEmfSinkOptions = {},
  ) {}

  /** For `EmfPublisher`'s `write` option. */
  readonly write = (line: string): void => {
    if (this.pending.length === 0) queueMicrotask(() => this.send());
    this.pending.push(line);
  };

  private send(): void {
    const lines = this.pending;
    this.pending = [];
    let requests: PutMetricDataCommandInput[];
    try {
      requests = emfToMetricData(lines);
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    for (const input of requests) {
      const p = this.put(input).then(
        () => {},
        (err: unknown) => this.options.onError?.(err),
      );
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  /** Sends what was written and waits for every request still in flight. */
  async drain(): Promise<void> {
    if (this.pending.length > 0) this.send();
    await Promise.all([...this.inFlight]);
  }
}
