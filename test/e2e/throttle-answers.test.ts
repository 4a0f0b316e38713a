import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapacityGate,
  type DynamoDBLocal,
  type GateCapacity,
  startDynamoDBLocal,
} from '../../local/index.js';
import { ROOT } from '../helpers/cli.js';
import { PYTHON, requireBoto3 } from '../helpers/python.js';
import { wireCall } from '../helpers/wire.js';

/**
 * Throttle answers per mode and limit, as AWS documents them (local/gate/throttle-errors.ts cites the
 * pages): the exception, its `ThrottlingReasons` (`throttlingReasons` on ThrottlingException) and
 * message; and both SDKs, the JS SDK v3 and botocore, take each for a throttle and retry it, except
 * the cancelled transaction, which DynamoDB does not retry for you either. The gate's clock stands
 * still, so no bucket refills between a call and its retries.
 */
const run = promisify(execFile);
const SCRIPT = join(ROOT, 'test/fixtures/python/throttled_calls.py');

const NOW = 1_800_000_000_000;
const MESSAGES = {
  provisionedTable:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  maxOnDemand: 'Throughput exceeds the maximum OnDemandThroughput configured on table or index',
  account:
    'Throughput exceeds the current throughput limit for your account. To request a limit increase, contact AWS Support at https://aws.amazon.com/support.',
  scaling: 'Throughput exceeds the current capacity of your table or index.',
};

const CAPACITY: GateCapacity = {
  tables: {
    'thr-prov': { mode: 'provisioned', table: { read: 1, write: 1 } },
    'thr-big': { mode: 'provisioned', table: { read: 40_000, write: 40_000 } },
    'thr-max': { mode: 'on-demand', maxRead: 1, maxWrite: 1 },
    'thr-hot': { mode: 'on-demand' },
    'thr-quota': { mode: 'on-demand', quota: { read: 1, write: 1 } },
  },
};

let ddb: DynamoDBLocal;
let gate: CapacityGate;
let endpoint: string;

beforeAll(async () => {
  requireBoto3();
  ddb = await startDynamoDBLocal();
  for (const name of Object.keys(CAPACITY.tables ?? {}))
    await wireCall(ddb.endpoint, 'CreateTable', {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
  gate = new CapacityGate({
    upstream: ddb.endpoint,
    capacity: CAPACITY,
    clock: () => NOW,
    region: 'us-east-1',
  });
  endpoint = await gate.listen();
  await gate.learnAll();
}, 60_000);

afterAll(async () => {
  await gate?.close();
  await ddb?.stop();
});

/** A 400 KB item: 391 write units, so a few of them drain a bucket whose clock stands still. */
const big = (pk: string) => ({ pk: { S: pk }, d: { S: 'x'.repeat(399_990) } });

function jsClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'throttled', secretAccessKey: 'x' },
    maxAttempts: 3,
  });
}

interface JsOutcome {
  name?: string;
  message?: string;
  attempts?: number;
  reasons?: unknown;
  throttling?: boolean;
  cancellation?: unknown;
}

async function jsCall(send: () => Promise<unknown>): Promise<JsOutcome> {
  try {
    await send();
    return {};
  } catch (err) {
    const e = err as Error & {
      $metadata?: { attempts?: number };
      $retryable?: { throttling?: boolean };
      ThrottlingReasons?: unknown;
      throttlingReasons?: unknown;
      CancellationReasons?: unknown;
    };
    return {
      name: e.name,
      message: e.message,
      ...(e.$metadata?.attempts !== undefined ? { attempts: e.$metadata.attempts } : {}),
      reasons: e.ThrottlingReasons ?? e.throttlingReasons,
      ...(e.CancellationReasons ? { cancellation: e.CancellationReasons } : {}),
    };
  }
}

interface PyOutcome {
  name: string;
  code: string | null;
  message: string | null;
  retryAttempts: number;
  body: string | null;
}

async function pyCalls(
  calls: { name: string; op: string; params: unknown }[],
): Promise<Record<string, PyOutcome>> {
  const dir = mkdtempSync(join(tmpdir(), 'throttled-'));
  const file = join(dir, 'calls.json');
  writeFileSync(file, JSON.stringify(calls));
  const { stdout } = await run(PYTHON, [SCRIPT, endpoint, file], { maxBuffer: 64 * 1024 * 1024 });
  return Object.fromEntries((JSON.parse(stdout) as PyOutcome[]).map((o) => [o.name, o]));
}

const arn = (table: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`;

describe('throttle answers per mode and limit', () => {
  it('provisioned, table capacity: ProvisionedThroughputExceededException, retried by both SDKs', async () => {
    const js = jsClient();
    // One 400 KB write overdraws the 300 units of burst a 1 WCU table keeps.
    await js.send(new PutItemCommand({ TableName: 'thr-prov', Item: big('drain') }));
    const out = await jsCall(() =>
      js.send(new PutItemCommand({ TableName: 'thr-prov', Item: { pk: { S: 'a' } } })),
    );
    expect(out).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: MESSAGES.provisionedTable,
      attempts: 3,
      reasons: [{ reason: 'TableWriteProvisionedThroughputExceeded', resource: arn('thr-prov') }],
    });
    // PartiQL is throttled like the PutItem it stands for.
    const insert = await wireCall(endpoint, 'ExecuteStatement', {
      Statement: `INSERT INTO "thr-prov" VALUE {'pk': 'pq'}`,
    });
    expect(insert.status).toBe(400);
    expect(insert.json).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      ThrottlingReasons: [{ reason: 'TableWriteProvisionedThroughputExceeded', resource: arn('thr-prov') }],
    });
    const py = await pyCalls([
      { name: 'put', op: 'put_item', params: { TableName: 'thr-prov', Item: { pk: { S: 'b' } } } },
    ]);
    expect(py.put).toMatchObject({
      code: 'ProvisionedThroughputExceededException',
      message: MESSAGES.provisionedTable,
      retryAttempts: 2,
    });
    expect(JSON.parse(py.put?.body ?? '{}').ThrottlingReasons).toEqual([
      { reason: 'TableWriteProvisionedThroughputExceeded', resource: arn('thr-prov') },
    ]);
    js.destroy();
  });

  it('provisioned, one hot key past 1,000 WCU: ProvisionedThroughputExceededException with a key-range reason', async () => {
    const js = jsClient();
    for (let i = 0; i < 3; i += 1)
      await js.send(new PutItemCommand({ TableName: 'thr-big', Item: big('hot') }));
    const out = await jsCall(() =>
      js.send(new PutItemCommand({ TableName: 'thr-big', Item: { pk: { S: 'hot' } } })),
    );
    expect(out).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      attempts: 3,
      reasons: [{ reason: 'TableWriteKeyRangeThroughputExceeded', resource: arn('thr-big') }],
    });
    // Another key of the same table is not throttled.
    await js.send(new PutItemCommand({ TableName: 'thr-big', Item: { pk: { S: 'cold' } } }));
    js.destroy();
  });

  it('on-demand, past its maximum throughput: ThrottlingException with throttlingReasons, retried by both SDKs', async () => {
    const js = jsClient();
    let out: JsOutcome = {};
    for (let i = 0; i < 5 && !out.name; i += 1)
      out = await jsCall(() =>
        js.send(new GetItemCommand({ TableName: 'thr-max', Key: { pk: { S: 'a' } } })),
      );
    expect(out).toMatchObject({
      name: 'ThrottlingException',
      message: MESSAGES.maxOnDemand,
      attempts: 3,
      reasons: [{ reason: 'TableReadMaxOnDemandThroughputExceeded', resource: arn('thr-max') }],
    });
    const py = await pyCalls([
      { name: 'get', op: 'get_item', params: { TableName: 'thr-max', Key: { pk: { S: 'a' } } } },
    ]);
    expect(py.get).toMatchObject({
      code: 'ThrottlingException',
      message: MESSAGES.maxOnDemand,
      retryAttempts: 2,
    });
    expect(JSON.parse(py.get?.body ?? '{}').throttlingReasons).toEqual([
      { reason: 'TableReadMaxOnDemandThroughputExceeded', resource: arn('thr-max') },
    ]);
    js.destroy();
  });

  it('on-demand, one hot key past 1,000 WCU: ThrottlingException with a key-range reason', async () => {
    const js = jsClient();
    for (let i = 0; i < 3; i += 1)
      await js.send(new PutItemCommand({ TableName: 'thr-hot', Item: big('hot-js') }));
    const out = await jsCall(() =>
      js.send(new PutItemCommand({ TableName: 'thr-hot', Item: { pk: { S: 'hot-js' } } })),
    );
    expect(out).toMatchObject({
      name: 'ThrottlingException',
      attempts: 3,
      reasons: [{ reason: 'TableWriteKeyRangeThroughputExceeded', resource: arn('thr-hot') }],
    });
    expect(out.message).toContain(MESSAGES.scaling);
    const py = await pyCalls([
      ...[1, 2, 3].map((i) => ({
        name: `fill${i}`,
        op: 'put_item',
        params: { TableName: 'thr-hot', Item: big('hot-py') },
      })),
      { name: 'put', op: 'put_item', params: { TableName: 'thr-hot', Item: { pk: { S: 'hot-py' } } } },
    ]);
    expect(py.fill3?.code).toBeNull();
    expect(py.put).toMatchObject({ code: 'ThrottlingException', retryAttempts: 2 });
    js.destroy();
  });

  it("on-demand, past the account's per-table quota: RequestLimitExceeded, retried by both SDKs", async () => {
    const js = jsClient();
    let out: JsOutcome = {};
    for (let i = 0; i < 5 && !out.name; i += 1)
      out = await jsCall(() =>
        js.send(new PutItemCommand({ TableName: 'thr-quota', Item: { pk: { S: `q${i}` } } })),
      );
    expect(out).toMatchObject({
      name: 'RequestLimitExceeded',
      message: MESSAGES.account,
      attempts: 3,
      reasons: [{ reason: 'TableWriteAccountLimitExceeded', resource: arn('thr-quota') }],
    });
    const py = await pyCalls([
      { name: 'put', op: 'put_item', params: { TableName: 'thr-quota', Item: { pk: { S: 'p' } } } },
    ]);
    expect(py.put).toMatchObject({ code: 'RequestLimitExceeded', retryAttempts: 2 });
    js.destroy();
  });

  it('a transaction with a throttled item is cancelled, naming that item, and neither SDK retries it', async () => {
    const js = jsClient();
    const items = [
      { Put: { TableName: 'thr-big', Item: { pk: { S: 'tx-ok' } } } },
      { Put: { TableName: 'thr-prov', Item: { pk: { S: 'tx-throttled' } } } },
    ];
    const out = await jsCall(() => js.send(new TransactWriteItemsCommand({ TransactItems: items })));
    expect(out).toMatchObject({
      name: 'TransactionCanceledException',
      attempts: 1,
      cancellation: [
        { Code: 'None' },
        { Code: 'ProvisionedThroughputExceeded', Message: MESSAGES.provisionedTable },
      ],
    });
    expect(out.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ProvisionedThroughputExceeded]',
    );
    const before = Object.values(gate.snapshot().patterns).reduce((n, p) => n + p.throttledRequests, 0);
    const py = await pyCalls([{ name: 'tx', op: 'transact_write_items', params: { TransactItems: items } }]);
    expect(py.tx).toMatchObject({ code: 'TransactionCanceledException', retryAttempts: 0 });
    // Never retried, so each cancellation is a throttled request (botocore's first try says no max).
    const after = Object.values(gate.snapshot().patterns).reduce((n, p) => n + p.throttledRequests, 0);
    expect(after - before).toBe(1);
    expect(before).toBeGreaterThanOrEqual(1);
    // Throttled, so nothing was written and nothing charged for it.
    const kept = await wireCall(ddb.endpoint, 'GetItem', {
      TableName: 'thr-big',
      Key: { pk: { S: 'tx-ok' } },
    });
    expect(kept.json.Item).toBeUndefined();
    js.destroy();
  });
});
