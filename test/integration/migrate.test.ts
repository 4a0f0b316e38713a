import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { BSON, Decimal128, EJSON, Int32, ObjectId } from 'bson';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopImport } from '../../app/data/import-map.js';
import { createDynamoClients, ensureTable, tableDefinition } from '../../app/index.js';
import { ensureTables } from '../../local/index.js';
import { importPlan } from '../../runner/cli/project-data.js';
import {
  DynamoSink,
  dumpCollections,
  type Format,
  ImportMappingError,
  type ImportSummary,
  importBatchHandler,
  importFile,
  keyLimits,
  type ObjectStore,
  type RowMapper,
} from '../../runner/data/index.js';
import { loadProject } from '../../runner/project/index.js';
import { ROOT } from '../helpers/cli.js';
import { type ShopDump, writeShopDump } from '../helpers/mongodump.js';
import { type Api, api, type ShopTestStack, startTestStack } from '../helpers/stack.js';

/**
 * Migrating the guide's MongoDB shop: a mongodump made with the `bson` package and mongoexport files
 * in Extended JSON, imported with the shop's mapping into real DynamoDB Local (one for the file), and
 * read back through the app's own routes.
 */
let stack: ShopTestStack;
let raw: DynamoDBClient;
let call: Api;
let dir: string;
let dump: ShopDump;

const key = { partitionKey: 'PK', sortKey: 'SK' };
const limits = keyLimits({
  ...key,
  indexes: tableDefinition.indexes.map((i) => ({
    partitionKey: i.partitionKey.name,
    sortKey: i.sortKey.name,
  })),
});

beforeAll(async () => {
  stack = await startTestStack(false);
  raw = createDynamoClients({ endpoint: stack.dynamodbEndpoint }).raw;
  call = api(stack);
  dir = await mkdtemp(join(tmpdir(), 'loadtest-migrate-'));
  dump = await writeShopDump(dir, { users: 6, products: 60, gzip: true });
});

afterAll(async () => {
  raw?.destroy();
  await stack?.stop();
});

async function load(
  file: string,
  entity: string,
  format: Format,
  options: { mapper?: RowMapper; params?: Record<string, string>; table?: string } = {},
): Promise<ImportSummary> {
  const sink = new DynamoSink({ client: raw, tableName: options.table ?? stack.tableName, key });
  return importFile({
    file,
    entity,
    format,
    mapper: options.mapper ?? shopImport,
    key,
    limits,
    sink,
    rejectsPath: join(dir, 'out', `${entity}.rejects.jsonl`),
    ...(options.params ? { params: options.params } : {}),
  });
}

const scan = () => scanTable(stack.tableName);

async function scanTable(TableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await raw.send(new ScanCommand({ TableName, ExclusiveStartKey: start }));
    for (const i of out.Items ?? []) items.push(unmarshall(i));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

describe("a mongodump of the guide's shop", () => {
  it('imports every collection the mapping names with 0 rejects, and the app serves every product', async () => {
    const collections = await dumpCollections(join(dir, 'dump'));
    expect(collections.map((c) => [c.collection, c.indexes])).toEqual([
      ['products', ['_id_']],
      ['sessions', []],
      ['users', ['_id_']],
    ]);
    const byName = new Map(collections.map((c) => [c.collection, c.file]));
    const users = await load(byName.get('users') as string, 'user', 'bson');
    const products = await load(byName.get('products') as string, 'product', 'bson');
    expect(users).toMatchObject({ rows: 6, rejected: 0, written: 6 });
    expect(products).toMatchObject({ rows: 60, rejected: 0, written: 60 });
    // What the shop's model has no place for is said, not silently lost.
    expect(Object.keys(users.ignoredFields).sort()).toEqual(
      ['__v', 'cart', 'history', 'image', 'password', 'role', 'token', 'tokenExp', 'updatedAt'].sort(),
    );

    for (const p of dump.products) {
      const id = p._id.toHexString();
      const got = await call('GET', `/api/products/${id}`);
      expect(got.status, `product ${id}`).toBe(200);
      expect(got.body).toMatchObject({
        id,
        title: p.title,
        description: p.description,
        price: Number(p.price.valueOf()),
        category: String(p.category.valueOf()),
        images: p.images,
        sold: p.sold.valueOf(),
        writer: p.writer.toHexString(),
        createdAt: p.createdAt.toISOString(),
      });
    }
    // The numeric category is the category's name: the by-category route finds them all.
    const three = await call('GET', '/api/products?category=3&limit=100');
    expect(three.body.items).toHaveLength(dump.products.filter((p) => p.category.valueOf() === 3).length);

    const user = dump.users[2];
    const token = await stack.tokens.sign(user?.email as string);
    const me = await call('GET', '/api/users/me', { token });
    expect(me.body).toEqual({
      email: user?.email,
      name: `${user?.name} ${user?.lastname}`,
      createdAt: user?.createdAt.toISOString(),
    });

    // No password hash and no token anywhere in the table, under any attribute name.
    const table = JSON.stringify(await scan());
    for (const u of dump.users) {
      expect(table).not.toContain(u.password);
      expect(table).not.toContain(u.token);
    }
    expect(table).not.toMatch(/"(password|token|tokenExp)"/);
  });

  it('resolves relative image paths against the imageBaseUrl parameter, and refuses a base that is no URL', async () => {
    const products = join(dump.dir, 'products.bson.gz');
    const summary = await load(products, 'product', 'bson', {
      params: { imageBaseUrl: 'https://cdn.example.com/shop' },
    });
    expect(summary).toMatchObject({ rejected: 0, written: 60 });
    const first = dump.products[0];
    const got = await call('GET', `/api/products/${first?._id.toHexString()}`);
    expect(got.body.images).toEqual(first?.images.map((i) => `https://cdn.example.com/shop/${i}`));

    const bad = load(products, 'product', 'bson', { params: { imageBaseUrl: 'cdn.example.com' } });
    await expect(bad).rejects.toThrow(ImportMappingError);
    await expect(bad).rejects.toThrow(/products\.bson\.gz:1: .*imageBaseUrl: expected an http\(s\) URL/);
  });
});

describe('mongoexport files', () => {
  /** The dump's products as mongoexport writes them: canonical Extended JSON on odd lines, relaxed on even ones. */
  function exportLines(): string[] {
    return dump.products
      .slice(0, 30)
      .map((p, i) => EJSON.stringify(p as unknown as Record<string, unknown>, { relaxed: i % 2 === 1 }));
  }

  it('rejects broken rows by line with the field named, imports the rest, and a re-run imports nothing twice', async () => {
    const lines = exportLines();
    expect(lines[0]).toContain('"$numberInt"');
    expect(lines[0]).toContain('"$date":{"$numberLong"');
    const product = (i: number) => JSON.parse(lines[i] as string) as Record<string, unknown>;
    lines[2] = lines[2]?.slice(0, 40) as string; // cut short: bad JSON
    const noTitle = product(4);
    delete noTitle.title;
    lines[4] = JSON.stringify(noTitle);
    lines[7] = JSON.stringify({ ...product(7), price: '12,50' }); // a bad number
    lines[9] = JSON.stringify({ ...product(9), sold: { $numberInt: 'many' } }); // a bad Extended JSON number
    const file = join(dir, 'products.json.gz');
    await writeFile(file, gzipSync(`${lines.join('\n')}\n`));

    const before = (await scan()).length;
    const first = await load(file, 'product', 'jsonl');
    expect(first).toMatchObject({ rows: 30, rejected: 4, written: 26 });
    const rejects = (await readFile(first.rejectsPath as string, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; field?: string; error: string });
    expect(rejects.map((r) => [r.line, r.field])).toEqual([
      [3, undefined],
      [5, 'title'],
      [8, 'price'],
      [10, 'sold'],
    ]);
    expect(rejects[0]?.error).toMatch(/^not valid JSON/);
    expect(rejects[1]?.error).toBe('title: is missing');
    expect(rejects[2]?.error).toMatch(/^price: /);
    expect(rejects[3]?.error).toMatch(/^sold: /);
    // The rejects file goes to the output folder it was given, never next to the input.
    expect(first.rejectsPath).toBe(join(dir, 'out', 'product.rejects.jsonl'));

    // These products were in the dump already (same _id): nothing new; a second run changes nothing.
    const after = await scan();
    expect(after.length).toBe(before);
    const again = await load(file, 'product', 'jsonl');
    expect(again).toMatchObject({ rejected: 4, written: 26 });
    expect(await scan()).toEqual(after);
  });

  it('reads the same rows from a JSON array and from CSV, each gzipped', async () => {
    const docs = dump.products.slice(30, 40);
    const array = join(dir, 'array.json.gz');
    await writeFile(
      array,
      gzipSync(
        `[\n${docs.map((d) => EJSON.stringify(d as unknown as Record<string, unknown>)).join(',\n')}\n]\n`,
      ),
    );
    const csv = join(dir, 'products.csv.gz');
    const cell = (v: unknown) => `"${String(v).replaceAll('"', '""')}"`;
    await writeFile(
      csv,
      gzipSync(
        [
          '_id,title,description,price,category,images,sold,writer',
          ...docs.map((d) =>
            [
              `ObjectId(${d._id.toHexString()})`,
              cell(d.title),
              cell(d.description),
              d.price.valueOf(),
              d.category.valueOf(),
              d.images.join(';'),
              d.sold.valueOf(),
              `ObjectId(${d.writer.toHexString()})`,
            ].join(','),
          ),
        ].join('\n'),
      ),
    );
    const fromArray = await load(array, 'product', 'jsonl');
    const itemsAfterArray = await scan();
    const fromCsv = await load(csv, 'product', 'csv');
    expect(fromArray).toMatchObject({ rows: 10, rejected: 0, written: 10 });
    expect(fromCsv).toMatchObject({ rows: 10, rejected: 0, written: 10 });
    // CSV has no createdAt column: the ObjectId's time stands in, as it does for the dump.
    expect(await scan()).toEqual(itemsAfterArray);
  });
});

describe('a mapping with a bug', () => {
  const file = async () => {
    const path = join(dir, 'tiny.jsonl');
    await writeFile(path, '{"_id":"a"}\n{"_id":"b"}\n{"_id":"c"}\n');
    return path;
  };

  it('is an error naming the row when it throws', async () => {
    const mapper: RowMapper = {
      entities: ['thing'],
      map: (_e, row) => {
        if (row._id === 'b') throw new TypeError("Cannot read properties of undefined (reading 'name')");
        return { ok: true, items: [{ PK: `T#${row._id}`, SK: 'T' }], ignored: [] };
      },
    };
    await expect(load(await file(), 'thing', 'jsonl', { mapper })).rejects.toThrow(
      /tiny\.jsonl:2: the thing mapping threw on this row: Cannot read properties/,
    );
  });

  it('is an error naming the row and the field when an item lacks a key or holds what DynamoDB cannot', async () => {
    const noSortKey: RowMapper = {
      entities: ['thing'],
      map: (_e, row) => ({ ok: true, items: [{ PK: `T#${row._id}` }], ignored: [] }),
    };
    const err = await load(await file(), 'thing', 'jsonl', { mapper: noSortKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportMappingError);
    expect(err).toMatchObject({ line: 1, field: 'SK' });
    expect((err as Error).message).toMatch(/tiny\.jsonl:1: .*no SK \(the table's sort key\)/);

    const aFunction: RowMapper = {
      entities: ['thing'],
      map: (_e, row) => ({
        ok: true,
        items: [{ PK: `T#${row._id}`, SK: 'T', at: new Date(0) }],
        ignored: [],
      }),
    };
    const err2 = await load(await file(), 'thing', 'jsonl', { mapper: aFunction }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ line: 1, field: 'at' });
  });
});

describe("the distributed import's Lambda handler, run locally", () => {
  /** The bucket: objects in memory (S3 cannot run here; the handler only puts and gets text). */
  function memoryStore(): ObjectStore & { objects: Map<string, string> } {
    const objects = new Map<string, string>();
    return {
      objects,
      async put(k, body) {
        objects.set(k, body);
      },
      async get(k) {
        const body = objects.get(k);
        if (body === undefined) throw new Error(`NoSuchKey: ${k}`);
        return body;
      },
    };
  }

  it('imports a JSON lines file batch by batch as the Distributed Map hands it over, rejects by line to S3, and sums up', async () => {
    // The file as it sits in S3: mongoexport lines, three of them bad rows (still valid JSON).
    const lines = dump.products
      .slice(0, 45)
      .map((p) => EJSON.stringify(p as unknown as Record<string, unknown>, { relaxed: false }));
    lines[10] = JSON.stringify({ ...JSON.parse(lines[10] as string), price: 'free' });
    lines[20] = JSON.stringify({ ...JSON.parse(lines[20] as string), title: undefined });
    lines[44] = JSON.stringify({ ...JSON.parse(lines[44] as string), images: ['has space.webp'] });
    const path = join(dir, 'distributed.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);

    // A table of its own, made the way the shop makes its table.
    const table = 'distributed';
    await ensureTable(raw, table);
    const store = memoryStore();
    const handler = importBatchHandler(() => ({
      mapper: shopImport,
      dynamo: raw,
      store,
      tableName: table,
      key,
      limits,
    }));
    // What the S3 JSONL ItemReader, the ItemSelector ({row, index}) and the ItemBatcher (20 a batch) make of it.
    const items = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l, index) => ({ row: JSON.parse(l) as unknown, index }));
    const outputs: string[] = [];
    for (let i = 0; i < items.length; i += 20) {
      const out = await handler({
        Items: items.slice(i, i + 20),
        BatchInput: {
          entity: 'product',
          key: 'dumps/distributed.jsonl',
          format: 'jsonl',
          rejectsPrefix: 'rejects/run-1/',
        },
      });
      outputs.push(JSON.stringify(out));
    }
    expect(outputs.map((o) => JSON.parse(o))).toEqual([
      { rows: 20, written: 19, rejected: 1, byType: { Product: 19 }, rejectsKey: 'rejects/run-1/11.jsonl' },
      { rows: 20, written: 19, rejected: 1, byType: { Product: 19 }, rejectsKey: 'rejects/run-1/21.jsonl' },
      { rows: 5, written: 4, rejected: 1, byType: { Product: 4 }, rejectsKey: 'rejects/run-1/45.jsonl' },
    ]);
    const rejects = [...store.objects.entries()]
      .filter(([k]) => k.startsWith('rejects/'))
      .map(([, body]) => JSON.parse(body.trim()) as { line: number; field?: string });
    expect(rejects.map((r) => [r.line, r.field])).toEqual([
      [11, 'price'],
      [21, 'title'],
      [45, 'images.0'],
    ]);

    // The ResultWriter's manifest and result file, as Step Functions writes them, then the last step.
    store.objects.set(
      'results/map-run/SUCCEEDED_0.json',
      JSON.stringify(outputs.map((Output, n) => ({ Name: `batch-${n}`, Status: 'SUCCEEDED', Output }))),
    );
    store.objects.set(
      'results/map-run/manifest.json',
      JSON.stringify({
        ResultFiles: {
          FAILED: [],
          PENDING: [],
          SUCCEEDED: [{ Key: 'results/map-run/SUCCEEDED_0.json', Size: 1 }],
        },
      }),
    );
    const summary = await handler({
      summarize: { manifestKey: 'results/map-run/manifest.json', summaryKey: 'summaries/run-1.json' },
    });
    expect(summary).toEqual({
      batches: 3,
      failedBatches: 0,
      rows: 45,
      written: 42,
      rejected: 3,
      byType: { Product: 42 },
      rejectsKeys: ['rejects/run-1/11.jsonl', 'rejects/run-1/21.jsonl', 'rejects/run-1/45.jsonl'],
    });
    expect(JSON.parse(store.objects.get('summaries/run-1.json') as string)).toEqual(summary);

    // Every good row is in the table, no bad one.
    const viaHandler = await scanTable(table);
    expect(viaHandler).toHaveLength(42);
    const ids = new Set(viaHandler.map((i) => i.id));
    for (const [n, p] of dump.products.slice(0, 45).entries()) {
      expect(ids.has(p._id.toHexString()), `line ${n + 1}`).toBe(![10, 20, 44].includes(n));
    }
  });
});

describe("any project's tables, through a mapping declared in its YAML config", () => {
  it('imports a mongodump collection with renames, coercions, defaults, computed keys and skipped rows; bad rows name their field', async () => {
    const projectDir = join(dir, 'orders-project');
    await mkdir(join(projectDir, 'dump', 'orders'), { recursive: true });
    await writeFile(
      join(projectDir, 'loadtest.config.yml'),
      [
        'name: orders',
        'tables:',
        '  - name: customer-orders',
        '    partitionKey: { name: PK, type: S }',
        '    sortKey: { name: SK, type: S }',
        'import:',
        '  collections: { purchases: order }',
        '  entities:',
        '    order:',
        '      skip: { state: [deleted] }',
        '      items:',
        '        - PK: "CUSTOMER#{customer}"',
        '          SK: "ORDER#{_id}"',
        '          type: Order',
        '          customerId: { from: customer, type: string }',
        '          total: { from: amount, type: number }',
        '          placedAt: { from: placedAt, type: date, default: now }',
        '          note: { from: note, type: string, required: false }',
      ].join('\n'),
    );
    const customer = new ObjectId('64b7f0a1c2d3e4f5a6b7c8d9');
    const docs = [
      {
        _id: new ObjectId('64b7f0a1c2d3e4f5a6b7c801'),
        customer,
        amount: new Decimal128('19.90'),
        placedAt: new Date(Date.UTC(2023, 6, 1)),
        state: 'paid',
      },
      {
        _id: new ObjectId('64b7f0a1c2d3e4f5a6b7c802'),
        customer,
        amount: new Int32(5),
        state: 'paid',
        note: 'gift',
      },
      { _id: new ObjectId('64b7f0a1c2d3e4f5a6b7c803'), customer, amount: new Int32(7), state: 'deleted' },
      { _id: new ObjectId('64b7f0a1c2d3e4f5a6b7c804'), customer, amount: 'a lot', state: 'paid' },
      { _id: new ObjectId('64b7f0a1c2d3e4f5a6b7c805'), amount: new Int32(3), state: 'paid' },
    ];
    await writeFile(
      join(projectDir, 'dump', 'orders', 'purchases.bson'),
      Buffer.concat(docs.map((d) => BSON.serialize(d))),
    );

    const project = await loadProject(join(projectDir, 'loadtest.config.yml'));
    const plan = importPlan(project);
    const [collection] = await dumpCollections(join(projectDir, 'dump'));
    expect(plan.mapper.collections?.[collection?.collection as string]).toBe('order');
    await ensureTables(raw, [plan.table]);
    const summary = await importFile({
      file: collection?.file as string,
      entity: 'order',
      format: 'bson',
      mapper: plan.mapper,
      key: plan.key,
      limits: plan.limits,
      sink: new DynamoSink({ client: raw, tableName: plan.table.name, key: plan.key }),
      rejectsPath: join(dir, 'out', 'orders.rejects.jsonl'),
      now: new Date('2024-06-01T00:00:00.000Z'),
    });
    // Its items have no `entity` attribute: they are counted under the entity imported.
    expect(summary).toMatchObject({ rows: 5, written: 2, skipped: 1, rejected: 2, byType: { order: 2 } });
    // `state` is read by the skip rule: it has its place, and is not said to be left out.
    expect(summary.ignoredFields).toEqual({});
    expect(summary.firstRejects.map((r) => [r.line, r.field, r.error])).toEqual([
      [4, 'amount', 'amount: expected a number, got "a lot"'],
      [5, 'customer', 'customer: is missing'],
    ]);
    const items = (await scanTable('customer-orders')).sort((a, b) =>
      String(a.SK).localeCompare(String(b.SK)),
    );
    expect(items).toEqual([
      {
        PK: 'CUSTOMER#64b7f0a1c2d3e4f5a6b7c8d9',
        SK: 'ORDER#64b7f0a1c2d3e4f5a6b7c801',
        type: 'Order',
        customerId: '64b7f0a1c2d3e4f5a6b7c8d9',
        total: 19.9,
        placedAt: '2023-07-01T00:00:00.000Z',
      },
      {
        PK: 'CUSTOMER#64b7f0a1c2d3e4f5a6b7c8d9',
        SK: 'ORDER#64b7f0a1c2d3e4f5a6b7c802',
        type: 'Order',
        customerId: '64b7f0a1c2d3e4f5a6b7c8d9',
        total: 5,
        placedAt: '2024-06-01T00:00:00.000Z',
        note: 'gift',
      },
    ]);
  });
});

describe("the distributed import's Lambda bundle", () => {
  it('runs as Lambda would run it (esbuild ESM bundle, SDK clients from the environment) against DynamoDB Local', async () => {
    // Bundled the way the stack's NodejsFunction bundles it (ESM, minified, the AWS SDK left to the runtime),
    // inside the repository so the SDK resolves from node_modules as the runtime would provide it.
    const out = join(ROOT, '.loadtest', 'test-import-lambda', 'index.mjs');
    await build({
      entryPoints: [join(ROOT, 'infra/functions/import-batch.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      external: ['@aws-sdk/*'],
      outfile: out,
      logLevel: 'error',
    });
    const table = 'lambda-bundle';
    await ensureTable(raw, table);
    const saved = { ...process.env };
    Object.assign(process.env, {
      TABLE_NAME: table,
      BUCKET: 'unused-without-rejects',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
    });
    try {
      const { handler } = (await import(pathToFileURL(out).href)) as {
        handler: (e: unknown) => Promise<Record<string, unknown>>;
      };
      const items = dump.products.slice(0, 30).map((p, index) => ({
        row: JSON.parse(
          EJSON.stringify(p as unknown as Record<string, unknown>, { relaxed: false }),
        ) as unknown,
        index,
      }));
      const result = await handler({
        Items: items,
        BatchInput: {
          entity: 'product',
          key: 'dumps/p.jsonl',
          format: 'jsonl',
          rejectsPrefix: 'rejects/x/',
          params: {},
        },
      });
      expect(result).toEqual({ rows: 30, written: 30, rejected: 0, byType: { Product: 30 } });
      const written = await scanTable(table);
      expect(new Set(written.map((i) => i.id))).toEqual(
        new Set(dump.products.slice(0, 30).map((p) => p._id.toHexString())),
      );
    } finally {
      process.env = saved;
    }
  });
});

describe('tables that exist', () => {
  it('are left as they are, and said to differ when their keys or indexes are not the spec', async () => {
    const spec = { name: 'kept-notes', partitionKey: { name: 'userId', type: 'S' as const } };
    expect(await ensureTables(raw, [spec])).toEqual({ created: ['kept-notes'], existed: [], differs: [] });
    expect(await ensureTables(raw, [spec])).toEqual({ created: [], existed: ['kept-notes'], differs: [] });
    // The config grew a sort key and a GSI since the table was made (kept data, --persist).
    const grown = {
      ...spec,
      sortKey: { name: 'noteId', type: 'S' as const },
      globalSecondaryIndexes: [{ name: 'byTag', partitionKey: { name: 'tag', type: 'S' as const } }],
    };
    expect(await ensureTables(raw, [grown])).toEqual({
      created: [],
      existed: ['kept-notes'],
      differs: [{ table: 'kept-notes', what: ["sort key none, the project's noteId (S)", 'no GSI byTag'] }],
    });
  });
});
