import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, createShop, LocalTokens, type Shop } from '../../app/index.js';
import type { ShopTestStack } from '../helpers/stack.js';
import { startTestStack } from '../helpers/stack.js';
import { startThrottlingProxy, type ThrottlingProxy } from '../helpers/throttling-proxy.js';

let stack: ShopTestStack;
let proxy: ThrottlingProxy;
let shop: Shop;
let url: string;

beforeAll(async () => {
  stack = await startTestStack({ products: 3, users: 1 });
  proxy = await startThrottlingProxy(stack.dynamodbEndpoint);
  const { doc } = createDynamoClients({ endpoint: proxy.endpoint, maxAttempts: 3 });
  const tokens = new LocalTokens('x'.repeat(32));
  shop = createShop({ doc, tableName: stack.tableName, verifier: tokens, exposeMetrics: true });
  url = await shop.app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await shop?.close();
  await proxy?.close();
  await stack?.stop();
});

describe('when DynamoDB throttles', () => {
  it('counts the throttles the SDK retried away, and still answers 200', async () => {
    const id = stack.seeded?.products[0]?.id;
    shop.metrics.reset();
    proxy.throttle('GetItem', 2);
    const res = await fetch(`${url}/api/products/${id}`);
    expect(res.status).toBe(200);
    const m = shop.metrics.snapshot().patterns.getProduct;
    expect(m).toMatchObject({
      count: 1,
      errors: 0,
      throttleEvents: 2,
      throttledRequests: 0,
      retries: 2,
      rcu: 0.5,
    });
  });

  it('answers 503 with Retry-After when throttling outlasts the retries, and counts a throttled request', async () => {
    const id = stack.seeded?.products[0]?.id;
    shop.metrics.reset();
    proxy.throttle('GetItem', 3);
    const res = await fetch(`${url}/api/products/${id}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: 'Throttled' });
    const m = shop.metrics.snapshot().patterns.getProduct;
    expect(m).toMatchObject({ count: 1, errors: 1, throttleEvents: 3, throttledRequests: 1, retries: 2 });
  });

  it('retries a throttled BatchGetItem and returns every product', async () => {
    const ids = (stack.seeded?.products ?? []).map((p) => p.id);
    shop.metrics.reset();
    proxy.throttle('BatchGetItem', 1);
    const res = await fetch(`${url}/api/products?ids=${ids.join(',')}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(ids.length);
    expect(shop.metrics.snapshot().patterns.getProductsByIds).toMatchObject({
      count: 1,
      throttleEvents: 1,
      retries: 1,
    });
  });
});
