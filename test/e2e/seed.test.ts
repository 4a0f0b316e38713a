import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, generateSeed } from '../../app/index.js';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../local/index.js';
import { runCli } from '../helpers/cli.js';

let ddb: DynamoDBLocal;

beforeAll(async () => {
  ddb = await startDynamoDBLocal();
});

afterAll(async () => {
  await ddb?.stop();
});

async function countItems(tableName: string): Promise<Map<string, number>> {
  const { doc } = createDynamoClients({ endpoint: ddb.endpoint });
  const byEntity = new Map<string, number>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({ TableName: tableName, ProjectionExpression: 'entity', ExclusiveStartKey }),
    );
    for (const i of out.Items ?? [])
      byEntity.set(String(i.entity), (byEntity.get(String(i.entity)) ?? 0) + 1);
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  doc.destroy();
  return byEntity;
}

describe('loadtest seed', () => {
  it('writes 10,000+ items with BatchWriteItem, counts match exactly, and a re-run adds nothing', async () => {
    const args = [
      'seed',
      '--users',
      '800',
      '--products',
      '1500',
      '--orders',
      '3000',
      '--dynamodb-endpoint',
      ddb.endpoint,
      '--table',
      'seeded',
    ];
    const expected = generateSeed({ users: 800, products: 1500, orders: 3000, seed: 42 });
    expect(expected.items.length).toBeGreaterThanOrEqual(10_000);
    const first = runCli(args);
    expect((await first.exited).code, first.stderr()).toBe(0);
    expect(first.stdout()).toContain(
      `= ${expected.items.length} items in ${Math.ceil(expected.items.length / 25)} BatchWriteItem calls`,
    );
    const counts = await countItems('seeded');
    const orderItems = expected.orders.reduce((s, o) => s + o.items.length, 0);
    expect(Object.fromEntries(counts)).toEqual({
      User: 800,
      Product: 1500,
      Order: 3000,
      OrderItem: orderItems,
    });
    const again = runCli(args);
    expect((await again.exited).code).toBe(0);
    expect(Object.fromEntries(await countItems('seeded'))).toEqual(Object.fromEntries(counts));
  }, 120_000);

  it('writes a users CSV and refuses bad numbers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-seed-'));
    const csv = join(dir, 'users.csv');
    const run = runCli([
      'seed',
      '--users',
      '3',
      '--products',
      '2',
      '--dynamodb-endpoint',
      ddb.endpoint,
      '--table',
      'small',
      '--csv',
      csv,
    ]);
    expect((await run.exited).code).toBe(0);
    expect(await readFile(csv, 'utf8')).toBe(
      'email,token\nuser1@example.com,\nuser2@example.com,\nuser3@example.com,\n',
    );
    expect(run.stderr()).toMatch(/emails only/);
    const bad = runCli(['seed', '--users', '-1', '--dynamodb-endpoint', ddb.endpoint]);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/--users/);
  });
});
