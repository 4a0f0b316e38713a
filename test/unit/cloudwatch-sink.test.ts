import {
  CloudWatchClient,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import {
  CloudWatchEmfSink,
  EMF_NAMESPACE,
  EmfParseError,
  EmfPublisher,
  emfToMetricData,
  MAX_DATUMS_PER_REQUEST,
  MAX_VALUES_PER_DATUM,
  type OperationSample,
} from '../../instrument/index.js';
import { RecordedHttpHandler, TEST_CREDENTIALS } from '../helpers/recorded-aws.js';

const sample = (pattern: string, latencyMs: number, ok = true): OperationSample => ({
  pattern,
  latencyMs,
  ok,
  throttleEvents: ok ? 0 : 1,
  throttled: !ok,
  retries: ok ? 0 : 2,
  capacity: [{ target: 'shop', rcu: 0.5, wcu: 0 }],
});

/** The EMF lines one flush of the app's publisher writes. */
function flushed(samples: OperationSample[]): string[] {
  const lines: string[] = [];
  const publisher = new EmfPublisher({ write: (l) => lines.push(l), service: 'shop' });
  for (const s of samples) publisher.add(s);
  publisher.flush();
  return lines;
}

describe('EMF lines as PutMetricData (what CloudWatch would extract from them)', () => {
  it("carries every metric of the publisher's lines: namespace, dimensions, units, values with counts", () => {
    const lines = flushed([
      sample('getProduct', 12),
      sample('getProduct', 12),
      sample('getProduct', 30, false),
    ]);
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0] as string) as { _aws: { Timestamp: number } };
    const [request, ...more] = emfToMetricData(lines);
    expect(more).toEqual([]);
    expect(request?.Namespace).toBe(EMF_NAMESPACE);
    const byName = new Map(request?.MetricData?.map((d) => [d.MetricName, d]));
    for (const d of request?.MetricData ?? []) {
      expect(d.Dimensions).toEqual([
        { Name: 'Service', Value: 'shop' },
        { Name: 'AccessPattern', Value: 'getProduct' },
      ]);
      expect(d.Timestamp).toEqual(new Date(emf._aws.Timestamp));
    }
    expect(byName.get('Requests')).toMatchObject({ Unit: 'Count', Values: [3], Counts: [1] });
    expect(byName.get('Errors')).toMatchObject({ Values: [1], Counts: [1] });
    expect(byName.get('Retries')).toMatchObject({ Values: [2], Counts: [1] });
    expect(byName.get('ConsumedRCU')).toMatchObject({ Values: [1.5], Counts: [1] });
    // Latency samples: the repeated 12 ms becomes one value counted twice, so percentiles hold.
    expect(byName.get('Latency')).toMatchObject({ Unit: 'Milliseconds', Values: [12, 30], Counts: [2, 1] });
  });

  it('stays within PutMetricData limits: 150 values a datum, 1,000 datums a request', () => {
    const line = (pattern: string, latencies: number[]) =>
      JSON.stringify({
        _aws: {
          Timestamp: 1_764_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: EMF_NAMESPACE,
              Dimensions: [['Service', 'AccessPattern']],
              Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }],
            },
          ],
        },
        Service: 'shop',
        AccessPattern: pattern,
        Latency: latencies,
      });
    const wide = emfToMetricData([
      line(
        'p',
        Array.from({ length: 400 }, (_, i) => i),
      ),
    ]);
    const values = wide.flatMap((r) => r.MetricData ?? []).map((d) => d.Values?.length);
    expect(values).toEqual([MAX_VALUES_PER_DATUM, MAX_VALUES_PER_DATUM, 100]);

    const many = emfToMetricData(Array.from({ length: 2500 }, (_, i) => line(`p${i}`, [1])));
    expect(many.map((r) => r.MetricData?.length)).toEqual([
      MAX_DATUMS_PER_REQUEST,
      MAX_DATUMS_PER_REQUEST,
      500,
    ]);
  });

  it('refuses a line that is not EMF, saying so', () => {
    expect(() => emfToMetricData(['hello'])).toThrow(EmfParseError);
    expect(() => emfToMetricData(['{"a":1}'])).toThrow(/no _aws.CloudWatchMetrics/);
  });
});

describe('the CloudWatch sink (PutMetricData through the real SDK client, recorded responses)', () => {
  it("sends one flush's lines as one PutMetricData request, and drain waits for it", async () => {
    const http = new RecordedHttpHandler(() => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    }));
    const client = new CloudWatchClient({
      region: 'eu-west-1',
      credentials: TEST_CREDENTIALS,
      requestHandler: http,
    });
    const sink = new CloudWatchEmfSink((input) => client.send(new PutMetricDataCommand(input)));
    const publisher = new EmfPublisher({ write: sink.write, service: 'shop' });
    publisher.add(sample('getProduct', 10));
    publisher.add(sample('listProducts', 20));
    expect(publisher.flush()).toBe(2);
    await sink.drain();
    expect(http.seen).toHaveLength(1);
    const [req] = http.seen;
    expect(req?.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.PutMetricData');
    const body = JSON.parse(req?.body ?? '') as PutMetricDataCommandInput;
    expect(body.Namespace).toBe(EMF_NAMESPACE);
    const patterns = new Set(
      body.MetricData?.map((d) => d.Dimensions?.find((x) => x.Name === 'AccessPattern')?.Value),
    );
    expect([...patterns].sort()).toEqual(['getProduct', 'listProducts']);
    client.destroy();
  });

  it('reports a failed call and keeps going (the app must not fall over with its metrics)', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const sink = new CloudWatchEmfSink(
      async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      },
      { onError: (e) => errors.push(e) },
    );
    for (const line of flushed([sample('getProduct', 1)])) sink.write(line);
    await sink.drain();
    for (const line of flushed([sample('getProduct', 2)])) sink.write(line);
    await sink.drain();
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['Rate exceeded']);
  });
});
