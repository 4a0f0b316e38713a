import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import {
  type ConsumedCapacity,
  CreateTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrument, withPattern } from '../../instrument/index.js';
import {
  CapacityGate,
  createTableInput,
  type DynamoDBLocal,
  GateAdmin,
  localDynamoClient,
  startDynamoDBLocal,
  type TableSpec,
} from '../../local/index.js';

/**
 * The capacity gate as any app sees it: several tables learned from DescribeTable, calls named by a
 * tag, a rule or their shape, retries counted from the SDK's own attempt header, capacity per pattern
 * equal to what DynamoDB Local said, and its counters read and reset over its admin endpoint.
 */
let ddb: DynamoDBLocal;
let recorder: Server;
let recorderUrl: string;
const seenHeaders: IncomingHttpHeaders[] = [];

const customers: TableSpec = { name: 'svc-customers', partitionKey: { name: 'customerId', type: 'S' } };
const orders: TableSpec = {
  name: 'svc-orders',
  partitionKey: { name: 'customerId', type: 'S' },
  sortKey: { name: 'orderedAt', type: 'N' },
  localSecondaryIndexes: [{ name: 'byStatus', sortKey: { name: 'status', type: 'S' } }],
};

beforeAll(async () => {
  ddb = await startDynamoDBLocal();
  const direct = await localDynamoClient(ddb.endpoint);
  for (const t of [customers, orders]) await direct.send(new CreateTableCommand(createTableInput(t)));
  direct.destroy();
  // Between the gate and DynamoDB Local: records what the gate forwards (the tag must not reach DynamoDB).
  recorder = createServer((req, res) => {
    seenHeaders.push(req.headers);
    const up = request(
      `${ddb.endpoint}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  const addr = recorder.address();
  recorderUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  recorder?.closeAllConnections();
  await new Promise<void>((r) => (recorder ? recorder.close(() => r()) : r()));
  await ddb?.stop();
});

function client(endpoint: string, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'someoneElse', secretAccessKey: 'x' },
    maxAttempts,
  });
}

describe('the capacity gate as a service', () => {
  it('learns every table, names calls by tag, rule or shape, and charges each pattern what DynamoDB Local said', async () => {
    const gate = new CapacityGate({
      upstream: recorderUrl,
      capacity: { mode: 'on-demand' },
      rules: [{ id: 'ordersByStatus', table: orders.name, index: 'byStatus', operations: ['Query'] }],
    });
    const endpoint = await gate.listen();
    const learned = await gate.learnAll();
    expect(learned.map((t) => t.name).sort()).toEqual([customers.name, orders.name]);
    const c = instrument(client(endpoint));
    const consumed: Record<string, number> = {};
    const add = (id: string, cc: ConsumedCapacity | undefined) => {
      consumed[id] = (consumed[id] ?? 0) + (cc?.CapacityUnits ?? 0);
    };
    try {
      for (let i = 0; i < 3; i += 1) {
        const put = await withPattern('addOrder', () =>
          c.send(
            new PutItemCommand({
              TableName: orders.name,
              Item: {
                customerId: { S: 'C1' },
                orderedAt: { N: String(i) },
                status: { S: 'OPEN' },
                pad: { S: 'x'.repeat(1500) },
              },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        add('addOrder', put.ConsumedCapacity);
      }
      const q = await c.send(
        new QueryCommand({
          TableName: orders.name,
          IndexName: 'byStatus',
          KeyConditionExpression: 'customerId = :c AND #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':c': { S: 'C1' }, ':s': { S: 'OPEN' } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      add('ordersByStatus', q.ConsumedCapacity);
      const g = await c.send(
        new GetItemCommand({
          TableName: customers.name,
          Key: { customerId: { S: 'CUSTOMER#7' } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const auto = 'GetItem svc-customers customerId = CUSTOMER#?';
      add(auto, g.ConsumedCapacity);
      const snap = gate.snapshot();
      expect(snap.declared).toEqual(['ordersByStatus']);
      expect(snap.patterns.addOrder).toMatchObject({
        source: 'tag',
        count: 3,
        tables: [orders.name],
        operations: ['PutItem'],
      });
      expect(snap.patterns.ordersByStatus).toMatchObject({ source: 'rule', count: 1, items: 3 });
      expect(snap.patterns[auto]).toMatchObject({ source: 'auto', count: 1, items: 0 });
      // What DynamoDB Local told the client, call by call, is what the gate charged each pattern.
      expect(snap.patterns.addOrder?.wcu).toBe(consumed.addOrder);
      // 1.5 KB items: 2 WCU on the table and 2 on the LSI that holds them, per write.
      expect(snap.patterns.addOrder?.capacity).toEqual({
        [orders.name]: { rcu: 0, wcu: 6 },
        [`${orders.name}/byStatus`]: { rcu: 0, wcu: 6 },
      });
      expect(snap.patterns.ordersByStatus?.rcu).toBe(consumed.ordersByStatus);
      expect(snap.patterns[auto]?.rcu).toBe(consumed[auto]);
      // The LSI's reads land on the table's capacity, reported under the index per pattern.
      expect(snap.patterns.ordersByStatus?.capacity[`${orders.name}/byStatus`]?.rcu).toBeGreaterThan(0);
      // The tag never reached DynamoDB.
      expect(seenHeaders.length).toBeGreaterThan(0);
      expect(seenHeaders.some((h) => 'x-loadtest-pattern' in h)).toBe(false);
    } finally {
      c.destroy();
      await gate.close();
    }
  });

  it('throttles each table at its own capacity, counts the SDK retries from its attempt header, and names the hot key', async () => {
    let now = 1_000_000;
    const gate = new CapacityGate({
      upstream: ddb.endpoint,
      clock: () => now,
      capacity: {
        mode: 'on-demand',
        tables: { [customers.name]: { mode: 'provisioned', table: { read: 1, write: 1 } } },
      },
    });
    const endpoint = await gate.listen();
    // The SDK's standard retries with no real waiting: the clock stands still, so a throttle stays.
    const c = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      maxAttempts: 3,
    });
    try {
      // Burst: 300 s of 1 WCU. Spend it, then the next writes are throttled and retried by the SDK.
      let throttled = 0;
      for (let i = 0; i < 302; i += 1) {
        try {
          await c.send(
            new PutItemCommand({
              TableName: customers.name,
              Item: { customerId: { S: 'HOT' }, n: { N: String(i) } },
            }),
          );
        } catch (err) {
          expect((err as Error).name).toBe('ProvisionedThroughputExceededException');
          expect(
            (err as { ThrottlingReasons?: { reason: string; resource: string }[] }).ThrottlingReasons?.[0],
          ).toEqual({
            reason: 'TableWriteProvisionedThroughputExceeded',
            resource: `arn:aws:dynamodb:local:000000000000:table/${customers.name}`,
          });
          throttled += 1;
        }
      }
      expect(throttled).toBeGreaterThan(0);
      // The other table is on-demand: untouched.
      await c.send(
        new PutItemCommand({
          TableName: orders.name,
          Item: { customerId: { S: 'HOT' }, orderedAt: { N: '1' } },
        }),
      );
      const snap = gate.snapshot();
      const p = snap.patterns[`PutItem ${customers.name} customerId = ?`];
      // Three attempts per throttled request: two of them retries, the last one a throttled request.
      expect(p?.throttledRequests).toBe(throttled);
      expect(p?.retries).toBe(throttled * 2);
      expect(p?.throttleEvents).toBe(throttled * 3);
      expect(p?.throttleReasons).toEqual({ TableWriteProvisionedThroughputExceeded: throttled * 3 });
      expect(p?.errorCodes).toEqual({ ProvisionedThroughputExceededException: throttled * 3 });
      expect(snap.tables.find((t) => t.table === customers.name && t.index === null)).toMatchObject({
        writeThrottleEvents: throttled * 3,
        provisioned: { read: 1, write: 1 },
      });
      expect(snap.tables.find((t) => t.table === orders.name && t.index === null)).toMatchObject({
        writeThrottleEvents: 0,
        provisioned: null,
      });
      expect(snap.hotKeys[0]).toMatchObject({ table: customers.name, index: null, partitionKey: 'HOT' });
      now += 10_000;
      await c.send(new PutItemCommand({ TableName: customers.name, Item: { customerId: { S: 'HOT' } } }));
    } finally {
      c.destroy();
      await gate.close();
    }
  });

  it('holds calls until it is opened, so an app can start before DynamoDB does', async () => {
    const gate = new CapacityGate({ capacity: { mode: 'on-demand' } });
    const endpoint = await gate.listen();
    const c = client(endpoint);
    try {
      const pending = c.send(new ListTablesCommand({}));
      await new Promise((r) => setTimeout(r, 300));
      gate.open(ddb.endpoint);
      expect((await pending).TableNames).toContain(orders.name);
    } finally {
      c.destroy();
      await gate.close();
    }
  });

  it('serves its counters and takes resets on its loopback admin endpoint, refusing bad input with a 4xx', async () => {
    const gate = new CapacityGate({ upstream: ddb.endpoint, capacity: { mode: 'on-demand' } });
    const endpoint = await gate.listen();
    const adminUrl = await gate.listenAdmin();
    const admin = new GateAdmin(adminUrl);
    const c = client(endpoint);
    await gate.learnAll();
    try {
      await c.send(new GetItemCommand({ TableName: customers.name, Key: { customerId: { S: 'A' } } }));
      // A PartiQL SELECT is sized just after its answer: a snapshot taken at once still has it.
      await c.send(
        new ExecuteStatementCommand({
          Statement: `SELECT * FROM "${customers.name}" WHERE customerId = 'A'`,
        }),
      );
      const snap = await admin.snapshot();
      expect(snap.patterns[`GetItem ${customers.name} customerId = ?`]?.count).toBe(1);
      expect(Object.values(snap.patterns).reduce((n, p) => n + (p?.count ?? 0), 0)).toBe(2);
      expect(snap).toEqual(JSON.parse(JSON.stringify({ ...gate.snapshot(), at: snap.at })));
      const capacity = await admin.reset({
        tables: { [orders.name]: { mode: 'provisioned', table: { read: 3, write: 2 } } },
      });
      expect(capacity).toEqual({
        tables: { [orders.name]: { mode: 'provisioned', table: { read: 3, write: 2 } } },
      });
      expect(Object.keys((await admin.snapshot()).patterns)).toEqual([]);
      expect((await admin.snapshot()).capacity[orders.name]).toMatchObject({
        mode: 'provisioned',
        table: { read: 3, write: 2 },
      });
      const merged = await admin.reset({ maxRead: 50 }, { merge: true });
      expect(merged).toMatchObject({ maxRead: 50, tables: { [orders.name]: { mode: 'provisioned' } } });

      const bad = await fetch(`${adminUrl}/reset`, {
        method: 'POST',
        body: JSON.stringify({ capacity: { table: { read: -1 } } }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: expect.stringMatching(/^capacity\.table\.read: /) });
      expect((await fetch(`${adminUrl}/reset`, { method: 'POST', body: '{oops' })).status).toBe(400);
      expect((await fetch(`${adminUrl}/snapshot`, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(`${adminUrl}/nothing`)).status).toBe(404);
      // Another host name (DNS rebinding from a web page) is refused.
      const port = new URL(adminUrl).port;
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/snapshot', headers: { host: `evil.example:${port}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(421);
    } finally {
      c.destroy();
      await gate.close();
    }
  });

  it('passes control-plane answers through as DynamoDB sent them, request id and checksum included', async () => {
    const gate = new CapacityGate({ upstream: ddb.endpoint, capacity: { mode: 'on-demand' } });
    const endpoint = await gate.listen();
    const c = client(endpoint);
    try {
      const out = await c.send(new ListTablesCommand({}));
      expect(out.$metadata.requestId).toMatch(/\S/);
      expect(out.TableNames).toContain(customers.name);
      // A table made through the gate is learned on its first call.
      await c.send(
        new CreateTableCommand(
          createTableInput({ name: 'svc-late', partitionKey: { name: 'k', type: 'S' } }),
        ),
      );
      await c.send(new PutItemCommand({ TableName: 'svc-late', Item: { k: { S: 'v' } } }));
      expect(gate.tables().map((t) => t.name)).toContain('svc-late');
      expect(gate.snapshot().patterns['PutItem svc-late k = ?']?.wcu).toBe(1);
    } finally {
      c.destroy();
      await gate.close();
    }
  });
});
