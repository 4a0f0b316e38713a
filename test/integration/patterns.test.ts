import { BatchGetCommand, DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, keys, patternIds } from '../../app/index.js';
import type { MetricsSnapshot } from '../../instrument/index.js';
import { DEFAULT_PROJECT_FILE, loadProject, patternRules } from '../../runner/project/index.js';
import type { ShopTestStack } from '../helpers/stack.js';
import { type Api, api, newUser, startTestStack } from '../helpers/stack.js';

let stack: ShopTestStack;
let call: Api;
let doc: ReturnType<typeof createDynamoClients>['doc'];
let adminToken: string;

const product = (over: Record<string, unknown> = {}) => ({
  title: 'Walnut Desk',
  description: 'A desk of solid walnut.',
  price: 199.5,
  category: 'furniture',
  images: ['https://example.com/desk.jpg'],
  ...over,
});

async function createProduct(over: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/products', { body: product(over), token: adminToken });
  expect(res.status).toBe(201);
  return res.body as { id: string; title: string; price: number; category: string; sold: number };
}

async function metrics(): Promise<MetricsSnapshot> {
  return (await call('GET', '/__metrics')).body as MetricsSnapshot;
}

beforeAll(async () => {
  // The shop's own project config, loaded as the CLI loads it: its rules name untagged calls.
  const project = await loadProject(DEFAULT_PROJECT_FILE);
  stack = await startTestStack(undefined, { rules: patternRules(project) });
  call = api(stack);
  doc = createDynamoClients({ endpoint: stack.dynamodbEndpoint }).doc;
  adminToken = await newUser(call, 'admin@example.com', 'Admin');
});

afterAll(async () => {
  doc?.destroy();
  await stack?.stop();
});

describe('users', () => {
  it('registers a user once: a duplicate is 409 and overwrites nothing', async () => {
    const first = await call('POST', '/api/users', { body: { email: 'ada@example.com', name: 'Ada' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    const dup = await call('POST', '/api/users', { body: { email: 'ada@example.com', name: 'Mallory' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('AlreadyExists');
    const stored = await doc.send(
      new GetCommand({ TableName: stack.tableName, Key: keys.user('ada@example.com') }),
    );
    expect(stored.Item?.name).toBe('Ada');
  });

  it('treats emails case-insensitively: one user per address', async () => {
    const first = await call('POST', '/api/users', { body: { email: 'Case@Example.COM', name: 'Case' } });
    expect(first.status).toBe(201);
    expect(first.body.email).toBe('case@example.com');
    expect(
      (await call('POST', '/api/users', { body: { email: 'case@example.com', name: 'Again' } })).status,
    ).toBe(409);
  });

  it('answers /me for a valid token and 401 without one', async () => {
    const token = await newUser(call, 'grace@example.com', 'Grace');
    const me = await call('GET', '/api/users/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ email: 'grace@example.com', name: 'Grace', createdAt: expect.any(String) });
    const lower = await call('GET', '/api/users/me', { headers: { authorization: `bearer ${token}` } });
    expect(lower.status).toBe(200);
    const none = await call('GET', '/api/users/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const unknown = await call('GET', '/api/users/me', {
      token: (await call('POST', '/api/dev/token', { body: { email: 'ghost@example.com' } })).body.token,
    });
    expect(unknown.status).toBe(401);
  });
});

describe('products', () => {
  it('creates a product and reads it back; an unknown id is 404', async () => {
    const created = await createProduct({ title: 'Oak Chair' });
    expect(created.id).toMatch(/^[0-9A-Z]{26}$/);
    const got = await call('GET', `/api/products/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ ...product({ title: 'Oak Chair' }), id: created.id, sold: 0 });
    expect(got.body.PK).toBeUndefined();
    expect((await call('GET', '/api/products/01NOSUCHPRODUCT')).status).toBe(404);
  });

  it('gets several products by id in one batch and leaves out the missing ones', async () => {
    const [a, b] = stack.seeded?.products ?? [];
    const res = await call('GET', `/api/products?ids=${a?.id},${b?.id},missing1`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { id: string }) => p.id).sort()).toEqual([a?.id, b?.id].sort());
  });

  it('pages through the whole catalogue by price with an opaque cursor', async () => {
    const seen: { id: string; price: number; description?: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await call('GET', `/api/products?limit=5${q}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...res.body.items);
      cursor = res.body.cursor;
      pages += 1;
    } while (cursor && pages < 50);
    const all = await call('GET', '/api/products?limit=100');
    expect(seen.length).toBe(all.body.items.length);
    expect(new Set(seen.map((p) => p.id)).size).toBe(seen.length);
    const prices = seen.map((p) => p.price);
    expect(prices).toEqual([...prices].sort((x, y) => x - y));
    // The catalogue page projects the description away.
    expect(seen.every((p) => p.description === undefined)).toBe(true);
  });

  it('lists a price range with BETWEEN', async () => {
    const res = await call('GET', '/api/products?minPrice=20&maxPrice=80&limit=100');
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const p of res.body.items) {
      expect(p.price).toBeGreaterThanOrEqual(20);
      expect(p.price).toBeLessThanOrEqual(80);
    }
    const expected = (stack.seeded?.products ?? []).filter((p) => p.price >= 20 && p.price <= 80).length;
    expect(res.body.items.length).toBe(expected);
  });

  it('lists a category, with a price filter applied as a FilterExpression', async () => {
    const seeded = stack.seeded?.products ?? [];
    const res = await call('GET', '/api/products?category=books&limit=100');
    expect(res.body.items.length).toBe(seeded.filter((p) => p.category === 'books').length);
    expect(res.body.items.every((p: { category: string }) => p.category === 'books')).toBe(true);
    const cheap = await call('GET', '/api/products?category=books&maxPrice=100&limit=100');
    const expected = seeded.filter((p) => p.category === 'books' && p.price <= 100).length;
    expect(cheap.body.items.length).toBe(expected);
    const m = await metrics();
    expect(m.patterns.listProductsByCategory?.count).toBeGreaterThanOrEqual(2);
  });

  it('searches titles by prefix, case-insensitively', async () => {
    await createProduct({ title: 'Zebra Lamp' });
    await createProduct({ title: 'zebra Rug' });
    await createProduct({ title: 'A zebra print' });
    const res = await call('GET', '/api/products?q=ZEBRA&limit=100');
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { title: string }) => p.title).sort()).toEqual(['Zebra Lamp', 'zebra Rug']);
  });
});

describe('cart and checkout', () => {
  it('adds, raises and removes cart lines', async () => {
    const token = await newUser(call, 'cart@example.com');
    const p = await createProduct({ price: 10 });
    const empty = await call('GET', '/api/cart', { token });
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ status: 'CURRENT', items: [], total: 0 });
    const add = await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 2 } });
    expect(add.status).toBe(201);
    const again = await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 3 } });
    expect(again.status).toBe(200);
    expect(again.body.quantity).toBe(5);
    const cart = await call('GET', '/api/cart', { token });
    expect(cart.body.orderId).toBe(empty.body.orderId);
    expect(cart.body.items).toEqual([expect.objectContaining({ productId: p.id, quantity: 5, price: 10 })]);
    expect(cart.body.total).toBe(50);
    expect(
      (await call('POST', '/api/cart/items', { token, body: { productId: 'NOPE', quantity: 1 } })).status,
    ).toBe(404);
    const del = await call('DELETE', `/api/cart/items/${p.id}`, { token });
    expect(del.status).toBe(204);
    expect((await call('GET', '/api/cart', { token })).body.items).toEqual([]);
  });

  it('caps a cart line at 1000 units', async () => {
    const token = await newUser(call, 'bulk@example.com');
    const p = await createProduct();
    expect(
      (await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 1000 } })).status,
    ).toBe(201);
    const over = await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 1 } });
    expect(over.status).toBe(409);
    expect(over.body.message).toMatch(/at most 1000/);
    expect((await call('GET', '/api/cart', { token })).body.items[0].quantity).toBe(1000);
  });

  it('sums concurrent adds of the same product into one line (and one cart)', async () => {
    const token = await newUser(call, 'race@example.com');
    const p = await createProduct();
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 1 } }),
      ),
    );
    expect(
      results.map((r) => r.status).filter((s) => s !== 200 && s !== 201),
      JSON.stringify(results.map((r) => r.body)),
    ).toEqual([]);
    expect(results.filter((r) => r.status === 201).length).toBe(1);
    const cart = await call('GET', '/api/cart', { token });
    expect(cart.body.items).toEqual([expect.objectContaining({ productId: p.id, quantity: 12 })]);
  });

  it('checks out in one transaction: order COMPLETED, sold counted, a fresh empty cart', async () => {
    const token = await newUser(call, 'buyer@example.com');
    const a = await createProduct({ price: 5 });
    const b = await createProduct({ price: 7.25 });
    await call('POST', '/api/cart/items', { token, body: { productId: a.id, quantity: 2 } });
    await call('POST', '/api/cart/items', { token, body: { productId: b.id, quantity: 1 } });
    const before = await call('GET', '/api/cart', { token });
    const done = await call('POST', '/api/cart/checkout', { token });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      orderId: before.body.orderId,
      status: 'COMPLETED',
      total: 17.25,
      itemCount: 2,
    });
    expect((await call('GET', `/api/products/${a.id}`)).body.sold).toBe(2);
    expect((await call('GET', `/api/products/${b.id}`)).body.sold).toBe(1);
    const next = await call('GET', '/api/cart', { token });
    expect(next.body.orderId).not.toBe(before.body.orderId);
    expect(next.body.items).toEqual([]);
    const again = await call('POST', '/api/cart/checkout', { token });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/empty/);
  });

  it('checkout is all-or-nothing: a failing condition leaves the cart and the sold counters unchanged', async () => {
    const token = await newUser(call, 'unlucky@example.com');
    const a = await createProduct({ price: 3 });
    const b = await createProduct({ price: 4 });
    await call('POST', '/api/cart/items', { token, body: { productId: a.id, quantity: 2 } });
    await call('POST', '/api/cart/items', { token, body: { productId: b.id, quantity: 1 } });
    const cartBefore = await call('GET', '/api/cart', { token });
    // Product b disappears between adding it and checking out.
    await doc.send(new DeleteCommand({ TableName: stack.tableName, Key: keys.product(b.id) }));
    const res = await call('POST', '/api/cart/checkout', { token });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('Conflict');
    expect((await call('GET', `/api/products/${a.id}`)).body.sold).toBe(0);
    const cartAfter = await call('GET', '/api/cart', { token });
    expect(cartAfter.body).toEqual(cartBefore.body);
    expect((await call('GET', '/api/orders', { token })).body.items).toEqual([]);
  });

  it('order history lists only COMPLETED orders, newest first, with a cursor', async () => {
    const token = await newUser(call, 'history@example.com');
    const p = await createProduct({ price: 1 });
    for (let i = 0; i < 3; i += 1) {
      await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: i + 1 } });
      expect((await call('POST', '/api/cart/checkout', { token })).status).toBe(200);
    }
    // An open cart with a line in it is not history.
    await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 9 } });
    const all = await call('GET', '/api/orders', { token });
    expect(all.status).toBe(200);
    expect(all.body.items.map((o: { status: string }) => o.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(all.body.items.map((o: { total: number }) => o.total)).toEqual([3, 2, 1]);
    const first = await call('GET', '/api/orders?limit=1', { token });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.cursor).toEqual(expect.any(String));
    const second = await call('GET', `/api/orders?limit=1&cursor=${first.body.cursor}`, { token });
    expect(second.body.items[0].orderId).not.toBe(first.body.items[0].orderId);
  });
});

describe('per-pattern metrics', () => {
  it('records what DynamoDB Local returned for the calls: getProduct on a small item is 0.5 RCU', async () => {
    const p = stack.seeded?.products[0];
    await call('POST', '/__metrics/reset');
    for (let i = 0; i < 4; i += 1) expect((await call('GET', `/api/products/${p?.id}`)).status).toBe(200);
    const direct = await doc.send(
      new GetCommand({
        TableName: stack.tableName,
        Key: keys.product(p?.id ?? ''),
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    expect(direct.ConsumedCapacity?.CapacityUnits).toBe(0.5);
    const m = (await metrics()).patterns.getProduct;
    expect(m).toMatchObject({ count: 4, errors: 0, rcu: 2, wcu: 0, capacity: { table: { rcu: 2, wcu: 0 } } });
    expect(m?.latencyMs.p50).toBeGreaterThan(0);
    expect(m?.latencyMs.p99).toBeGreaterThanOrEqual(m?.latencyMs.p50 ?? 0);
  });

  it('splits capacity per table and index as ReturnConsumedCapacity=INDEXES reports it', async () => {
    await call('POST', '/__metrics/reset');
    await createProduct({ title: 'Capacity Probe' });
    const create = (await metrics()).patterns.createProduct;
    // A small product: 1 WCU on the table and 1 on each of the three GSIs it is projected into.
    expect(create?.capacity).toEqual({
      table: { rcu: 0, wcu: 1 },
      GSI1: { rcu: 0, wcu: 1 },
      GSI2: { rcu: 0, wcu: 1 },
      GSI3: { rcu: 0, wcu: 1 },
    });
    const ids = (stack.seeded?.products ?? []).slice(0, 3).map((p) => p.id);
    await call('POST', '/__metrics/reset');
    await call('GET', `/api/products?ids=${ids.join(',')}`);
    const direct = await doc.send(
      new BatchGetCommand({
        RequestItems: { [stack.tableName]: { Keys: ids.map((id) => keys.product(id)) } },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    expect((await metrics()).patterns.getProductsByIds?.rcu).toBe(
      direct.ConsumedCapacity?.[0]?.CapacityUnits,
    );
    await call('POST', '/__metrics/reset');
    await call('GET', '/api/products?category=toys&limit=100');
    const byCategory = (await metrics()).patterns.listProductsByCategory;
    expect(byCategory?.capacity.GSI1?.rcu).toBeGreaterThan(0);
    expect(byCategory?.rcu).toBe(byCategory?.capacity.GSI1?.rcu);
  });

  it('exercises every access pattern through HTTP and reports each under its id', async () => {
    await call('POST', '/__metrics/reset');
    stack.gate.reset();
    stack.ruleGate?.reset();
    const token = await newUser(call, 'all@example.com');
    const p = await createProduct({ title: 'Everything Bagel', category: 'food' });
    await call('GET', `/api/products/${p.id}`);
    await call('GET', `/api/products?ids=${p.id}`);
    await call('GET', '/api/products');
    await call('GET', '/api/products?minPrice=1&maxPrice=500');
    await call('GET', '/api/products?category=food');
    await call('GET', '/api/products?q=every');
    await call('GET', '/api/users/me', { token });
    await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 1 } });
    await call('DELETE', `/api/cart/items/${p.id}`, { token });
    await call('POST', '/api/cart/items', { token, body: { productId: p.id, quantity: 1 } });
    await call('GET', '/api/cart', { token });
    await call('POST', '/api/cart/checkout', { token });
    await call('GET', '/api/orders', { token });
    const m = await metrics();
    for (const id of patternIds) {
      expect(m.patterns[id]?.count, id).toBeGreaterThan(0);
      expect(m.patterns[id]?.errors, id).toBe(0);
    }
    expect(m.patterns.checkout?.wcu).toBeGreaterThan(0);

    // The gate names every call by the tag the app's instrumented client sends...
    const tagged = stack.gate.snapshot().patterns;
    expect(Object.keys(tagged).sort()).toEqual([...patternIds].sort());
    for (const id of patternIds) expect(tagged[id]?.source, id).toBe('tag');
    // ...and the shop's rules alone name the same calls the same way (a client that does not tag).
    const byRule = stack.ruleGate?.snapshot().patterns ?? {};
    expect(Object.keys(byRule).sort()).toEqual([...patternIds].sort());
    for (const id of patternIds) {
      expect(byRule[id]?.source, id).toBe('rule');
      expect(byRule[id]?.count, id).toBe(tagged[id]?.count);
      expect(byRule[id]?.wcu, id).toBe(tagged[id]?.wcu);
    }
  });
});
