// The orders example's data command: fills both tables with BatchWriteItem and writes the fixtures the
// scenarios' processor reads. loadtest runs it with the SDK's variables pointing at its stack, and:
//
//   LOADTEST_SEED      JSON parameters (from a scenario's config.loadtest.seed, or `loadtest up --customers 50`):
//                        customers   how many customers (default 20)
//                        orders      orders per customer (default 10)
//                        hotOrders   extra orders for the first customer, the "hot" one (default 0)
//                        padding     bytes of free text on every order (default 400): bigger items cost more to read
//                        seed        the random seed (default 1): the same parameters give the same data
//   LOADTEST_FIXTURES  where to write the fixtures (JSON); nothing is written when unset
//
// Exit 2 when a parameter is unknown or out of range, 1 when the writes fail.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

const CUSTOMERS = process.env.CUSTOMERS_TABLE || 'customers';
const ORDERS = process.env.ORDERS_TABLE || 'orders';
const STATUSES = ['pending', 'shipped', 'delivered', 'cancelled'];
const TIERS = ['bronze', 'silver', 'gold'];
/** 2025-01-01T00:00:00Z: seeded orders are an hour or so apart from here. */
const FIRST_ORDER = 1_735_689_600_000;
const HOUR = 3_600_000;

const PARAMS = {
  customers: { min: 1, max: 10_000, default: 20 },
  orders: { min: 0, max: 1_000, default: 10 },
  hotOrders: { min: 0, max: 10_000, default: 0 },
  padding: { min: 0, max: 300_000, default: 400 },
  seed: { min: 0, max: 2 ** 31 - 1, default: 1 },
};

function fail(message) {
  console.error(`seed: ${message}`);
  process.exit(2);
}

function params() {
  let given;
  try {
    given = JSON.parse(process.env.LOADTEST_SEED || '{}');
  } catch {
    fail('LOADTEST_SEED is not JSON');
  }
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    fail('LOADTEST_SEED: expected a JSON object');
  const out = {};
  for (const [key, value] of Object.entries(given)) {
    const spec = PARAMS[key];
    if (!spec) fail(`unknown parameter "${key}"; the parameters: ${Object.keys(PARAMS).join(', ')}`);
    if (!Number.isInteger(value) || value < spec.min || value > spec.max)
      fail(`${key}: expected a whole number ${spec.min}-${spec.max}, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  for (const [key, spec] of Object.entries(PARAMS)) out[key] ??= spec.default;
  return out;
}

/** mulberry32: a small seeded generator, so the same parameters give the same tables. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pad = (n) => String(n).padStart(4, '0');

function generate(p) {
  const random = generator(p.seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const products = Array.from({ length: 12 }, (_, i) => `p-${String(i + 1).padStart(2, '0')}`);
  const customers = Array.from({ length: p.customers }, (_, i) => ({
    customerId: `c-${pad(i + 1)}`,
    name: `Customer ${i + 1}`,
    email: `customer${i + 1}@example.com`,
    tier: pick(TIERS),
    createdAt: new Date(FIRST_ORDER - (i + 1) * 24 * HOUR).toISOString(),
  }));
  const orders = [];
  customers.forEach((c, i) => {
    const count = p.orders + (i === 0 ? p.hotOrders : 0);
    for (let k = 0; k < count; k += 1) {
      const quantity = 1 + Math.floor(random() * 5);
      orders.push({
        customerId: c.customerId,
        // Increasing per customer, so every order has its own sort key.
        orderedAt: FIRST_ORDER + k * HOUR + Math.floor(random() * (HOUR / 2)),
        orderId: `o-${pad(i + 1)}-${String(k + 1).padStart(5, '0')}`,
        status: pick(STATUSES),
        productId: pick(products),
        quantity,
        total: Math.round(quantity * (5 + random() * 95) * 100) / 100,
        note: 'x'.repeat(p.padding),
      });
    }
  });
  return { customers, orders, products };
}

const db = new DynamoDBClient({});

async function writeAll(table, items) {
  const batches = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let requests = batches[next++].map((item) => ({ PutRequest: { Item: marshall(item) } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === 8)
          throw new Error(`${table}: ${requests.length} item(s) still unprocessed after 8 attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
        requests = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

const p = params();
const data = generate(p);
try {
  await writeAll(CUSTOMERS, data.customers);
  await writeAll(ORDERS, data.orders);
} catch (err) {
  console.error(`seed: writing failed: ${err.name}: ${err.message}`);
  process.exit(1);
}
const hot = data.customers[0].customerId;
const times = data.orders.map((o) => o.orderedAt);
const fixtures = {
  customers: data.customers.map((c) => c.customerId),
  hotCustomer: hot,
  products: data.products,
  statuses: STATUSES,
  // Every customer's orders lie in this window (the range queries pick spans inside it).
  window: {
    from: times.length ? Math.min(...times) : FIRST_ORDER,
    to: times.length ? Math.max(...times) : FIRST_ORDER,
  },
};
if (process.env.LOADTEST_FIXTURES) {
  await mkdir(dirname(process.env.LOADTEST_FIXTURES), { recursive: true });
  await writeFile(process.env.LOADTEST_FIXTURES, `${JSON.stringify(fixtures, null, 2)}\n`);
}
console.log(
  `seeded ${data.customers.length} customers and ${data.orders.length} orders (${p.orders + p.hotOrders} for ${hot}, the hot customer)`,
);
db.destroy();
