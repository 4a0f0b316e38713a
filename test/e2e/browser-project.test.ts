import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, inkedPixels, launchChromium, watchedPage } from '../helpers/browser.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { call, type UpStack, upExample } from '../helpers/example-project.js';

/**
 * The live dashboard of `loadtest up` for the orders example, in headless Chromium: with no run
 * going, the page draws from the capacity gate's counters, so plain traffic to the app (here: fetch
 * from the test) shows up per access pattern (the rule-named ones and the automatic one) and per table
 * and GSI of the example, while it happens.
 */
/** The first series colour of the page (#1f77b4): consumed RCU/s on a capacity chart. */
const BLUE: [number, number, number] = [31, 119, 180];
/**
 * The second colour (#ff7f0e): consumed WCU/s on a capacity chart of an on-demand table (whose
 * provisioned series have no values and are not drawn).
 */
const ORANGE: [number, number, number] = [255, 127, 14];
const AUTO = 'Query orders.byProduct productId = ?';

let up: UpStack;
let dashboard: CliRun | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // Both at once; whichever fails, the other is kept so afterAll can stop it.
  const [stack, chromium] = await Promise.allSettled([upExample(), launchChromium()]);
  if (stack.status === 'fulfilled') up = stack.value;
  if (chromium.status === 'fulfilled') browser = chromium.value;
  if (stack.status === 'rejected') throw stack.reason;
  if (chromium.status === 'rejected') throw chromium.reason;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dashboard) {
    dashboard.child.kill('SIGTERM');
    await dashboard.exited;
  }
  await up?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One visit of every route of the example (each pattern once, the GSI query too). */
async function visit(app: string, i: number): Promise<void> {
  const customer = `c-${String((i % 20) + 1).padStart(4, '0')}`;
  const ok = (r: { status: number }, ...want: number[]) => {
    if (!want.includes(r.status)) throw new Error(`unexpected HTTP ${r.status}`);
  };
  ok(await call(app, 'GET', `/customers/${customer}`), 200);
  ok(await call(app, 'GET', '/customers?ids=c-0001,c-0002,c-0003'), 200);
  ok(await call(app, 'GET', `/customers/${customer}/orders?limit=5`), 200);
  ok(await call(app, 'GET', `/customers/${customer}/orders?status=shipped`), 200);
  ok(await call(app, 'GET', `/customers/${customer}/orders?from=1735689600000&to=1735948800000`), 200);
  ok(await call(app, 'GET', '/products/p-03/orders'), 200);
  const placed = await call(app, 'POST', `/customers/${customer}/orders`, {
    productId: 'p-03',
    quantity: 1,
    price: 4,
  });
  ok(placed, 201);
  ok(
    await call(app, 'PATCH', `/customers/${customer}/orders/${placed.body.orderedAt}`, {
      status: 'delivered',
    }),
    200,
  );
  ok(await call(app, 'POST', '/customers', { customerId: `c-browser-${i}`, name: 'Browser' }), 201);
}

describe('the live dashboard of loadtest up, for a project that is not the shop', () => {
  it("draws the example's patterns and its tables and GSI from the gate while traffic runs", async () => {
    const app = up.stack.appUrl ?? '';
    dashboard = runCli(['dashboard', '--port', '0', '--state-dir', up.state]);
    const [, url = ''] = await dashboard.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/, 20_000);
    const { page, problems, requests } = await watchedPage(browser as Browser);
    await page.goto(url);
    await page.waitForSelector('body[data-source="stack"]', { timeout: 20_000 });
    expect(await page.textContent('#status')).toMatch(/watching loadtest up \(project orders\)/);

    // Traffic in the background until the page has drawn what it should.
    let stop = false;
    let rounds = 0;
    const traffic = (async () => {
      while (!stop) {
        await visit(app, rounds);
        rounds += 1;
        await sleep(150);
      }
    })();
    const points = async (chart: string) =>
      Number((await page.getAttribute(`[data-chart="${chart}"]`, 'data-points').catch(() => null)) ?? 0);
    try {
      const started = Date.now();
      while (Date.now() - started < 40_000) {
        const drawn = await Promise.all(
          ['header-capacity-orders', 'header-capacity-orders/byProduct', `${AUTO}-capacityPerRequest`].map(
            points,
          ),
        );
        if (drawn.every((n) => n >= 3)) break;
        await sleep(500);
      }
    } finally {
      stop = true;
      await traffic;
    }
    expect(rounds).toBeGreaterThan(0);

    // One row per pattern the gate saw: the project's, in its order, then the one it named by shape.
    const rows = await page.$$eval('#charts section', (els) =>
      els.map((e) => ({ row: e.getAttribute('data-row'), title: e.querySelector('h3')?.textContent })),
    );
    // (The tables come in the order the gate learned them, which is not fixed.)
    expect(rows[0]?.row).toBe('header');
    expect(rows[0]?.title).toMatch(/^Tables (customers, orders|orders, customers)$/);
    expect(rows.slice(1)).toEqual(
      [
        'getCustomer',
        'createCustomer',
        'getCustomers',
        'placeOrder',
        'updateOrderStatus',
        'ordersByStatus',
        'ordersInRange',
        'listOrders',
        AUTO,
      ].map((row) => ({ row, title: row })),
    );
    expect(await page.textContent(`section[data-row="${AUTO}"] .subtitle`)).toMatch(/not a declared pattern/);
    // A declared pattern's row says what the project's config says of it.
    expect(await page.textContent('section[data-row="getCustomer"] .subtitle')).toBe('One customer by id');

    // The tables and the GSI (an LSI is part of its table's capacity), drawn with data.
    const charts = await page.$$eval('section[data-row="header"] [data-chart]', (els) =>
      els.map((e) => ({ id: e.getAttribute('data-chart'), title: e.querySelector('h4')?.textContent })),
    );
    const capacityCharts = charts.filter((c) => c.id?.startsWith('header-capacity-'));
    expect(capacityCharts.sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual([
      { id: 'header-capacity-customers', title: 'customers: consumed vs provisioned capacity' },
      { id: 'header-capacity-orders', title: 'orders: consumed vs provisioned capacity' },
      { id: 'header-capacity-orders/byProduct', title: 'orders/byProduct: consumed vs provisioned capacity' },
    ]);
    for (const chart of [
      'header-capacity-customers',
      'header-capacity-orders',
      'header-capacity-orders/byProduct',
    ]) {
      expect(await points(chart), chart).toBeGreaterThanOrEqual(3);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-orders-example.png'), fullPage: true });
    expect(await inkedPixels(page, '[data-chart="header-capacity-orders"] canvas', BLUE)).toBeGreaterThan(20);
    // The GSI's capacity chart: the writes every new order makes to it.
    expect(
      await inkedPixels(page, '[data-chart="header-capacity-orders/byProduct"] canvas', ORANGE),
    ).toBeGreaterThan(20);
    // The automatic row has its capacity per call drawn, like any pattern's.
    expect(await inkedPixels(page, `[data-chart="${AUTO}-capacityPerRequest"] canvas`, BLUE)).toBeGreaterThan(
      20,
    );

    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(url) && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  }, 90_000);
});
