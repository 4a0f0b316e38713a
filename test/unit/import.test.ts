import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { BSON, Decimal128, EJSON, Int32, Long, ObjectId, UUID } from 'bson';
import { beforeAll, describe, expect, it } from 'vitest';
import { cartIdFor, deterministicId, type Entity, mapRow, shopImport } from '../../app/data/import-map.js';
import { keys, tableDefinition } from '../../app/index.js';
import {
  importFile,
  itemBytes,
  itemProblem,
  keyLimits,
  MAX_ITEM_BYTES,
  marshallItem,
  parseCsvRecord,
  readRows,
  rowPlace,
  S3ExportSink,
  type SourceRow,
} from '../../runner/data/index.js';

/** The shop table's key attributes, as the import command derives them from the project's table. */
const shopKeys = { partitionKey: 'PK', sortKey: 'SK' };
const shopLimits = keyLimits({
  ...shopKeys,
  indexes: tableDefinition.indexes.map((i) => ({
    partitionKey: i.partitionKey.name,
    sortKey: i.sortKey.name,
  })),
});
const shop = { mapper: shopImport, key: shopKeys, limits: shopLimits };

const NOW = '2024-06-01T00:00:00.000Z';
const map = (entity: Entity, row: Record<string, unknown>) => mapRow(entity, row, { now: NOW });

function ok(result: ReturnType<typeof mapRow>) {
  if (!result.ok) throw new Error(`expected a mapping, got: ${result.error}`);
  return result;
}

function error(result: ReturnType<typeof mapRow>): string {
  if (result.ok) throw new Error('expected a rejection');
  return result.error;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-import-unit-'));
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function rows(path: string, format: 'jsonl' | 'csv' | 'bson'): Promise<SourceRow[]> {
  const out: SourceRow[] = [];
  for await (const r of readRows(path, format)) out.push(r);
  return out;
}

const product = {
  _id: 'p-1',
  title: 'Walnut Desk',
  description: 'A desk of solid walnut.',
  price: 199.5,
  category: 'furniture',
  images: ['https://example.com/desk.jpg'],
  sold: 3,
  createdAt: '2021-05-01T10:00:00Z',
};

describe('mapping users', () => {
  it('writes what registerUser writes, with a cartId fixed by the email', () => {
    const r = ok(
      map('user', {
        _id: { $oid: '5f1d7f9e2c3b4a0012345678' },
        email: 'Ada@Example.com',
        name: ' Ada ',
        createdAt: { $date: '2020-01-01T00:00:00Z' },
        __v: 0,
      }),
    );
    expect(r.items).toEqual([
      {
        ...keys.user('ada@example.com'),
        entity: 'User',
        email: 'ada@example.com',
        name: 'Ada',
        cartId: cartIdFor('ada@example.com'),
        createdAt: '2020-01-01T00:00:00.000Z',
      },
    ]);
    expect(r.ignored).toEqual(['__v']);
    expect(cartIdFor('ada@example.com')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(cartIdFor('ada@example.com')).not.toBe(cartIdFor('bob@example.com'));
  });

  it('reads createdAt from $date in every Extended JSON spelling, from the ObjectId, else uses the fallback', () => {
    const at = (row: Record<string, unknown>) =>
      ok(map('user', { email: 'a@b.co', name: 'A', ...row })).items[0]?.createdAt;
    expect(at({ createdAt: { $date: { $numberLong: '1577836800000' } } })).toBe('2020-01-01T00:00:00.000Z');
    expect(at({ createdAt: { $date: 1577836800000 } })).toBe('2020-01-01T00:00:00.000Z');
    expect(at({ createdAt: 1577836800 })).toBe('2020-01-01T00:00:00.000Z'); // epoch seconds
    expect(at({ createdAt: '2020-01-01 10:30:00' })).toBe('2020-01-01T10:30:00.000Z'); // SQL, no zone: UTC
    expect(at({ _id: { $oid: '5e0be1000000000000000000' } })).toBe('2020-01-01T00:00:00.000Z');
    expect(at({ _id: 'ObjectId(5e0be1000000000000000000)' })).toBe('2020-01-01T00:00:00.000Z');
    expect(at({})).toBe(NOW);
  });

  it('refuses a missing or invalid field, naming it', () => {
    expect(error(map('user', { name: 'A' }))).toBe('email: is missing');
    expect(error(map('user', { email: 'nope', name: 'A' }))).toMatch(/^email: /);
    expect(error(map('user', { email: 'a@b.co', name: '' }))).toMatch(/^name: /);
    expect(error(map('user', { email: 'a@b.co', name: 'A', createdAt: 'yesterday' }))).toMatch(
      /^createdAt: must be a date/,
    );
  });
});

describe('mapping products', () => {
  it('writes what createProduct writes, with the app key builders, keeping a valid source id', () => {
    const r = ok(map('product', product));
    const expected = {
      title: 'Walnut Desk',
      description: 'A desk of solid walnut.',
      price: 199.5,
      category: 'furniture',
      images: ['https://example.com/desk.jpg'],
      id: 'p-1',
      sold: 3,
      createdAt: '2021-05-01T10:00:00.000Z',
    };
    expect(r.items).toEqual([
      { ...keys.product('p-1'), ...keys.productIndexes(expected), entity: 'Product', ...expected },
    ]);
  });

  it('reads prices as numbers, strings or $numberDecimal, and ObjectIds as ids', () => {
    for (const price of [12.5, '12.50', { $numberDecimal: '12.50' }, { $numberDouble: '12.5' }]) {
      expect(ok(map('product', { ...product, price })).items[0]?.price).toBe(12.5);
    }
    const oid = ok(map('product', { ...product, _id: { $oid: '5f1d7f9e2c3b4a0012345678' } })).items[0];
    expect(oid?.id).toBe('5f1d7f9e2c3b4a0012345678');
    // A SQL integer id is a valid app id once it is text.
    expect(ok(map('product', { ...product, _id: undefined, id: 42 })).items[0]?.id).toBe('42');
  });

  it('derives a deterministic id when the source id is not one the app accepts', () => {
    const a = ok(map('product', { ...product, _id: 'books/42' })).items[0];
    const b = ok(map('product', { ...product, _id: 'books/42', title: 'Other' })).items[0];
    expect(a?.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(a?.id).toBe(b?.id);
    expect(a?.id).toBe(deterministicId('product', 'books/42'));
    expect(a?.PK).toBe(`PRODUCT#${a?.id}`);
  });

  it('takes images as a JSON array in a string or `;`-separated, and defaults sold and images', () => {
    const two = ['https://e.com/a.jpg', 'https://e.com/b.jpg'];
    expect(
      ok(map('product', { ...product, images: 'https://e.com/a.jpg; https://e.com/b.jpg' })).items[0]?.images,
    ).toEqual(two);
    expect(ok(map('product', { ...product, images: JSON.stringify(two) })).items[0]?.images).toEqual(two);
    const bare = ok(map('product', { ...product, images: undefined, sold: undefined })).items[0];
    expect(bare).toMatchObject({ images: [], sold: 0 });
    // SQL NULLs are absent fields.
    const nulls = ok(map('product', { ...product, images: null, sold: null, createdAt: null })).items[0];
    expect(nulls).toMatchObject({ images: [], sold: 0, createdAt: NOW });
    expect(error(map('product', { ...product, title: null }))).toBe('title: is missing');
  });

  it('refuses what the app would refuse', () => {
    expect(error(map('product', { ...product, price: 'abc' }))).toMatch(/^price: /);
    expect(error(map('product', { ...product, price: 0 }))).toMatch(/^price: /);
    expect(error(map('product', { ...product, price: 1.234 }))).toBe(
      'price: must be a whole number of cents',
    );
    expect(error(map('product', { ...product, images: ['ftp://x'] }))).toMatch(/^images\.0: /);
    expect(error(map('product', { ...product, sold: -1 }))).toMatch(/^sold: /);
    expect(error(map('product', { ...product, _id: undefined }))).toBe('_id: is missing');
    expect(error(map('product', { ...product, title: 'x'.repeat(201) }))).toMatch(/^title: /);
  });
});

describe('mapping orders', () => {
  const order = {
    _id: { $oid: '6f1d7f9e2c3b4a0012345678' },
    email: 'ada@example.com',
    status: 'COMPLETED',
    createdAt: { $date: '2020-09-13T12:00:00Z' },
    items: [
      {
        productId: { $oid: '5f1d7f9e2c3b4a0012345678' },
        title: 'Desk',
        price: { $numberDecimal: '199.50' },
        quantity: 2,
      },
      { productId: 'books/42', title: 'Lamp', price: '12.5', quantity: { $numberInt: '1' }, sku: 'L1' },
    ],
  };

  it('becomes an Order item and one OrderItem per line, totals as checkout computes them', () => {
    const r = ok(map('order', order));
    const orderId = '6f1d7f9e2c3b4a0012345678';
    const lamp = deterministicId('product', 'books/42');
    expect(r.items).toEqual([
      {
        ...keys.order('ada@example.com', orderId),
        ...keys.orderIndex('ada@example.com', orderId, false),
        entity: 'Order',
        orderId,
        email: 'ada@example.com',
        status: 'COMPLETED',
        createdAt: '2020-09-13T12:00:00.000Z',
        completedAt: '2020-09-13T12:00:00.000Z',
        total: 411.5,
        itemCount: 2,
      },
      {
        ...keys.orderItem(orderId, '5f1d7f9e2c3b4a0012345678'),
        entity: 'OrderItem',
        orderId,
        productId: '5f1d7f9e2c3b4a0012345678',
        title: 'Desk',
        price: 199.5,
        quantity: 2,
      },
      // The same product id as importing the product with that source id gives.
      {
        ...keys.orderItem(orderId, lamp),
        entity: 'OrderItem',
        orderId,
        productId: lamp,
        title: 'Lamp',
        price: 12.5,
        quantity: 1,
      },
    ]);
    expect(r.ignored).toEqual(['items[].sku']);
  });

  it("makes an open cart the user's cart: the id the imported user points at", () => {
    const r = ok(map('order', { _id: 'o2', email: 'Ada@example.com', status: 'current' }));
    const cartId = cartIdFor('ada@example.com');
    expect(r.items).toEqual([
      {
        ...keys.order('ada@example.com', cartId),
        ...keys.orderIndex('ada@example.com', cartId, true),
        entity: 'Order',
        orderId: cartId,
        email: 'ada@example.com',
        status: 'CURRENT',
        createdAt: NOW,
      },
    ]);
  });

  it('reads items from a JSON cell and refuses bad orders', () => {
    const cell = ok(map('order', { ...order, items: JSON.stringify(order.items) }));
    expect(cell.items).toHaveLength(3);
    expect(error(map('order', { ...order, items: '[{"productId":' }))).toBe('items: is not valid JSON');
    expect(error(map('order', { ...order, items: [] }))).toBe(
      'items: a completed order has at least one item',
    );
    expect(error(map('order', { ...order, status: 'SHIPPED' }))).toMatch(/^status: /);
    expect(error(map('order', { ...order, items: [{ ...order.items[1], quantity: 0 }] }))).toMatch(
      /^items\.0\.quantity: /,
    );
    expect(error(map('order', { ...order, items: [order.items[1], order.items[1]] }))).toMatch(
      /^items\.1\.productId: .*one line per product/,
    );
  });
});

describe('DynamoDB limits', () => {
  it('sizes items as DynamoDB does and refuses what DynamoDB would', () => {
    expect(itemBytes({ ab: { S: 'xyz' } })).toBe(5);
    expect(itemBytes({ n: { N: '12.5' } })).toBe(1 + 3);
    const item = marshallItem(ok(map('product', product)).items[0] ?? {});
    expect(itemProblem(item, shopLimits)).toBeUndefined();
    const huge: Record<string, AttributeValue> = { ...item, description: { S: 'x'.repeat(MAX_ITEM_BYTES) } };
    expect(itemProblem(huge, shopLimits, 'Product item')).toMatch(
      /^the Product item would be \d+ bytes, over DynamoDB's 400 KB item limit/,
    );
    expect(itemProblem({ ...item, SK: { S: 'x'.repeat(1025) } }, shopLimits)).toMatch(
      /SK would be 1025 bytes/,
    );
    expect(itemProblem({ ...item, GSI1PK: { S: '' } }, shopLimits)).toMatch(/GSI1PK would be empty/);
    expect(itemProblem({ ...item, sold: { N: '1e200' } }, shopLimits)).toMatch(
      /^sold: .*out of DynamoDB's number range/,
    );
    // Only the table's key attributes have key limits: the same item with no key list has none.
    expect(itemProblem({ ...item, SK: { S: 'x'.repeat(1025) } }, [])).toBeUndefined();
  });
});

describe('reading files', () => {
  it('reads JSON lines with the line each row is on, and reports unreadable ones', async () => {
    const path = await file('a.jsonl', '\uFEFF{"a":1}\n\n{"a":\n[1]\r\n  {"b":2}  \n');
    expect(await rows(path, 'jsonl')).toEqual([
      { line: 1, raw: '{"a":1}', value: { a: 1 } },
      { line: 3, raw: '{"a":', error: expect.stringMatching(/^not valid JSON/) },
      { line: 4, raw: '[1]', error: 'expected a JSON object, got an array' },
      { line: 5, raw: '  {"b":2}  ', value: { b: 2 } },
    ]);
  });

  it('reads a JSON array (mongoexport --jsonArray), an element per row with the line it starts on', async () => {
    const path = await file('a.json', '[\n{"a":"x,]"},\n{"b":\n  [1,2]},\n{"c":1 x},\n{"d":1}\n]\n');
    const out = await rows(path, 'jsonl');
    expect(out.map((r) => [r.line, r.value ?? r.error?.slice(0, 14)])).toEqual([
      [2, { a: 'x,]' }],
      [3, { b: [1, 2] }],
      [5, 'not valid JSON'],
      [6, { d: 1 }],
    ]);
    const cut = await file('cut.json', '[{"a":1},\n{"b":');
    expect((await rows(cut, 'jsonl')).map((r) => [r.line, r.element, r.error ?? 'ok'])).toEqual([
      [1, 1, 'ok'],
      [2, 2, expect.stringMatching(/ends in the middle of this element/)],
    ]);
    // An array on one line: its elements all start on line 1, and are told apart by their number.
    const one = await file('one.json', '[{"a":1}, {"a":2},{"a":3}]');
    expect((await rows(one, 'jsonl')).map((r) => [r.line, r.element, r.value])).toEqual([
      [1, 1, { a: 1 }],
      [1, 2, { a: 2 }],
      [1, 3, { a: 3 }],
    ]);
  });

  it('reads gzipped files, and refuses a corrupt one as a whole', async () => {
    const path = join(dir, 'a.jsonl.gz');
    await writeFile(path, gzipSync('{"a":1}\n{"a":2}\n'));
    expect((await rows(path, 'jsonl')).map((r) => [r.line, r.value])).toEqual([
      [1, { a: 1 }],
      [2, { a: 2 }],
    ]);
    const bad = await file('bad.jsonl.gz', 'not gzip');
    await expect(rows(bad, 'jsonl')).rejects.toThrow(/cannot read it after line 0: incorrect header check/);
  });

  it('parses CSV as RFC 4180: quotes, doubled quotes, commas and newlines in cells', async () => {
    expect(parseCsvRecord('a,"b,c","say ""hi""",')).toEqual(['a', 'b,c', 'say "hi"', '']);
    expect(parseCsvRecord('a,"b"x')).toEqual({ error: 'column 2: unexpected "x" after a closing quote' });
    const path = await file('a.csv', 'email,name\r\na@b.co,"Ada\r\nLovelace"\r\nb@b.co,\r\n');
    expect(await rows(path, 'csv')).toEqual([
      { line: 2, raw: 'a@b.co,"Ada\nLovelace"', value: { email: 'a@b.co', name: 'Ada\nLovelace' } },
      { line: 4, raw: 'b@b.co,', value: { email: 'b@b.co' } },
    ]);
  });

  it('rejects only the broken CSV line: a stray quote does not swallow the rows after it', async () => {
    const path = await file(
      'b.csv',
      ['_id,title', 'p1,ok', 'p2,Bad"quote', 'p3', 'p4,"never closed', 'p5,"fine, too"', 'p6,ok'].join('\n'),
    );
    const out = await rows(path, 'csv');
    expect(out.map((r) => [r.line, r.value?._id ?? r.error])).toEqual([
      [2, 'p1'],
      [3, 'not valid CSV: column 2: a quote inside an unquoted field'],
      [4, 'expected 2 fields (as in the header), got 1'],
      [5, expect.stringMatching(/quoted field opens on this line and never closes/)],
      [6, 'p5'],
      [7, 'p6'],
    ]);
  });
});

describe('importing a file', () => {
  it('writes good rows, and every bad one with its line, problem and raw text to the rejects file', async () => {
    const lines = [
      JSON.stringify({ email: 'a@example.com', name: 'A', createdAt: '2020-01-01T00:00:00Z' }),
      '{not json',
      JSON.stringify({ email: 'b@example.com' }),
      '',
      JSON.stringify({ email: 'A@example.com', name: 'Again' }),
      JSON.stringify({ email: 'c@example.com', name: 'C', createdAt: '2020-01-02T00:00:00Z', password: 'x' }),
    ];
    const path = await file('users.jsonl', `${lines.join('\n')}\n`);
    const out = join(dir, 's3-users');
    const sink = await S3ExportSink.create(out, { maxFileBytes: 400 });
    const rejectsPath = `${path}.rejects.jsonl`;
    const summary = await importFile({
      ...shop,
      file: path,
      entity: 'user',
      format: 'jsonl',
      sink,
      rejectsPath,
    });
    expect(summary).toMatchObject({
      rows: 5,
      rejected: 3,
      items: 2,
      written: 2,
      byType: { User: 2 },
      ignoredFields: { password: 1 },
      rejectsPath,
    });
    const rejects = (await readFile(rejectsPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects).toEqual([
      { line: 2, error: expect.stringMatching(/^not valid JSON/), raw: '{not json' },
      { line: 3, field: 'name', error: 'name: is missing', raw: lines[2] },
      { line: 5, error: 'duplicate: line 1 already has USER#a@example.com', raw: lines[4] },
    ]);
    // Bounded files: each of these items is over half of 400 bytes, so one a file.
    expect((await readdir(out)).sort()).toEqual(['data-00000.json.gz', 'data-00001.json.gz']);
    const items = [];
    for (const f of sink.files) {
      for (const l of gunzipSync(await readFile(f))
        .toString('utf8')
        .trim()
        .split('\n')) {
        const parsed = JSON.parse(l) as { Item: Record<string, AttributeValue> };
        expect(Object.keys(parsed)).toEqual(['Item']);
        items.push(unmarshall(parsed.Item));
      }
    }
    expect(items.map((i) => i.email)).toEqual(['a@example.com', 'c@example.com']);

    // The same rows as a JSON array on one line: each reject says which element, not only line 1.
    const array = await file('users-array.json', `[${lines.filter((l) => l.startsWith('{"')).join(',')}]`);
    const inArray = await importFile({
      ...shop,
      file: array,
      entity: 'user',
      format: 'jsonl',
      sink: await S3ExportSink.create(join(dir, 's3-array'), {}),
      rejectsPath: `${array}.rejects.jsonl`,
    });
    expect(inArray.firstRejects.map((r) => [rowPlace(r), r.error])).toEqual([
      ['line 1, element 2', 'name: is missing'],
      ['line 1, element 3', 'duplicate: line 1, element 1 already has USER#a@example.com'],
    ]);
  });

  it('names S3 files per entity, so the entities share a folder, and replaces only its own earlier files', async () => {
    const out = join(dir, 's3-shared');
    const write = async (prefix: string, n: number) => {
      const sink = await S3ExportSink.create(out, { prefix, maxFileBytes: 1 });
      for (let i = 0; i < n; i += 1) await sink.add({ line: i + 1, item: { PK: { S: `${prefix}#${i}` } } });
      await sink.finish();
    };
    await write('user', 3);
    await write('product', 1);
    await write('user', 2);
    expect((await readdir(out)).sort()).toEqual([
      'product-00000.json.gz',
      'user-00000.json.gz',
      'user-00001.json.gz',
    ]);
  });

  it('refuses a CSV whose header lacks a column every row needs, before reading rows', async () => {
    const path = await file('p.csv', 'title,price\nDesk,1\n');
    const sink = await S3ExportSink.create(join(dir, 's3-p'));
    await expect(
      importFile({
        ...shop,
        file: path,
        entity: 'product',
        format: 'csv',
        sink,
        rejectsPath: `${path}.rejects.jsonl`,
      }),
    ).rejects.toThrow(/the CSV header has no _id or id column/);
  });
});

describe('mongodump BSON files', () => {
  const docs = () =>
    Array.from({ length: 5 }, (_, i) => ({
      _id: new ObjectId(`5f1d7f9e2c3b4a00123456${String(i).padStart(2, '0')}`),
      n: new Int32(i),
      big: Long.fromString('9007199254740993'),
      price: new Decimal128(`${i}.10`),
      at: new Date(Date.UTC(2022, 0, i + 1)),
      uuid: new UUID('0e2f3c4d-5a6b-4c7d-8e9f-a0b1c2d3e4f5'),
      nested: { writer: new ObjectId('5f1d7f9e2c3b4a0012345678'), tags: ['a'] },
    }));

  it('reads each document as a row of plain values, numbered from 1, gzipped or not', async () => {
    const bytes = Buffer.concat(docs().map((d) => BSON.serialize(d)));
    for (const path of [await file('c.bson', ''), await file('c.bson.gz', '')]) {
      await writeFile(path, path.endsWith('.gz') ? gzipSync(bytes) : bytes);
      const got = await rows(path, 'bson');
      expect(got.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
      expect(got[2]?.value).toEqual({
        _id: '5f1d7f9e2c3b4a0012345602',
        n: 2,
        big: '9007199254740993',
        price: '2.10',
        at: '2022-01-03T00:00:00.000Z',
        uuid: '0e2f3c4d-5a6b-4c7d-8e9f-a0b1c2d3e4f5',
        nested: { writer: '5f1d7f9e2c3b4a0012345678', tags: ['a'] },
      });
      // The raw text of a row is canonical Extended JSON: what mongoexport would have written.
      expect(JSON.parse(got[0]?.raw as string)._id).toEqual({ $oid: '5f1d7f9e2c3b4a0012345600' });
    }
  });

  it('reports a file cut short in its last document, and refuses a file that is not BSON', async () => {
    const bytes = Buffer.concat(docs().map((d) => BSON.serialize(d)));
    const cut = await file('cut.bson', '');
    await writeFile(cut, bytes.subarray(0, bytes.length - 10));
    const got = await rows(cut, 'bson');
    expect(got.filter((r) => r.value)).toHaveLength(4);
    expect(got[4]).toMatchObject({
      line: 5,
      error: expect.stringMatching(/ends .* into document 5 \(file cut short\?\)/),
    });
    const text = await file('notbson.bson', 'hello, this is text and not BSON at all');
    await expect(rows(text, 'bson')).rejects.toThrow(/document 1 claims \d+ bytes: not a BSON file/);
  });

  it('reads Extended JSON lines, canonical and relaxed, to the same plain values', async () => {
    const [d] = docs();
    const path = await file(
      'ejson.jsonl',
      `${EJSON.stringify(d as object, { relaxed: false })}\n${EJSON.stringify(d as object, { relaxed: true })}\n`,
    );
    const [canonical, relaxed] = await rows(path, 'jsonl');
    // Relaxed Extended JSON writes a Long as a JSON number: past 2^53 it has lost digits already.
    const { big: exact, ...rest } = (canonical?.value ?? {}) as Record<string, unknown>;
    const { big: rounded, ...restRelaxed } = (relaxed?.value ?? {}) as Record<string, unknown>;
    expect(exact).toBe('9007199254740993');
    expect(rounded).toBe(9007199254740992);
    expect(rest).toEqual(restRelaxed);
    expect(canonical?.value).toMatchObject({
      _id: '5f1d7f9e2c3b4a0012345600',
      n: 0,
      at: '2022-01-01T00:00:00.000Z',
    });
  });
});
