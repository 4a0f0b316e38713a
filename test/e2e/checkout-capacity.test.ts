import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSize } from '../../local/gate/capacity.js';
import type { Report } from '../../runner/report/types.js';
import { runCli } from '../helpers/cli.js';
import { wireCall } from '../helpers/wire.js';

/**
 * The shop's checkout is one TransactWriteItems of 2n+2 actions for a cart of n lines: an Update of
 * the order (status, totals, and its GSI3 sort key, which moves it in GSI3), n ConditionChecks of
 * the lines, n Updates of the products (ADD sold: every product is in GSI1, GSI2 and GSI3, all
 * projecting ALL), and an Update of the user (a new cart id). The smoke report's checkout WCU must be
 * what DynamoDB's rules charge for those transactions:
 *
 *   - every item of a transaction is written twice, 1 KB units of the larger image (DG "Amazon
 *     DynamoDB Transactions: How it works", "Capacity management for transactions"; DG "DynamoDB
 *     read and write operations", "Capacity unit consumption for write operations"), a
 *     ConditionCheck too;
 *   - an index whose entry changes takes one write of the entry, two when its key changes (DG "Using
 *     Global Secondary Indexes", "Write capacity units"), transactional ones twice as well.
 *
 * So, with every item under 1 KB (checked below, after the run: the after-images are the larger):
 *   order 2 + lines 2n + products 2n + user 2           (table)
 *   + order's GSI3 key change 2 x 2                     (delete + put)
 *   + products' GSI1/GSI2/GSI3 entries 3 x 2 x n       (each entry rewritten)
 *   = 10n + 8 WCU per checkout: 18 for one line.
 */
interface Item {
  [name: string]: Record<string, unknown>;
}

let state: string;
let up: ReturnType<typeof runCli>;
let appUrl: string;
let dynamodb: string;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'loadtest-checkout-'));
  up = runCli([
    'up',
    '--port',
    '0',
    '--gate-port',
    '0',
    '--users',
    '12',
    '--products',
    '20',
    '--state-dir',
    state,
  ]);
  [, appUrl = ''] = await up.waitFor(/^app: (http:\/\/127\.0\.0\.1:\d+)/m);
  await up.waitFor(/^Press Ctrl-C to stop\.$/m);
  const stack = JSON.parse(await readFile(join(state, 'stack.json'), 'utf8')) as { dynamodbEndpoint: string };
  dynamodb = stack.dynamodbEndpoint;
}, 120_000);

afterAll(async () => {
  up?.child.kill('SIGTERM');
  await up?.exited;
});

async function scanAll(): Promise<Item[]> {
  const items: Item[] = [];
  let start: unknown;
  do {
    const page = await wireCall(dynamodb, 'Scan', {
      TableName: 'shop',
      ...(start ? { ExclusiveStartKey: start } : {}),
    });
    items.push(...((page.json.Items as Item[] | undefined) ?? []));
    start = page.json.LastEvaluatedKey;
  } while (start);
  return items;
}

const S = (item: Item | undefined, name: string) => (item?.[name] as { S?: string } | undefined)?.S;
const N = (item: Item | undefined, name: string) => Number((item?.[name] as { N?: string } | undefined)?.N);

describe("the shop's checkout in the smoke report", () => {
  it('costs the WCU DynamoDB documents for its transaction: 10n + 8 for a cart of n lines', async () => {
    const started = Date.now();
    const output = join(state, 'smoke.json');
    const run = runCli([
      'run',
      'smoke',
      '--url',
      appUrl,
      '--state-dir',
      state,
      '--duration',
      '3',
      '--rate',
      '2',
      '--output',
      output,
    ]);
    const { code } = await run.exited;
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    const checkout = report.patterns.find((p) => p.id === 'checkout');
    expect(checkout?.calls).toBeGreaterThan(0);
    expect(checkout?.errors).toBe(0);
    expect(checkout?.throttleEvents).toBe(0);

    // The transactions the run made: the orders it completed, each with its lines, products and user.
    const items = await scanAll();
    const byKey = new Map(items.map((i) => [`${S(i, 'PK')}|${S(i, 'SK')}`, i]));
    const orders = items.filter(
      (i) => S(i, 'status') === 'COMPLETED' && Date.parse(S(i, 'completedAt') ?? '') >= started - 1000,
    );
    expect(orders.length).toBe(checkout?.calls);
    let expected = 0;
    for (const order of orders) {
      const orderId = S(order, 'SK')?.replace(/^ORDER#/, '') ?? '';
      const lines = items.filter((i) => S(i, 'PK') === `ORDERITEMS#${orderId}`);
      const n = N(order, 'itemCount');
      expect(lines).toHaveLength(n);
      const products = lines.map((l) =>
        byKey.get(`PRODUCT#${S(l, 'productId')}|PRODUCT#${S(l, 'productId')}`),
      );
      const user = byKey.get(`${S(order, 'PK')}|${S(order, 'PK')}`);
      const involved = [order, ...lines, ...products, user];
      for (const it of involved) {
        expect(it, `an item of order ${orderId}`).toBeDefined();
        // Under 1 KB after the write, so under 1 KB before it too: one unit per write either way.
        expect(itemSize(it as never)).toBeLessThan(1024);
      }
      const table = 2 * (1 + n + n + 1);
      const gsi3KeyChange = 2 * 2;
      const productIndexes = 3 * 2 * n;
      expect(table + gsi3KeyChange + productIndexes).toBe(10 * n + 8);
      expected += 10 * n + 8;
    }
    expect(checkout?.wcu).toBe(expected);
    expect(checkout?.wcuPerRequest).toBeCloseTo(expected / (checkout?.calls ?? 1), 6);
    console.info(
      `checkout: ${checkout?.calls} transactions, ${orders.map((o) => N(o, 'itemCount')).join('/')} lines, ${checkout?.wcu} WCU (documented: ${expected})`,
    );
  }, 120_000);
});

describe('a run against loadtest up', () => {
  it('enforces its capacity flags for itself only: the stack gets its own capacity back when the run ends', async () => {
    const { gateAdminUrl } = JSON.parse(await readFile(join(state, 'stack.json'), 'utf8')) as {
      gateAdminUrl: string;
    };
    const capacityNow = async () =>
      ((await (await fetch(`${gateAdminUrl}/tables`)).json()) as { capacity: unknown }).capacity;
    const own = await capacityNow();
    const output = join(state, 'flags.json');
    const run = runCli([
      'run',
      'smoke',
      '--url',
      appUrl,
      '--state-dir',
      state,
      '--duration',
      '1',
      '--rate',
      '1',
      '--capacity-mode',
      'provisioned',
      '--read-capacity',
      '500',
      '--write-capacity',
      '500',
      '--output',
      output,
    ]);
    expect((await run.exited).code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    // The run was held to its flags...
    expect(report.load?.capacity.shop).toMatchObject({
      mode: 'provisioned',
      table: { read: 500, write: 500 },
    });
    // ...and the stack, and every later run and app call, to its own again.
    expect(own).not.toMatchObject({ mode: 'provisioned' });
    expect(await capacityNow()).toEqual(own);
  }, 120_000);

  it('leaves its app.log alone when a run starts its own stack in the same folder', async () => {
    const before = await readFile(join(state, 'app.log'), 'utf8');
    expect(before).toMatch(/^\[app\] /m);
    const run = runCli(['run', 'smoke', '--state-dir', state, '--duration', '1', '--rate', '1']);
    expect((await run.exited).code, run.stderr()).toBe(0);
    expect(run.stderr()).toContain(`app output: ${join(state, 'app-run.log')} (loadtest up, pid`);
    // What the stack's app wrote is still there, and the run's own app wrote elsewhere.
    expect((await readFile(join(state, 'app.log'), 'utf8')).startsWith(before)).toBe(true);
    expect(await readFile(join(state, 'app-run.log'), 'utf8')).toMatch(/^\[app\] /m);
  }, 120_000);
});
