import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { ShopTestStack } from '../helpers/stack.js';
import { type Api, api, newUser, startTestStack } from '../helpers/stack.js';
import { wireCall } from '../helpers/wire.js';

let stack: ShopTestStack;
let call: Api;

beforeAll(async () => {
  stack = await startTestStack({ products: 5, users: 2 });
  call = api(stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function settle(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

describe('loadtest events', () => {
  it('prints exactly one notification per checkout and none for cart updates, with the filter policy verdict', async () => {
    const events = runCli([
      'events',
      '--dynamodb-endpoint',
      stack.dynamodbEndpoint,
      '--table',
      stack.tableName,
      '--json',
      '--duration',
      '30',
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (/listening on arn:/.test(events.stderr())) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
        events.exited.then(() => reject(new Error(`events exited early: ${events.stderr()}`)));
      });
      const token = await newUser(call, 'events@example.com');
      const cheap = await call('POST', '/api/products', {
        token,
        body: { title: 'Pencil', description: 'HB.', price: 2.5, category: 'office' },
      });
      const dear = await call('POST', '/api/products', {
        token,
        body: { title: 'Desk', description: 'Oak.', price: 150, category: 'office' },
      });
      // Cart updates only.
      await call('POST', '/api/cart/items', { token, body: { productId: cheap.body.id, quantity: 2 } });
      await call('POST', '/api/cart/items', { token, body: { productId: cheap.body.id, quantity: 1 } });
      await call('DELETE', `/api/cart/items/${cheap.body.id}`, { token });
      await settle(2000);
      expect(events.stdout()).toBe('');
      // A small order: one notification, which the big-order subscription filters out.
      await call('POST', '/api/cart/items', { token, body: { productId: cheap.body.id, quantity: 2 } });
      const first = await call('POST', '/api/cart/checkout', { token });
      expect(first.status).toBe(200);
      // A big one: one notification, delivered.
      await call('POST', '/api/cart/items', { token, body: { productId: dear.body.id, quantity: 1 } });
      const second = await call('POST', '/api/cart/checkout', { token });
      expect(second.status).toBe(200);
      await settle(2500);
      const lines = events
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        expect.objectContaining({
          message: expect.objectContaining({
            orderId: first.body.orderId,
            email: 'events@example.com',
            total: 5,
          }),
          attributes: { total: 5, status: 'COMPLETED' },
          subscription: { email: 'orders@example.com', delivered: false },
        }),
        expect.objectContaining({
          message: expect.objectContaining({ orderId: second.body.orderId, total: 150 }),
          subscription: { email: 'orders@example.com', delivered: true },
        }),
      ]);
    } finally {
      events.child.kill('SIGINT');
      await events.exited;
    }
  }, 60_000);

  it('says how to give a table a stream when it has none: exit 2, naming the project file', async () => {
    const created = await wireCall(stack.dynamodbEndpoint, 'CreateTable', {
      TableName: 'nostream',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(created.status, created.text).toBe(200);
    const events = runCli(['events', '--dynamodb-endpoint', stack.dynamodbEndpoint, '--table', 'nostream']);
    expect((await events.exited).code).toBe(2);
    expect(events.stderr()).toMatch(
      /^error: table nostream has no stream enabled: give it one in .*loadtest\.config\.ts \(stream: NEW_AND_OLD_IMAGES in the table's spec, or StreamSpecification in its template\), then restart loadtest up\n$/,
    );
  }, 60_000);
});
