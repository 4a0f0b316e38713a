import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateAdmin, type GateSnapshot } from '../../local/index.js';
import { ROOT } from '../helpers/cli.js';
import { clientEnv, type UpStack, upExample } from '../helpers/example-project.js';
import { PYTHON, requireBoto3 } from '../helpers/python.js';

/**
 * A client in another language: Debian's python3-boto3 (and Debian's AWS CLI) against the capacity
 * gate of `loadtest up --no-app` for the orders example, configured only by the environment the stack
 * gives (stack.json). The gate attributes its calls by the project's rules or by their shape, throttles
 * it at 1 RCU / 1 WCU, and counts botocore's retries from its amz-sdk-request header; every figure is
 * checked against what the script itself saw it send and receive.
 */
const run = promisify(execFile);
const AWS_CLI = process.env.LOADTEST_AWS_CLI ?? '/usr/bin/aws';
const SCRIPT = join(ROOT, 'test/fixtures/python/orders_client.py');
const BULK_CUSTOMER = 'py-bulk';

interface Step {
  calls: number;
  sent: number;
  retries: number;
  throttled: number;
  failedThrottled: number;
}
interface ScriptOutput {
  boto3: string;
  botocore: string;
  steps: Record<string, Step>;
  retryHeaders: string[];
}

let up: UpStack;

beforeAll(async () => {
  requireBoto3();
  if (!existsSync(AWS_CLI))
    throw new Error(
      `no AWS CLI at ${AWS_CLI}: install Debian's \`apt-get install -y awscli\` (or set LOADTEST_AWS_CLI)`,
    );
  // The template's tables are on-demand: --capacity-mode makes the units below what the gate enforces.
  up = await upExample([
    '--no-app',
    '--capacity-mode',
    'provisioned',
    '--read-capacity',
    '1',
    '--write-capacity',
    '1',
  ]);
}, 120_000);

afterAll(async () => {
  await up?.stop();
});

describe('a Python (boto3) client of the capacity gate', () => {
  it('is attributed by rule and by shape, throttled at 1 unit with DynamoDB reasons, and its retries are counted', async () => {
    expect(up.stack.appUrl).toBeNull();
    const admin = new GateAdmin(up.stack.gateAdminUrl ?? '');
    await admin.reset();
    const { stdout } = await run(PYTHON, [SCRIPT, BULK_CUSTOMER], {
      env: clientEnv(up.stack),
      timeout: 90_000,
    });
    const out = JSON.parse(stdout) as ScriptOutput;
    console.info(
      `boto3 ${out.boto3}, botocore ${out.botocore}: amz-sdk-request headers sent: ${out.retryHeaders.join(' | ')}`,
    );
    const snapshot: GateSnapshot = await admin.snapshot();

    // botocore sends the retry header: attempt=1 on the first try, attempt=N; max=M on retries.
    expect(out.retryHeaders).toContain('attempt=1');
    expect(out.retryHeaders.some((h) => /(^|;\s*)attempt=[2-9](;|$)/.test(h) && /max=\d+/.test(h))).toBe(
      true,
    );

    // Which of the script's steps each pattern should hold, and how the gate should have named it.
    const expected: Record<string, { source: 'rule' | 'auto'; steps: string[] }> = {
      getCustomer: { source: 'rule', steps: ['get-customer'] },
      listOrders: { source: 'rule', steps: ['list-orders', 'read-bulk'] },
      ordersByStatus: { source: 'rule', steps: ['orders-by-status'] },
      placeOrder: { source: 'rule', steps: ['bulk-put', 'put-once'] },
      'Scan customers': { source: 'auto', steps: ['scan-customers'] },
      'Query orders.byProduct productId = ?': { source: 'auto', steps: ['orders-of-product'] },
    };
    expect(Object.keys(snapshot.patterns).sort()).toEqual(Object.keys(expected).sort());
    for (const [id, e] of Object.entries(expected)) {
      const seen = e.steps.map((s) => out.steps[s] as Step);
      const total = (k: keyof Step) => seen.reduce((n, s) => n + s[k], 0);
      const got = snapshot.patterns[id];
      expect(got, id).toBeDefined();
      expect(
        {
          id,
          source: got?.source,
          count: got?.count,
          retries: got?.retries,
          throttleEvents: got?.throttleEvents,
        },
        `${id}: ${JSON.stringify(seen)}`,
      ).toEqual({
        id,
        source: e.source,
        // Every HTTP request botocore sent, retries included, reached the gate once.
        count: total('sent'),
        retries: total('retries'),
        throttleEvents: total('throttled'),
      });
      // Exactly the calls that failed throttled on their last attempt, paired by invocation id:
      // botocore's retries say `attempt=N; max=M`, but a client that never retries says only
      // `attempt=1` on the try that was its last (put-once).
      expect(got?.throttledRequests ?? 0, id).toBe(total('failedThrottled'));
    }

    // It was throttled, on writes and on reads, and botocore retried.
    const bulkPut = out.steps['bulk-put'] as Step;
    const readBulk = out.steps['read-bulk'] as Step;
    // The client with one attempt was throttled too, with no retry to say so.
    const putOnce = out.steps['put-once'] as Step;
    expect(putOnce).toMatchObject({ retries: 0, failedThrottled: 3, throttled: 3 });
    for (const step of [bulkPut, readBulk]) {
      expect(step.failedThrottled).toBeGreaterThan(0);
      expect(step.retries).toBeGreaterThan(0);
    }
    const reasons = (id: string) => snapshot.patterns[id]?.throttleReasons ?? {};
    expect(Object.keys(reasons('placeOrder'))).not.toHaveLength(0);
    for (const r of Object.keys(reasons('placeOrder')))
      expect(r).toMatch(/^TableWrite(ProvisionedThroughput|KeyRangeThroughput)Exceeded$/);
    for (const r of Object.keys(reasons('listOrders')))
      expect(r).toMatch(/^TableRead(ProvisionedThroughput|KeyRangeThroughput)Exceeded$/);
    for (const id of ['placeOrder', 'listOrders']) {
      expect(
        Object.values(reasons(id)).reduce((s, n) => s + n, 0),
        id,
      ).toBe(snapshot.patterns[id]?.throttleEvents);
    }
    // The calls that fit no rule were never throttled (they ran before the bulk import).
    expect(snapshot.patterns['Scan customers']?.throttleEvents).toBe(0);

    // The one customer it hammered is the hot key; the tables are at the capacity `up` was given.
    expect(snapshot.hotKeys[0]).toMatchObject({ table: 'orders', index: null, partitionKey: BULK_CUSTOMER });
    expect(snapshot.hotKeys[0]?.throttleEvents).toBe(
      bulkPut.throttled + readBulk.throttled + putOnce.throttled,
    );
    const orders = snapshot.tables.find((t) => t.table === 'orders' && t.index === null);
    expect(orders).toMatchObject({
      provisioned: { read: 1, write: 1 },
      readThrottleEvents: readBulk.throttled,
      writeThrottleEvents: bulkPut.throttled + putOnce.throttled,
    });
  }, 120_000);

  it('names a call of the AWS CLI (Debian awscli) by the rule it fits', async () => {
    const admin = new GateAdmin(up.stack.gateAdminUrl ?? '');
    await admin.reset();
    const { stdout } = await run(
      AWS_CLI,
      [
        'dynamodb',
        'get-item',
        '--endpoint-url',
        up.stack.endpoint,
        '--table-name',
        'customers',
        '--key',
        JSON.stringify({ customerId: { S: 'c-0004' } }),
        '--output',
        'json',
      ],
      { env: clientEnv(up.stack), timeout: 60_000 },
    );
    expect(JSON.parse(stdout).Item.customerId).toEqual({ S: 'c-0004' });
    const snapshot = await admin.snapshot();
    expect(Object.keys(snapshot.patterns)).toEqual(['getCustomer']);
    expect(snapshot.patterns.getCustomer).toMatchObject({ source: 'rule', count: 1, rcu: 0.5, retries: 0 });
  }, 60_000);
});
