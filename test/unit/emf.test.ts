import { describe, expect, it } from 'vitest';
import { EmfPublisher, PatternMetrics } from '../../instrument/index.js';

describe('EMF publishing', () => {
  it('writes one CloudWatch EMF line per pattern per flush, with the pattern as a dimension', () => {
    const lines: string[] = [];
    const metrics = new PatternMetrics();
    const emf = new EmfPublisher({ write: (l) => lines.push(l), service: 'shop-test' }).attach(metrics);
    for (let i = 0; i < 3; i += 1) {
      metrics.record({
        pattern: 'getProduct',
        latencyMs: 2 + i,
        ok: true,
        throttleEvents: 0,
        throttled: false,
        retries: 0,
        capacity: [{ target: 'table', rcu: 0.5, wcu: 0 }],
      });
    }
    metrics.record({
      pattern: 'addToCart',
      latencyMs: 9,
      ok: false,
      throttleEvents: 2,
      throttled: true,
      retries: 2,
      capacity: [],
    });
    expect(emf.flush()).toBe(2);
    const events = lines.map((l) => JSON.parse(l));
    const get = events.find((e) => e.AccessPattern === 'getProduct');
    expect(get._aws.CloudWatchMetrics[0].Namespace).toBe('DynamoLoadtest/App');
    expect(get._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Service', 'AccessPattern']]);
    expect(get).toMatchObject({
      Service: 'shop-test',
      Requests: 3,
      Errors: 0,
      ConsumedRCU: 1.5,
      Latency: [2, 3, 4],
    });
    const add = events.find((e) => e.AccessPattern === 'addToCart');
    expect(add).toMatchObject({
      Requests: 1,
      Errors: 1,
      ThrottleEvents: 2,
      ThrottledRequests: 1,
      Retries: 2,
    });
    expect(emf.flush()).toBe(0);
  });

  it('keeps at most 100 latency values per line, a uniform sample of the window', () => {
    const lines: string[] = [];
    const emf = new EmfPublisher({ write: (l) => lines.push(l), random: () => 0.999 });
    for (let i = 0; i < 1000; i += 1) {
      emf.add({
        pattern: 'listProducts',
        latencyMs: i,
        ok: true,
        throttleEvents: 0,
        throttled: false,
        retries: 0,
        capacity: [],
      });
    }
    emf.flush();
    const event = JSON.parse(lines[0] ?? '{}');
    expect(event.Requests).toBe(1000);
    expect(event.Latency).toHaveLength(100);
    expect(event.LatencySampled).toBe(true);
  });
});
