// The orders example: a small web app on node:http and the plain AWS SDK v3, with two tables
// (customers; orders with a numeric sort key, an LSI and a GSI). It knows nothing of loadtest: it reads
// its table names and port from the environment, and its SDK finds DynamoDB the usual way
// (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION and the credentials variables). It does not create tables.
//
//   GET   /health
//   GET   /customers/:id                          GetItem      customers
//   POST  /customers                              PutItem      customers, only if new (409 if it exists)
//   GET   /customers?ids=a,b,c                    BatchGetItem customers
//   GET   /customers/:id/orders?limit=N           Query        orders, newest first
//   GET   /customers/:id/orders?status=S          Query        orders LSI byStatus
//   GET   /customers/:id/orders?from=T1&to=T2     Query        orders, orderedAt BETWEEN T1 AND T2
//   POST  /customers/:id/orders                   PutItem      orders, only if that orderedAt is free
//   PATCH /customers/:id/orders/:orderedAt        UpdateItem   orders, status (404 if no such order)
//   GET   /products/:id/orders                    Query        orders GSI byProduct
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

const CUSTOMERS = process.env.CUSTOMERS_TABLE || 'customers';
const ORDERS = process.env.ORDERS_TABLE || 'orders';
const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const STATUSES = ['pending', 'shipped', 'delivered', 'cancelled'];
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const INTEGER = /^\d{1,15}$/;

const db = new DynamoDBClient({});

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const isThrottle = (err) =>
  err?.name === 'ProvisionedThroughputExceededException' ||
  err?.name === 'ThrottlingException' ||
  err?.name === 'RequestLimitExceeded';
const conditionFailed = (err) => err?.name === 'ConditionalCheckFailedException';

function id(value, what) {
  if (typeof value !== 'string' || !ID.test(value))
    throw new HttpError(400, `${what}: expected 1-64 of A-Z a-z 0-9 _ -`);
  return value;
}

function integer(value, what, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (typeof value !== 'string' || !INTEGER.test(value))
    throw new HttpError(400, `${what}: expected a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new HttpError(400, `${what}: expected ${min}-${max}`);
  return n;
}

function positive(value, what, max) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max)
    throw new HttpError(400, `${what}: expected a number, 0 < n <= ${max}`);
  return value;
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new HttpError(413, 'body over 64 KB');
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return body;
  } catch {
    throw new HttpError(400, 'body: expected a JSON object');
  }
}

const items = (out) => (out.Items ?? []).map((i) => unmarshall(i));

async function getCustomer(customerId) {
  const out = await db.send(new GetItemCommand({ TableName: CUSTOMERS, Key: marshall({ customerId }) }));
  if (!out.Item) throw new HttpError(404, `no customer ${customerId}`);
  return unmarshall(out.Item);
}

async function createCustomer(body) {
  const customer = {
    customerId:
      body.customerId === undefined ? `c-${randomUUID().slice(0, 8)}` : id(body.customerId, 'customerId'),
    name: typeof body.name === 'string' && body.name.length <= 200 ? body.name : 'Anonymous',
    email: typeof body.email === 'string' && body.email.length <= 200 ? body.email : '',
    tier: 'bronze',
    createdAt: new Date().toISOString(),
  };
  try {
    await db.send(
      new PutItemCommand({
        TableName: CUSTOMERS,
        Item: marshall(customer),
        ConditionExpression: 'attribute_not_exists(customerId)',
      }),
    );
  } catch (err) {
    if (conditionFailed(err)) throw new HttpError(409, `customer ${customer.customerId} exists`);
    throw err;
  }
  return customer;
}

async function getCustomers(ids) {
  let keys = ids.map((customerId) => marshall({ customerId }));
  const found = [];
  // Keys DynamoDB could not read this time (a throttled partition) come back unprocessed: ask again.
  for (let attempt = 0; keys.length > 0; attempt += 1) {
    if (attempt === 4) throw new HttpError(503, `${keys.length} customer(s) unread: throttled`);
    if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    const out = await db.send(new BatchGetItemCommand({ RequestItems: { [CUSTOMERS]: { Keys: keys } } }));
    found.push(...(out.Responses?.[CUSTOMERS] ?? []).map((i) => unmarshall(i)));
    keys = out.UnprocessedKeys?.[CUSTOMERS]?.Keys ?? [];
  }
  return found.sort((a, b) => a.customerId.localeCompare(b.customerId));
}

async function listOrders(customerId, query) {
  if (query.has('status')) {
    const status = query.get('status');
    if (!STATUSES.includes(status)) throw new HttpError(400, `status: one of ${STATUSES.join(', ')}`);
    // `status` is a reserved word: it goes through a name placeholder.
    const out = await db.send(
      new QueryCommand({
        TableName: ORDERS,
        IndexName: 'byStatus',
        KeyConditionExpression: 'customerId = :c AND #status = :s',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':c': customerId, ':s': status }),
      }),
    );
    return { items: items(out) };
  }
  if (query.has('from') || query.has('to')) {
    const from = integer(query.get('from') ?? '', 'from');
    const to = integer(query.get('to') ?? '', 'to');
    if (from > to) throw new HttpError(400, 'from: must not be after to');
    const out = await db.send(
      new QueryCommand({
        TableName: ORDERS,
        KeyConditionExpression: 'customerId = :c AND orderedAt BETWEEN :from AND :to',
        ExpressionAttributeValues: marshall({ ':c': customerId, ':from': from, ':to': to }),
      }),
    );
    return { items: items(out) };
  }
  const limit = query.has('limit') ? integer(query.get('limit'), 'limit', { min: 1, max: 1000 }) : 20;
  const out = await db.send(
    new QueryCommand({
      TableName: ORDERS,
      KeyConditionExpression: 'customerId = :c',
      ExpressionAttributeValues: marshall({ ':c': customerId }),
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return { items: items(out) };
}

async function placeOrder(customerId, body) {
  const productId = id(body.productId, 'productId');
  const quantity = positive(body.quantity, 'quantity', 1000);
  const price = positive(body.price, 'price', 1_000_000);
  const order = {
    customerId,
    orderedAt: Date.now(),
    orderId: `o-${randomUUID().slice(0, 12)}`,
    status: 'pending',
    productId,
    quantity,
    total: Math.round(quantity * price * 100) / 100,
  };
  try {
    await db.send(
      new PutItemCommand({
        TableName: ORDERS,
        Item: marshall(order),
        ConditionExpression: 'attribute_not_exists(orderedAt)',
      }),
    );
  } catch (err) {
    if (conditionFailed(err))
      throw new HttpError(409, `customer ${customerId} has an order at ${order.orderedAt}`);
    throw err;
  }
  return order;
}

async function updateOrderStatus(customerId, orderedAt, body) {
  if (!STATUSES.includes(body.status)) throw new HttpError(400, `status: one of ${STATUSES.join(', ')}`);
  try {
    const out = await db.send(
      new UpdateItemCommand({
        TableName: ORDERS,
        Key: marshall({ customerId, orderedAt }),
        UpdateExpression: 'SET #status = :s, updatedAt = :u',
        ConditionExpression: 'attribute_exists(orderedAt)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':s': body.status, ':u': new Date().toISOString() }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return unmarshall(out.Attributes ?? {});
  } catch (err) {
    if (conditionFailed(err)) throw new HttpError(404, `customer ${customerId} has no order at ${orderedAt}`);
    throw err;
  }
}

async function productOrders(productId) {
  const out = await db.send(
    new QueryCommand({
      TableName: ORDERS,
      IndexName: 'byProduct',
      KeyConditionExpression: 'productId = :p',
      ExpressionAttributeValues: marshall({ ':p': productId }),
      ScanIndexForward: false,
      Limit: 20,
    }),
  );
  return { items: items(out) };
}

async function route(req, url) {
  const path = url.pathname;
  const method = req.method;
  if (method === 'GET' && path === '/health') return [200, { ok: true }];
  if (path === '/customers') {
    if (method === 'POST') return [201, await createCustomer(await readJson(req))];
    if (method === 'GET') {
      const ids = [...new Set((url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== ''))];
      if (ids.length === 0 || ids.length > 100)
        throw new HttpError(400, 'ids: 1-100 customer ids, comma-separated');
      return [200, { customers: await getCustomers(ids.map((x) => id(x, 'ids'))) }];
    }
  }
  const customer = /^\/customers\/([^/]+)$/.exec(path);
  if (customer && method === 'GET')
    return [200, await getCustomer(id(decodeURIComponent(customer[1]), 'customer id'))];
  const orders = /^\/customers\/([^/]+)\/orders$/.exec(path);
  if (orders) {
    const customerId = id(decodeURIComponent(orders[1]), 'customer id');
    if (method === 'GET') return [200, await listOrders(customerId, url.searchParams)];
    if (method === 'POST') return [201, await placeOrder(customerId, await readJson(req))];
  }
  const order = /^\/customers\/([^/]+)\/orders\/([^/]+)$/.exec(path);
  if (order && method === 'PATCH') {
    const customerId = id(decodeURIComponent(order[1]), 'customer id');
    const orderedAt = integer(order[2], 'orderedAt');
    return [200, await updateOrderStatus(customerId, orderedAt, await readJson(req))];
  }
  const product = /^\/products\/([^/]+)\/orders$/.exec(path);
  if (product && method === 'GET')
    return [200, await productOrders(id(decodeURIComponent(product[1]), 'product id'))];
  throw new HttpError(404, `no route ${method} ${path}`);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  route(req, url)
    .then(
      ([status, body]) => [status, body, {}],
      (err) => {
        if (err instanceof HttpError) return [err.status, { error: err.message }, {}];
        // The SDK has already retried (3 attempts by default): tell the client to come back later.
        if (isThrottle(err)) return [503, { error: `throttled: ${err.name}` }, { 'retry-after': '1' }];
        console.error(`${req.method} ${url.pathname}: ${err?.name}: ${err?.message}`);
        return [500, { error: 'internal error' }, {}];
      },
    )
    .then(([status, body, headers]) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    });
});

server.listen(PORT, HOST, () => {
  console.log(`orders example: http://${HOST}:${server.address().port} (tables ${CUSTOMERS}, ${ORDERS})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    db.destroy();
  });
}
