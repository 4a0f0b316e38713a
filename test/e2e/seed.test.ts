import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, generateSeed } from '../../app/index.js';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../local/index.js';
import { ROOT, runCli } from '../helpers/cli.js';

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
  it("runs the project's data command: 10,000+ items with BatchWriteItem, counts match exactly, and a re-run adds nothing", async () => {
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
    ];
    const expected = generateSeed({ users: 800, products: 1500, orders: 3000, seed: 42 });
    expect(expected.items.length).toBeGreaterThanOrEqual(10_000);
    const first = runCli(args);
    expect((await first.exited).code, first.stderr()).toBe(0);
    // The toolkit created the project's table from its config, then the shop's data command filled it.
    expect(first.stdout()).toMatch(/^tables created: shop$/m);
    expect(first.stdout()).toMatch(
      new RegExp(
        `= ${expected.items.length} items into shop in [\\d.]+ s \\(${Math.ceil(expected.items.length / 25)} BatchWriteItem calls`,
      ),
    );
    const counts = await countItems('shop');
    const orderItems = expected.orders.reduce((s, o) => s + o.items.length, 0);
    expect(Object.fromEntries(counts)).toEqual({
      User: 800,
      Product: 1500,
      Order: 3000,
      OrderItem: orderItems,
    });
    const again = runCli(args);
    expect((await again.exited).code).toBe(0);
    expect(again.stdout()).not.toMatch(/tables created/);
    expect(Object.fromEntries(await countItems('shop'))).toEqual(Object.fromEntries(counts));
  }, 120_000);

  it('writes a users CSV (emails only, with no app to issue tokens) and refuses bad parameters with exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-seed-'));
    const csv = join(dir, 'users.csv');
    const run = runCli([
      'seed',
      '--users',
      '3',
      '--products',
      '2',
      '--seed',
      '7',
      '--dynamodb-endpoint',
      ddb.endpoint,
      '--csv',
      csv,
      '--state-dir',
      dir,
    ]);
    expect((await run.exited).code, run.stderr()).toBe(0);
    expect(await readFile(csv, 'utf8')).toBe(
      'email,token\nuser1@example.com,\nuser2@example.com,\nuser3@example.com,\n',
    );
    expect(run.stdout()).toMatch(/emails only/);
    // The fixtures the scenarios read went to the state folder.
    const fixtures = JSON.parse(await readFile(join(dir, 'fixtures.json'), 'utf8'));
    expect(fixtures.products).toHaveLength(2);
    const bad = runCli(['seed', '--users', '-1', '--dynamodb-endpoint', ddb.endpoint]);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/seed parameter users: /);
    const none = runCli(['seed', '--state-dir', dir]);
    expect((await none.exited).code).toBe(3);
    expect(none.stderr()).toMatch(/start the stack with `loadtest up`, or pass --dynamodb-endpoint/);
  }, 60_000);

  it("loads a project's data.import files with its import mapping, and reports a rejected row", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-seed-import-'));
    await writeFile(
      join(dir, 'users.jsonl'),
      `${JSON.stringify({ email: 'ada@example.com', name: 'Ada' })}\n${JSON.stringify({ email: 'not-an-email' })}\n${JSON.stringify({ email: 'bob@example.com', name: 'Bob' })}\n`,
    );
    // .mts: an ES module wherever it is (a .ts config follows the nearest package.json's "type").
    const config = join(dir, 'loadtest.config.mts');
    await writeFile(
      config,
      `import { shopImport } from ${JSON.stringify(join(ROOT, 'app/data/import-map.ts'))};
export default {
  name: 'imports',
  tables: [{ name: 'imported', partitionKey: 'PK', sortKey: 'SK' }],
  import: { ...shopImport, entities: [...shopImport.entities], table: 'imported' },
  data: { import: [{ file: './users.jsonl', entity: 'user' }] },
};
`,
    );
    const run = runCli(['seed', '--config', config, '--dynamodb-endpoint', ddb.endpoint, '--state-dir', dir]);
    expect((await run.exited).code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(
      /data: imported 2 items from .*users\.jsonl \(user\) in \d+ ms; 1 rows rejected, see .*import-0\.rejects\.jsonl/,
    );
    expect(Object.fromEntries(await countItems('imported'))).toEqual({ User: 2 });
    expect(await readFile(join(dir, 'import-0.rejects.jsonl'), 'utf8')).toMatch(/"line":2/);
  }, 60_000);
});
