import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../app/index.js';
import { runCli } from '../helpers/cli.js';
import { writeShopDump } from '../helpers/mongodump.js';
import { type Api, api, type ShopTestStack, startTestStack } from '../helpers/stack.js';

/**
 * `loadtest import` end to end: the CLI as a process, into real DynamoDB Local (one, for the file),
 * and the reference app reading what it imported.
 */
let stack: ShopTestStack;
let raw: DynamoDBClient;
let call: Api;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack(false);
  raw = createDynamoClients({ endpoint: stack.dynamodbEndpoint }).raw;
  call = api(stack);
  dir = await mkdtemp(join(tmpdir(), 'loadtest-import-e2e-'));
});

afterAll(async () => {
  raw?.destroy();
  await stack?.stop();
});

async function cli(args: string[]) {
  const run = runCli(['import', ...args]);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

type Item = Record<string, unknown>;

async function scan(table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await raw.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const i of out.Items ?? []) items.push(unmarshall(i));
    start = out.LastEvaluatedKey;
  } while (start);
  return sortByKey(items);
}

function sortByKey(items: Item[]): Item[] {
  const k = (i: Item) => `${i.PK}\u0000${i.SK}`;
  return items.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

const oid = (i: number) => `5f1d7f9e2c3b4a${String(i).padStart(10, '0')}`;

/** 200 Mongo-style product rows, 10 of them broken in different ways (line number -> what is wrong). */
function products(): { text: string; broken: Map<number, RegExp> } {
  const broken = new Map<number, [string, RegExp]>([
    [7, ['{"_id": {"$oid": "5f1d7f9e', /^not valid JSON/]],
    [23, ['missing title', /^title: is missing$/]],
    [41, ['price abc', /^price: /]],
    [58, ['price 0', /^price: /]],
    [77, ['bad image', /^images\.0: /]],
    [99, ['duplicate', /^duplicate: line 1 already has PRODUCT#/]],
    [120, ['long title', /^title: /]],
    [143, ['numeric description', /^description: /]],
    [166, ['[1, 2, 3]', /^expected a JSON object, got an array$/]],
    [199, ['bad date', /^createdAt: must be a date/]],
  ]);
  const lines: string[] = [];
  for (let line = 1; line <= 200; line += 1) {
    const row: Record<string, unknown> = {
      // Mongo ObjectIds, plain ids, and ids the app cannot take as they are (derived).
      _id: line % 3 === 0 ? { $oid: oid(line) } : line % 3 === 1 ? `p-${line}` : `catalogue/${line}`,
      title: `Product ${line}`,
      description: `The product on line ${line}.`,
      price: line % 4 === 0 ? { $numberDecimal: `${line}.50` } : line % 4 === 1 ? `${line}.25` : line + 0.99,
      category: ['books', 'games', 'garden'][line % 3],
      images: [`https://example.com/img/${line}.jpg`],
      sold: line % 5,
      ...(line % 10 === 0
        ? {}
        : { createdAt: { $date: new Date(Date.UTC(2020, 0, 1) + line * 60_000).toISOString() } }),
      __v: 0,
    };
    const what = broken.get(line)?.[0];
    if (what === undefined) lines.push(JSON.stringify(row));
    else if (what === 'missing title') lines.push(JSON.stringify({ ...row, title: undefined }));
    else if (what === 'price abc') lines.push(JSON.stringify({ ...row, price: 'abc' }));
    else if (what === 'price 0') lines.push(JSON.stringify({ ...row, price: { $numberDecimal: '0.00' } }));
    else if (what === 'bad image') lines.push(JSON.stringify({ ...row, images: ['not a url'] }));
    else if (what === 'duplicate') lines.push(JSON.stringify({ ...row, _id: 'p-1' }));
    else if (what === 'long title') lines.push(JSON.stringify({ ...row, title: 'x'.repeat(201) }));
    else if (what === 'numeric description') lines.push(JSON.stringify({ ...row, description: 42 }));
    else if (what === 'bad date') lines.push(JSON.stringify({ ...row, createdAt: 'soon' }));
    else lines.push(what);
  }
  return { text: `${lines.join('\n')}\n`, broken: new Map([...broken].map(([l, [, re]]) => [l, re])) };
}

const CREATED_AT = '2024-06-01T00:00:00.000Z';

describe('loadtest import', () => {
  let productsFile: string;
  let broken: Map<number, RegExp>;

  beforeAll(async () => {
    const p = products();
    productsFile = join(dir, 'products.jsonl');
    broken = p.broken;
    await writeFile(productsFile, p.text);
  });

  it('loads the good rows of a file with 5% broken ones, reports each broken row by line, and re-imports without duplicates', async () => {
    const out = join(dir, 'out');
    const args = [
      productsFile,
      '--entity',
      'product',
      '--dynamodb-endpoint',
      stack.dynamodbEndpoint,
      '--out',
      out,
    ];
    const first = await cli([...args, '--table', 'products', '--created-at', CREATED_AT]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/^rows read +200$/m);
    expect(first.stdout).toMatch(/^items written +190 \(Product 190\)$/m);
    expect(first.stdout).toMatch(
      /^rejected +10, each with its line and problem in .*out\/products\.jsonl\.rejects\.jsonl$/m,
    );
    expect(first.stdout).toMatch(/^items\/s +\d+$/m);
    expect(first.stderr).toMatch(/created table products/);
    expect(first.stderr).toMatch(/^line 7: not valid JSON/m);
    expect(first.stderr).toMatch(/note: not imported, .*__v \(190 rows\)/);

    // In the output folder, never next to the input.
    expect(await readdir(dir)).not.toContain('products.jsonl.rejects.jsonl');
    const rejects = (await readFile(join(out, 'products.jsonl.rejects.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; error: string; raw: string });
    expect(rejects.map((r) => r.line)).toEqual([...broken.keys()]);
    const sourceLines = (await readFile(productsFile, 'utf8')).split('\n');
    for (const r of rejects) {
      expect(r.error).toMatch(broken.get(r.line) as RegExp);
      expect(r.raw).toBe(sourceLines[r.line - 1]);
    }

    const loaded = await scan('products');
    expect(loaded).toHaveLength(190);
    expect(new Set(loaded.map((i) => i.entity))).toEqual(new Set(['Product']));
    expect(loaded.find((i) => i.id === 'p-1')).toMatchObject({ title: 'Product 1', price: 1.25 });

    const again = await cli([...args, '--table', 'products', '--created-at', CREATED_AT]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^items written +190 /m);
    expect(await scan('products')).toEqual(loaded);
  });

  it('imports a whole mongodump folder over two worker processes: every collection the mapping names, once', async () => {
    const dump = await writeShopDump(dir, { users: 4, products: 50 });
    // Side by side: the import, and a dry run that says what it will cost the table.
    const [res, dry] = await Promise.all([
      cli([
        join(dir, 'dump'),
        '--workers',
        '2',
        '--table',
        'migrated',
        '--dynamodb-endpoint',
        stack.dynamodbEndpoint,
        '--out',
        join(dir, 'dump-out'),
        '--image-base-url',
        'https://cdn.example.com/shop',
      ]),
      cli([join(dir, 'dump', 'shop', 'products.bson'), '--dry-run', '--out', join(dir, 'dry-out')]),
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    // 50 products under 1 KB: 1 WCU each on the table, and on each of the three GSIs that hold them.
    expect(dry.stdout).toMatch(/^write capacity 200 WCU \(table 50, GSI1 50, GSI2 50, GSI3 50\)$/m);
    expect(dry.stdout).toMatch(/^the import will consume 200 WCU: \$0\.0001 on demand/m);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/skipped .*sessions\.bson: the mapping has no entity for collection sessions/);
    expect(res.stdout).toMatch(/users\.bson \(user\):\nimported into table migrated at .* \(2 workers\)/);
    expect(res.stdout).toMatch(/^items written +4 \(User 4\)$/m);
    expect(res.stdout).toMatch(/^items written +50 \(Product 50\)$/m);
    expect(res.stdout).toMatch(/^rejected +0$/m);
    const items = await scan('migrated');
    expect(items).toHaveLength(54);
    expect(new Set(items.filter((i) => i.entity === 'Product').map((i) => i.id))).toEqual(
      new Set(dump.products.map((p) => p._id.toHexString())),
    );
    expect(JSON.stringify(items)).not.toMatch(/password|\$2b\$|secret-token/);
  });

  it('writes DynamoDB-JSON gzip files for import from S3 that hold exactly the items the database import wrote', async () => {
    const out = join(dir, 's3');
    // 20 KB files: the 190 items (about 600 bytes each) take several.
    const res = await cli([
      productsFile,
      '--entity',
      'product',
      '--s3-format',
      out,
      '--s3-file-mb',
      '0.02',
      '--created-at',
      CREATED_AT,
    ]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/^items written +190 /m);
    expect(res.stdout).toMatch(
      /aws dynamodb import-table --input-format DYNAMODB_JSON --input-compression-type GZIP/,
    );
    const files = (await readdir(out)).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files[0]).toBe('product-00000.json.gz');
    const items: Item[] = [];
    for (const f of files) {
      const text = gunzipSync(await readFile(join(out, f))).toString('utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(0.02 * 1024 * 1024);
      for (const line of text.trim().split('\n')) {
        const parsed = JSON.parse(line) as { Item: Record<string, AttributeValue> };
        expect(Object.keys(parsed)).toEqual(['Item']);
        items.push(unmarshall(parsed.Item));
      }
    }
    expect(sortByKey(items)).toEqual(await scan('products'));
  });

  it('imports users, products and orders into the running stack, and the app serves them: history, cart, checkout', async () => {
    const state = join(dir, 'state');
    await mkdir(state, { recursive: true });
    await writeFile(
      join(state, 'stack.json'),
      JSON.stringify({
        version: 2,
        project: 'app/loadtest.config.ts',
        name: 'shop',
        region: 'us-east-1',
        appUrl: stack.appUrl,
        endpoint: stack.endpoint,
        dynamodbEndpoint: stack.dynamodbEndpoint,
        gateAdminUrl: null,
        tables: [stack.tableName],
        fixtures: null,
        pid: process.pid,
        dynamodbPid: null,
        appPid: null,
        startedAt: new Date().toISOString(),
      }),
    );
    const users = join(dir, 'users.csv');
    await writeFile(
      users,
      'email,name,createdAt\nAda@Example.com,Ada Lovelace,2020-01-01 09:00:00\nbob@example.com,Bob,\n',
    );
    const productsCsv = join(dir, 'shop-products.csv');
    await writeFile(
      productsCsv,
      [
        '_id,title,description,price,category,images,sold',
        'ObjectId(5f1d7f9e2c3b4a0012345678),Walnut Desk,"A desk, ""solid"" walnut",199.50,furniture,https://e.com/a.jpg;https://e.com/b.jpg,1',
        'lamps/7,Brass Lamp,Bright,12.5,lighting,,',
      ].join('\n'),
    );
    const orders = join(dir, 'orders.csv');
    const line = (productId: string, title: string, price: number, quantity: number) => ({
      productId,
      title,
      price,
      quantity,
    });
    const cell = (v: unknown) => `"${JSON.stringify(v).replaceAll('"', '""')}"`;
    await writeFile(
      orders,
      [
        '_id,email,status,createdAt,items',
        `o-1,ada@example.com,COMPLETED,2021-03-04T05:06:07Z,${cell([line('5f1d7f9e2c3b4a0012345678', 'Walnut Desk', 199.5, 1), line('lamps/7', 'Brass Lamp', 12.5, 2)])}`,
        `o-2,ada@example.com,CURRENT,2021-04-01T00:00:00Z,${cell([line('lamps/7', 'Brass Lamp', 12.5, 3)])}`,
        `o-3,bob@example.com,SHIPPED,2021-04-01T00:00:00Z,${cell([line('lamps/7', 'Brass Lamp', 12.5, 1)])}`,
      ].join('\n'),
    );
    for (const [file, entity] of [
      [users, 'user'],
      [productsCsv, 'product'],
    ] as const) {
      const res = await cli([file, '--entity', entity, '--state-dir', state]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain(`table ${stack.tableName} at ${stack.dynamodbEndpoint}`);
    }
    const ord = await cli([orders, '--entity', 'order', '--state-dir', state]);
    expect(ord.code).toBe(1);
    expect(ord.stdout).toMatch(/^items written +5 \(Order 2, OrderItem 3\)$/m);
    expect(ord.stderr).toMatch(/^line 4: status: /m);

    const token = await stack.tokens.sign('ada@example.com');
    const me = await call('GET', '/api/users/me', { token });
    expect(me.body).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      createdAt: '2020-01-01T09:00:00.000Z',
    });
    const desk = await call('GET', '/api/products/5f1d7f9e2c3b4a0012345678');
    expect(desk.body).toMatchObject({
      title: 'Walnut Desk',
      description: 'A desk, "solid" walnut',
      price: 199.5,
      sold: 1,
    });
    expect(desk.body.images).toEqual(['https://e.com/a.jpg', 'https://e.com/b.jpg']);
    const lighting = await call('GET', '/api/products?category=lighting');
    expect(lighting.body.items.map((p: { title: string }) => p.title)).toEqual(['Brass Lamp']);
    const lampId = lighting.body.items[0].id as string;

    const history = await call('GET', '/api/orders', { token });
    expect(history.body.items).toEqual([
      expect.objectContaining({ orderId: 'o-1', status: 'COMPLETED', total: 224.5, itemCount: 2 }),
    ]);
    const cart = await call('GET', '/api/cart', { token });
    expect(cart.body).toMatchObject({ status: 'CURRENT', items: [{ productId: lampId, quantity: 3 }] });
    const checkout = await call('POST', '/api/cart/checkout', { token });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(200);
    expect(checkout.body).toMatchObject({ status: 'COMPLETED', total: 37.5 });
    expect((await call('GET', `/api/products/${lampId}`)).body.sold).toBe(3);
  });

  it('refuses bad input with exit 2, and with no endpoint and no running stack exits 3 saying what to do', async () => {
    const txt = join(dir, 'users.txt');
    await writeFile(txt, '{}\n');
    const header = join(dir, 'bad-header.csv');
    await writeFile(header, 'title,price\nDesk,1\n');
    // Independent runs: side by side.
    const [missing, unknown, entity, noId, nothing] = await Promise.all([
      cli([join(dir, 'nope.jsonl'), '--entity', 'user']),
      cli([txt, '--entity', 'user']),
      cli([productsFile, '--entity', 'invoice']),
      cli([header, '--entity', 'product', '--dynamodb-endpoint', stack.dynamodbEndpoint]),
      cli([productsFile, '--entity', 'product', '--state-dir', join(dir, 'no-state')]),
    ]);
    const badBase = await cli([
      productsFile,
      '--entity',
      'product',
      '--image-base-url',
      'cdn.example.com',
      '--dynamodb-endpoint',
      stack.dynamodbEndpoint,
      '--table',
      'never',
    ]);
    expect(badBase.code, badBase.stderr).toBe(2);
    expect(badBase.stderr).toMatch(/imageBaseUrl: expected an http\(s\) URL, got "cdn\.example\.com"/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl: no such file or folder/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--format jsonl, csv or bson/);
    expect(entity.code).toBe(2);
    expect(entity.stderr).toMatch(/entity/);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/the CSV header has no _id or id column/);
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toMatch(/loadtest up/);
    expect(nothing.stderr).toMatch(/--dynamodb-endpoint/);
  });
});
