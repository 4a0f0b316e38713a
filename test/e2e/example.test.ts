import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type ConsumedCapacity,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateAdmin, type GateSnapshot } from '../../local/index.js';
import type { PatternRow, Report } from '../../runner/report/types.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { call, EXAMPLE_CONFIG, EXAMPLE_DIR, type UpStack, upExample } from '../helpers/example-project.js';

/**
 * The orders example (examples/orders: two tables, an LSI, a GSI, a numeric sort key; plain JavaScript
 * that knows nothing of the toolkit) run by the real CLI:
 *
 * a. the gate's RCU/WCU per access pattern equal what DynamoDB Local itself reports (ConsumedCapacity)
 *    for the same calls, replayed on copies of the tables;
 * b. at 1 RCU / 1 WCU with every user on one customer: throttles per pattern with DynamoDB's reasons,
 *    the SDK's retries, the hot key, and the exit code the scenario's thresholds give;
 * c. the report names the calls by the project's rules and one automatically.
 */
const HOUR = 3_600_000;
const SHADOW = 'shadow-';

interface Fixtures {
  customers: string[];
  hotCustomer: string;
  products: string[];
  statuses: string[];
  window: { from: number; to: number };
}

interface Expected {
  source: 'rule' | 'auto';
  calls: number;
  rcu: number;
  wcu: number;
  /** Per table or index, keyed as the gate keys them (`orders`, `orders/byStatus`). */
  capacity: Record<string, { rcu: number; wcu: number }>;
  errorCodes: Record<string, number>;
}

let up: UpStack;
let direct: DynamoDBClient;
let fixtures: Fixtures;
let scratch: string;
/** The hot scenario runs on a stack of its own; started first, so it runs while the other tests do. */
let hotRun: CliRun | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'loadtest-example-e2e-'));
  hotRun = runCli([
    'run',
    join(EXAMPLE_DIR, 'scenarios/hot.yml'),
    '--output',
    join(scratch, 'hot.json'),
    '--state-dir',
    join(scratch, 'hot-state'),
  ]);
  // The data command's defaults: 20 customers with 10 orders each, big enough that a customer's whole
  // history costs more than the smallest read.
  up = await upExample();
  fixtures = JSON.parse(await readFile(up.stack.fixtures ?? '', 'utf8')) as Fixtures;
  direct = new DynamoDBClient({
    endpoint: up.stack.dynamodbEndpoint,
    region: up.stack.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 120_000);

afterAll(async () => {
  direct?.destroy();
  if (hotRun && hotRun.child.exitCode === null && hotRun.child.signalCode === null) {
    hotRun.child.kill('SIGTERM');
    await hotRun.exited;
  }
  await up?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of a table (same keys, indexes, projections, items) under another name, straight on DynamoDB Local. */
async function copyTable(name: string): Promise<void> {
  const { Table: t } = await direct.send(new DescribeTableCommand({ TableName: name }));
  if (!t?.KeySchema || !t.AttributeDefinitions) throw new Error(`DescribeTable ${name}: no key schema`);
  await direct.send(
    new CreateTableCommand({
      TableName: `${SHADOW}${name}`,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: t.AttributeDefinitions,
      KeySchema: t.KeySchema,
      ...(t.LocalSecondaryIndexes?.length
        ? {
            LocalSecondaryIndexes: t.LocalSecondaryIndexes.map((i) => ({
              IndexName: i.IndexName,
              KeySchema: i.KeySchema,
              Projection: i.Projection,
            })),
          }
        : {}),
      ...(t.GlobalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexes: t.GlobalSecondaryIndexes.map((i) => ({
              IndexName: i.IndexName,
              KeySchema: i.KeySchema,
              Projection: i.Projection,
            })),
          }
        : {}),
    }),
  );
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await direct.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await direct.send(
          new BatchWriteItemCommand({ RequestItems: { [`${SHADOW}${name}`]: requests } }),
        );
        requests = (out.UnprocessedItems?.[`${SHADOW}${name}`] ?? []) as typeof requests;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

describe('the orders example (a project nobody wrote the toolkit for)', () => {
  it('charges each access pattern what DynamoDB Local reports for the same calls, corrected by the documented rules', async () => {
    const app = up.stack.appUrl ?? '';
    expect(app).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([...up.stack.tables].sort()).toEqual(['customers', 'orders']);
    for (const t of up.stack.tables) await copyTable(t);

    // What DynamoDB Local says, per pattern: the app's calls replayed on the copies, which hold the
    // same items before each call (the copies get the same writes, in the same order).
    const expected = new Map<string, Expected>();
    const replay = async (
      pattern: string,
      source: Expected['source'],
      kind: 'rcu' | 'wcu',
      send: () => Promise<{ ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>,
      errorCode?: string,
    ) => {
      const out = await send();
      const e: Expected = expected.get(pattern) ?? {
        source,
        calls: 0,
        rcu: 0,
        wcu: 0,
        capacity: {},
        errorCodes: {},
      };
      e.calls += 1;
      if (errorCode) e.errorCodes[errorCode] = (e.errorCodes[errorCode] ?? 0) + 1;
      const consumed = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : [out.ConsumedCapacity];
      for (const c of consumed) {
        if (!c?.TableName) throw new Error(`${pattern}: DynamoDB Local returned no ConsumedCapacity`);
        // A Query that found nothing costs the minimum read (API reference, Query: "Queries that do
        // not return results consume the minimum number of read capacity units"); DynamoDB Local
        // says 0, the gate charges the rule. These replays are eventually consistent: half a unit,
        // on the index queried (or the table).
        if (kind === 'rcu' && c.CapacityUnits === 0) {
          c.CapacityUnits = 0.5;
          const index = [
            ...Object.values(c.LocalSecondaryIndexes ?? {}),
            ...Object.values(c.GlobalSecondaryIndexes ?? {}),
          ][0];
          if (index) index.CapacityUnits = 0.5;
          else c.Table = { CapacityUnits: 0.5 };
        }
        const table = c.TableName.slice(SHADOW.length);
        e[kind] += c.CapacityUnits ?? 0;
        const parts: [string, number][] = [
          ...Object.entries(c.LocalSecondaryIndexes ?? {}).map(([i, u]): [string, number] => [
            `${table}/${i}`,
            u.CapacityUnits ?? 0,
          ]),
          ...Object.entries(c.GlobalSecondaryIndexes ?? {}).map(([i, u]): [string, number] => [
            `${table}/${i}`,
            u.CapacityUnits ?? 0,
          ]),
        ];
        const indexes = parts.reduce((s, [, u]) => s + u, 0);
        // The table's own share (when DynamoDB leaves out the `Table` entry, what the indexes did not take).
        parts.push([table, c.Table?.CapacityUnits ?? (c.CapacityUnits ?? 0) - indexes]);
        // DynamoDB's total is the sum of its parts.
        expect(
          parts.reduce((s, [, u]) => s + u, 0),
          `${pattern}: ${JSON.stringify(c)}`,
        ).toBeCloseTo(c.CapacityUnits ?? 0, 6);
        for (const [key, units] of parts) {
          if (units <= 0) continue;
          const cur = e.capacity[key] ?? { rcu: 0, wcu: 0 };
          cur[kind] += units;
          e.capacity[key] = cur;
        }
      }
      expected.set(pattern, e);
    };
    const INDEXES = { ReturnConsumedCapacity: 'INDEXES' } as const;
    const customers = `${SHADOW}customers`;
    const orders = `${SHADOW}orders`;
    const [c1 = '', c2 = '', c3 = ''] = fixtures.customers;
    const product = fixtures.products[0] ?? '';

    const admin = new GateAdmin(up.stack.gateAdminUrl ?? '');
    await admin.reset();

    // The app's calls, one HTTP request at a time, each followed by the same DynamoDB call on the copy.
    let r = await call(app, 'GET', `/customers/${c2}`);
    expect(r.status).toBe(200);
    expect(r.body.customerId).toBe(c2);
    await replay('getCustomer', 'rule', 'rcu', () =>
      direct.send(
        new GetItemCommand({ TableName: customers, Key: marshall({ customerId: c2 }), ...INDEXES }),
      ),
    );

    r = await call(app, 'GET', '/customers/c-nobody');
    expect(r.status).toBe(404);
    await replay('getCustomer', 'rule', 'rcu', () =>
      direct.send(
        new GetItemCommand({ TableName: customers, Key: marshall({ customerId: 'c-nobody' }), ...INDEXES }),
      ),
    );

    r = await call(app, 'GET', `/customers?ids=${c1},${c2},${c3}`);
    expect(r.status).toBe(200);
    expect(r.body.customers).toHaveLength(3);
    await replay('getCustomers', 'rule', 'rcu', () =>
      direct.send(
        new BatchGetItemCommand({
          RequestItems: { [customers]: { Keys: [c1, c2, c3].map((customerId) => marshall({ customerId })) } },
          ...INDEXES,
        }),
      ),
    );

    for (const limit of [1000, 3]) {
      r = await call(app, 'GET', `/customers/${c2}/orders?limit=${limit}`);
      expect(r.status).toBe(200);
      expect(r.body.items).toHaveLength(Math.min(limit, 10));
      await replay('listOrders', 'rule', 'rcu', () =>
        direct.send(
          new QueryCommand({
            TableName: orders,
            KeyConditionExpression: 'customerId = :c',
            ExpressionAttributeValues: marshall({ ':c': c2 }),
            ScanIndexForward: false,
            Limit: limit,
            ...INDEXES,
          }),
        ),
      );
    }

    const byStatus = async (status: string) => {
      const answer = await call(app, 'GET', `/customers/${c2}/orders?status=${status}`);
      expect(answer.status).toBe(200);
      await replay('ordersByStatus', 'rule', 'rcu', () =>
        direct.send(
          new QueryCommand({
            TableName: orders,
            IndexName: 'byStatus',
            KeyConditionExpression: 'customerId = :c AND #status = :s',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: marshall({ ':c': c2, ':s': status }),
            ...INDEXES,
          }),
        ),
      );
      return answer.body.items as { status: string }[];
    };
    const shippedBefore = await byStatus('shipped');

    const from = fixtures.window.from;
    const to = from + 5 * HOUR;
    r = await call(app, 'GET', `/customers/${c2}/orders?from=${from}&to=${to}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(0);
    await replay('ordersInRange', 'rule', 'rcu', () =>
      direct.send(
        new QueryCommand({
          TableName: orders,
          KeyConditionExpression: 'customerId = :c AND orderedAt BETWEEN :from AND :to',
          ExpressionAttributeValues: marshall({ ':c': c2, ':from': from, ':to': to }),
          ...INDEXES,
        }),
      ),
    );

    // No rule matches the GSI query: the gate names it by its shape.
    const auto = 'Query orders.byProduct productId = ?';
    r = await call(app, 'GET', `/products/${product}/orders`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(0);
    await replay(auto, 'auto', 'rcu', () =>
      direct.send(
        new QueryCommand({
          TableName: orders,
          IndexName: 'byProduct',
          KeyConditionExpression: 'productId = :p',
          ExpressionAttributeValues: marshall({ ':p': product }),
          ScanIndexForward: false,
          Limit: 20,
          ...INDEXES,
        }),
      ),
    );

    // Writes: the table, the LSI and the GSI each take their share.
    r = await call(app, 'POST', `/customers/${c2}/orders`, { productId: product, quantity: 2, price: 9.99 });
    expect(r.status).toBe(201);
    const order = r.body as Record<string, unknown>;
    expect(order).toMatchObject({ customerId: c2, status: 'pending', productId: product, total: 19.98 });
    await replay('placeOrder', 'rule', 'wcu', () =>
      direct.send(
        new PutItemCommand({
          TableName: orders,
          Item: marshall(order),
          ConditionExpression: 'attribute_not_exists(orderedAt)',
          ...INDEXES,
        }),
      ),
    );

    r = await call(app, 'PATCH', `/customers/${c2}/orders/${order.orderedAt}`, { status: 'shipped' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ orderId: order.orderId, status: 'shipped' });
    const updatedAt = r.body.updatedAt as string;
    await replay('updateOrderStatus', 'rule', 'wcu', () =>
      direct.send(
        new UpdateItemCommand({
          TableName: orders,
          Key: marshall({ customerId: c2, orderedAt: order.orderedAt }),
          UpdateExpression: 'SET #status = :s, updatedAt = :u',
          ConditionExpression: 'attribute_exists(orderedAt)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall({ ':s': 'shipped', ':u': updatedAt }),
          ReturnValues: 'ALL_NEW',
          ...INDEXES,
        }),
      ),
    );
    // The LSI has the order under its new status now.
    expect((await byStatus('shipped')).length).toBe(shippedBefore.length + 1);

    r = await call(app, 'POST', '/customers', {
      customerId: 'c-e2e',
      name: 'End To End',
      email: 'e2e@example.com',
    });
    expect(r.status).toBe(201);
    const created = r.body as Record<string, unknown>;
    await replay('createCustomer', 'rule', 'wcu', () =>
      direct.send(
        new PutItemCommand({
          TableName: customers,
          Item: marshall(created),
          ConditionExpression: 'attribute_not_exists(customerId)',
          ...INDEXES,
        }),
      ),
    );

    // Last, as it changes the copy: a write whose condition fails still costs what the write would
    // (the larger of the old and new item, on the table). DynamoDB Local reports nothing for a failed
    // condition, so its figure is the same write made without the condition.
    const duplicate = { customerId: c1, name: 'Someone Else', email: 'else@example.com' };
    r = await call(app, 'POST', '/customers', duplicate);
    expect(r.status).toBe(409);
    await replay(
      'createCustomer',
      'rule',
      'wcu',
      () =>
        direct.send(
          new PutItemCommand({
            TableName: customers,
            // The app's item: tier and an ISO time of the same length as any other.
            Item: marshall({ ...duplicate, tier: 'bronze', createdAt: new Date().toISOString() }),
            ...INDEXES,
          }),
        ),
      'ConditionalCheckFailedException',
    );

    const snapshot: GateSnapshot = await admin.snapshot();
    console.info(
      `orders example, gate vs DynamoDB Local per pattern:\n${[...expected]
        .map(
          ([id, e]) => `  ${id}: ${e.calls} calls, ${e.rcu} RCU, ${e.wcu} WCU ${JSON.stringify(e.capacity)}`,
        )
        .join('\n')}`,
    );
    expect(Object.keys(snapshot.patterns).sort()).toEqual([...expected.keys()].sort());
    for (const [id, e] of expected) {
      const got = snapshot.patterns[id];
      expect(got, id).toBeDefined();
      if (!got) continue;
      expect({ id, source: got.source, count: got.count, errorCodes: got.errorCodes }).toEqual({
        id,
        source: e.source,
        count: e.calls,
        errorCodes: e.errorCodes,
      });
      expect(got.rcu, `${id} RCU`).toBeCloseTo(e.rcu, 6);
      expect(got.wcu, `${id} WCU`).toBeCloseTo(e.wcu, 6);
      expect(Object.keys(got.capacity).sort(), `${id} tables and indexes`).toEqual(
        Object.keys(e.capacity).sort(),
      );
      for (const [key, units] of Object.entries(e.capacity)) {
        expect(got.capacity[key]?.rcu, `${id} ${key} RCU`).toBeCloseTo(units.rcu, 6);
        expect(got.capacity[key]?.wcu, `${id} ${key} WCU`).toBeCloseTo(units.wcu, 6);
      }
    }
    // Not trivially equal: reads of several units, writes to the LSI and the GSI, the failed write.
    expect(expected.get('listOrders')?.rcu).toBeGreaterThan(1);
    expect(Object.keys(expected.get('placeOrder')?.capacity ?? {}).sort()).toEqual([
      'orders',
      'orders/byProduct',
      'orders/byStatus',
    ]);
    expect(expected.get('createCustomer')?.wcu).toBeGreaterThanOrEqual(2);

    // Per table (an LSI draws on its table's capacity; a GSI has its own), as CloudWatch would count.
    const sum = (pred: (key: string) => boolean, kind: 'rcu' | 'wcu') =>
      [...expected.values()].reduce(
        (s, e) => s + Object.entries(e.capacity).reduce((t, [k, u]) => t + (pred(k) ? u[kind] : 0), 0),
        0,
      );
    const target = (table: string, index: string | null) =>
      snapshot.tables.find((t) => t.table === table && t.index === index);
    for (const kind of ['rcu', 'wcu'] as const) {
      const field = kind === 'rcu' ? 'consumedRcu' : 'consumedWcu';
      expect(target('customers', null)?.[field], `customers ${kind}`).toBeCloseTo(
        sum((k) => k === 'customers', kind),
        6,
      );
      expect(target('orders', null)?.[field], `orders ${kind}`).toBeCloseTo(
        sum((k) => k === 'orders' || k === 'orders/byStatus', kind),
        6,
      );
      expect(target('orders', 'byProduct')?.[field], `orders/byProduct ${kind}`).toBeCloseTo(
        sum((k) => k === 'orders/byProduct', kind),
        6,
      );
    }
  }, 60_000);

  it('reads the report of its everyday scenario: rule-named rows, one named automatically, a request name of its own', async () => {
    // `loadtest run --url` against the app of `loadtest up`, measured through that stack's gate.
    const output = join(scratch, 'orders.json');
    const run = runCli([
      'run',
      join(EXAMPLE_DIR, 'scenarios/orders.yml'),
      '--url',
      up.stack.appUrl ?? '',
      '--state-dir',
      up.state,
      '--duration',
      '4',
      '--rate',
      '3',
      '--output',
      output,
    ]);
    const { code } = await run.exited;
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    expect(report).toMatchObject({
      scenario: 'orders',
      passed: true,
      project: { name: 'orders', file: EXAMPLE_CONFIG },
    });
    const row = (id: string) => report.patterns.find((p) => p.id === id);
    const ruled = [
      'getCustomer',
      'getCustomers',
      'placeOrder',
      'updateOrderStatus',
      'ordersByStatus',
      'ordersInRange',
      'listOrders',
    ];
    for (const id of ruled) {
      // Requests named after their pattern: one row with both sides.
      expect(row(id), id).toMatchObject({ pattern: true, source: 'rule', requestName: true });
      expect(row(id)?.calls, id).toBeGreaterThan(0);
      expect(row(id)?.requests, id).toBeGreaterThan(0);
    }
    const autoRows = report.patterns.filter((p) => p.source === 'auto');
    expect(autoRows.map((p) => p.id)).toEqual(['Query orders.byProduct productId = ?']);
    const auto = autoRows[0] as PatternRow;
    // <Operation> <table>.<index> <key condition with the values taken out>
    expect(auto.id).toMatch(/^Query orders\.byProduct /);
    expect(auto).toMatchObject({ pattern: true, requestName: false, latencyMs: null });
    expect(auto.calls).toBeGreaterThan(0);
    expect(auto.rcuPerRequest).toBeGreaterThan(0);
    // The request that made those calls is a row of its own, client side only.
    expect(row('productOrders')).toMatchObject({
      pattern: false,
      source: null,
      requestName: true,
      calls: null,
    });
    expect(row('productOrders')?.requests).toBe(auto.calls);
    // The console table says which rows the gate named by itself.
    expect(run.stdout()).toContain('Query orders.byProduct productId = ? (auto)');
    expect(run.stdout()).toMatch(/productOrders \(not a pattern\)/);
  }, 60_000);

  it('does not take a gate that saw no call for a measured zero: an app that bypasses it is "not measured"', async () => {
    // An app that does not use `loadtest up`'s gate (here: no DynamoDB at all) while `up` runs.
    const { createServer } = await import('node:http');
    const other = createServer((_req, res) => res.writeHead(200).end('{}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const path = join(scratch, 'bypass.yml');
      await writeFile(
        path,
        'config:\n  target: http://127.0.0.1:1\n  phases: [{ duration: 1, arrivalRate: 3 }]\nscenarios:\n  - flow: [{ get: { url: /, name: home } }]\n',
      );
      const output = join(scratch, 'bypass.json');
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const run = runCli([
        'run',
        path,
        '--config',
        EXAMPLE_CONFIG,
        '--url',
        url,
        '--state-dir',
        up.state,
        '--output',
        output,
      ]);
      expect((await run.exited).code, run.stderr()).toBe(0);
      const report = JSON.parse(await readFile(output, 'utf8')) as Report;
      expect(report.sources?.dynamodb).toBeNull();
      expect(report.notMeasured).toMatch(
        /saw no DynamoDB call during the run: either the scenario's requests touch no DynamoDB, or the app at http:\/\/127\.0\.0\.1:\d+ does not send its calls to the gate \(is it using AWS_ENDPOINT_URL_DYNAMODB=/,
      );
      expect(report.patterns.find((p) => p.id === 'home')).toMatchObject({
        requests: 3,
        calls: null,
        rcu: null,
      });
    } finally {
      other.closeAllConnections();
      await new Promise<void>((r) => other.close(() => r()));
    }
  }, 60_000);

  it('throttles one hot customer at 1 RCU: per-pattern throttles with reasons, retries, the hot key, exit 1', async () => {
    const output = join(scratch, 'hot.json');
    const run = hotRun as CliRun;
    const { code } = await run.exited;
    // The scenario's thresholds say a healthy run has no throttles: this one fails them, exit code 1.
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(1);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    expect(report.passed).toBe(false);
    expect(report.partial).toBe(false);
    const row = (id: string) => report.patterns.find((p) => p.id === id) as PatternRow;
    const list = row('listOrders');
    expect(list).toMatchObject({ source: 'rule', requestName: true });
    expect(list.throttleEvents).toBeGreaterThan(0);
    // DynamoDB's reasons, on the table (an LSI query draws on its table's capacity too).
    const reasons = Object.keys(list.throttleReasons ?? {});
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons)
      expect(r).toMatch(/^TableRead(ProvisionedThroughput|KeyRangeThroughput)Exceeded$/);
    expect(Object.values(list.throttleReasons ?? {}).reduce((s, n) => s + n, 0)).toBe(list.throttleEvents);
    // The app's SDK retried (3 attempts by default), and the gate counted its attempts.
    expect(list.retries).toBeGreaterThan(0);
    expect(list.calls).toBeGreaterThan(list.requests);
    expect(list.throttledRequests).toBeGreaterThan(0);
    expect(row('ordersByStatus').throttleEvents).toBeGreaterThan(0);
    // The customers table, read half a unit at a time, never ran out.
    expect(row('getCustomer')).toMatchObject({ throttleEvents: 0, errors: 0 });
    // The hot key: the seed's first customer is the one every user reads.
    const hot = report.hotKeys?.[0];
    expect(hot).toMatchObject({ table: 'orders', index: null, partitionKey: 'c-0001' });
    expect(hot?.throttleEvents).toBeGreaterThan(0);
    expect((report.hotKeys ?? []).filter((k) => k.throttleEvents > 0).map((k) => k.partitionKey)).toEqual([
      'c-0001',
    ]);
    const orders = report.tables?.find((t) => t.table === 'orders' && t.index === null);
    expect(orders).toMatchObject({ provisioned: { read: 1, write: 1 } });
    expect(orders?.readThrottleEvents).toBeGreaterThan(0);
    // Verdicts: the thresholds that fail are exactly the throttle ones on the throttled patterns.
    const failed = report.thresholds.filter((t) => !t.passed).map((t) => `${t.pattern} ${t.metric}`);
    expect(failed).toContain('listOrders throttleEvents');
    expect(failed).toContain('listOrders throttledRequests');
    expect(failed).not.toContain('getCustomer throttledRequests');
    expect(run.stdout()).toMatch(/FAILED threshold listOrders: throttleEvents == 0/);
  }, 90_000);
});
