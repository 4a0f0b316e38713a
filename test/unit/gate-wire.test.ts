import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexEntry, itemSize } from '../../local/gate/capacity.js';
import {
  capacityJson,
  editMembers,
  javaDouble,
  readMembers,
  topLevelMembers,
  UNREAD,
} from '../../local/gate/json-edit.js';
import { imagesBefore, meter, readsAfter, refKey } from '../../local/gate/meter.js';
import { parsePartiql } from '../../local/gate/partiql.js';
import { partiqlStatements } from '../../local/gate/protocol.js';
import type { TableSchema } from '../../local/gate/schema.js';
import { cancelledTransaction, throttleAnswer } from '../../local/gate/throttle-errors.js';
import { addNumbers, applyUpdate, UpdateExpressionError } from '../../local/gate/update-expression.js';

/** The gate's pure parts on the wire: member splicing, update expressions, PartiQL, metering, throttle answers. */
describe('editing DynamoDB answers without re-serialising them', () => {
  it('replaces, removes and appends top-level members, every other byte as it was', () => {
    const text =
      '{"Items":[{"n":{"N":"3.0"}}],"Count":1,"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.0}}';
    expect(editMembers(text, { ConsumedCapacity: '{"TableName":"t","CapacityUnits":0.5}' })).toBe(
      '{"Items":[{"n":{"N":"3.0"}}],"Count":1,"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}',
    );
    expect(editMembers(text, { ConsumedCapacity: undefined })).toBe(
      '{"Items":[{"n":{"N":"3.0"}}],"Count":1}',
    );
    expect(editMembers('{"Responses":[]}', { ConsumedCapacity: '[]' })).toBe(
      '{"Responses":[],"ConsumedCapacity":[]}',
    );
    expect(editMembers('[1]', { a: '1' })).toBeUndefined();
    // Strings with braces, quotes and escapes do not confuse the scan.
    expect(topLevelMembers('{"a":"}\\"{","b":{"c":"]"}}')?.map((m) => m.name)).toEqual(['a', 'b']);
  });

  it('keeps what it does not touch, for any JSON object (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.string(),
        fc.jsonValue(),
        (obj, key, value) => {
          const text = JSON.stringify(obj);
          const edited = editMembers(text, { [key]: JSON.stringify(value) }) ?? '';
          // The model as JSON.parse would build it: `__proto__` is an own member, not the prototype.
          const expected = JSON.parse(text) as Record<string, unknown>;
          Object.defineProperty(expected, key, {
            value: JSON.parse(JSON.stringify(value)),
            enumerable: true,
            writable: true,
            configurable: true,
          });
          expect(Object.entries(JSON.parse(edited))).toEqual(Object.entries(expected));
          expect(editMembers(text, {})).toBe(text);
        },
      ),
    );
  });

  it('reads an object member by member as JSON.parse would, leaving the members it is told to (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), fc.nat(), (obj, spaced, pick) => {
        const text = spaced ? JSON.stringify(obj, null, 2) : JSON.stringify(obj);
        const names = Object.keys(obj);
        const unread = new Set(names.length > 0 ? [names[pick % names.length] as string] : []);
        const read = readMembers(text, unread);
        const expected = Object.entries(JSON.parse(text) as Record<string, unknown>).map(
          ([k, v]): [string, unknown] => [k, unread.has(k) ? UNREAD : v],
        );
        expect(Object.entries(read?.value ?? {})).toEqual(expected);
        // Its spans serve an edit as a fresh scan would.
        expect(editMembers(text, { x: '1' }, read?.members)).toBe(editMembers(text, { x: '1' }));
      }),
    );
  });

  it('reads no further than it must, and refuses what is not a JSON object', () => {
    const text =
      '{"Items":[{"s":{"S":"a\\\\"}},{"s":{"S":"\\"}"}}],"Count":2,"ConsumedCapacity":{"CapacityUnits":0.5}}';
    expect(readMembers(text, new Set(['Items']))?.value).toEqual({
      Items: UNREAD,
      Count: 2,
      ConsumedCapacity: { CapacityUnits: 0.5 },
    });
    for (const bad of ['', '[1]', '{"a":1', '{"a":tru}', '{"a" 1}', 'null'])
      expect(readMembers(bad), bad).toBeUndefined();
  });

  it('writes capacity the way DynamoDB writes a double', () => {
    expect([1, 0.5, 12, 0, 2.25, 12_000_000].map(javaDouble)).toEqual([
      '1.0',
      '0.5',
      '12.0',
      '0.0',
      '2.25',
      '1.2E7',
    ]);
    expect(capacityJson({ TableName: 't', CapacityUnits: 6, WriteCapacityUnits: 6 })).toBe(
      '{"TableName":"t","CapacityUnits":6.0,"WriteCapacityUnits":6.0}',
    );
  });
});

describe('update expressions (the item a write would make)', () => {
  const before = {
    PK: { S: 'a' },
    n: { N: '1.5' },
    l: { L: [{ S: 'x' }, { S: 'y' }, { S: 'z' }] },
    s: { SS: ['a', 'b'] },
    m: { M: { q: { S: 'v' } } },
  };

  it('applies SET (arithmetic, if_not_exists, list_append, nested paths), REMOVE, ADD and DELETE', () => {
    const after = applyUpdate(
      before,
      { PK: { S: 'a' } },
      'SET n = n + :one, #m.q = :v, l = list_append(l, :more), c = if_not_exists(c, :one) REMOVE l[0] ADD s :s, cnt :one DELETE s :d',
      { '#m': 'm' },
      {
        ':one': { N: '1' },
        ':v': { S: 'new' },
        ':more': { L: [{ S: 'w' }] },
        ':s': { SS: ['c'] },
        ':d': { SS: ['a'] },
      },
    );
    expect(after.n).toEqual({ N: '2.5' });
    expect(after.m).toEqual({ M: { q: { S: 'new' } } });
    expect(after.c).toEqual({ N: '1' });
    expect(after.cnt).toEqual({ N: '1' });
    // Every operand reads the item as it was: list_append saw [x, y, z]; REMOVE l[0] then drops x.
    expect(after.l).toEqual({ L: [{ S: 'y' }, { S: 'z' }, { S: 'w' }] });
    // `before` is not changed.
    expect(before.n).toEqual({ N: '1.5' });
  });

  it('starts from the key when there is no item, and refuses what it cannot read', () => {
    expect(applyUpdate(undefined, { PK: { S: 'k' } }, 'SET v = :v', {}, { ':v': { S: 'x' } })).toEqual({
      PK: { S: 'k' },
      v: { S: 'x' },
    });
    expect(() => applyUpdate(undefined, { PK: { S: 'k' } }, 'SET = 1')).toThrow(UpdateExpressionError);
    expect(() => applyUpdate(undefined, { PK: { S: 'k' } }, 'SET v = :nope')).toThrow(
      /ExpressionAttributeValues/,
    );
  });

  it('adds numbers exactly, in decimal', () => {
    expect(addNumbers('0.1', '0.2')).toBe('0.3');
    expect(addNumbers('1E2', '0.5')).toBe('100.5');
    expect(addNumbers('3', '5', true)).toBe('-2');
    expect(addNumbers('12345678901234567890', '1')).toBe('12345678901234567891');
  });
});

describe('PartiQL, read as the item operations it stands for', () => {
  it('finds the table, the index, the key and the item', () => {
    expect(
      parsePartiql(`SELECT * FROM "shop"."GSI1" WHERE GSI1PK = ? AND price > 3`, [{ S: 'C#toys' }]),
    ).toEqual({
      action: 'select',
      table: 'shop',
      index: 'GSI1',
      equalities: { GSI1PK: { S: 'C#toys' } },
    });
    expect(
      parsePartiql(
        `INSERT INTO shop VALUE {'PK': 'a', 'n': 1.50, 'l': [1, 'x'], 's': <<'a','b'>>, 'ok': true}`,
      ),
    ).toMatchObject({
      action: 'insert',
      item: {
        PK: { S: 'a' },
        n: { N: '1.50' },
        l: { L: [{ N: '1' }, { S: 'x' }] },
        s: { SS: ['a', 'b'] },
        ok: { BOOL: true },
      },
    });
    expect(parsePartiql(`DELETE FROM "shop" WHERE PK = 'a' AND SK = 'it''s'`).equalities).toEqual({
      PK: { S: 'a' },
      SK: { S: "it's" },
    });
    // An OR at the top level pins no key.
    expect(parsePartiql(`SELECT * FROM shop WHERE PK = 'a' OR PK = 'b'`).equalities).toEqual({});
  });

  it('turns UPDATE into an UpdateExpression the gate can apply', () => {
    const st = parsePartiql(`UPDATE "shop" SET n = n + 1 SET "v" = ? REMOVE old WHERE PK = 'a'`, [
      { S: 'x' },
    ]);
    expect(st.update?.expression).toBe('SET #p0 = #p1 + :p0, #p2 = :p1 REMOVE #p3');
    const after = applyUpdate(
      { PK: { S: 'a' }, n: { N: '1' }, old: { S: 'o' } },
      { PK: { S: 'a' } },
      st.update?.expression ?? '',
      st.update?.names,
      st.update?.values,
    );
    expect(after).toEqual({ PK: { S: 'a' }, n: { N: '2' }, v: { S: 'x' } });
  });
});

const schema: TableSchema = {
  name: 't',
  partitionKey: 'pk',
  sortKey: 'sk',
  billing: { mode: 'on-demand' },
  indexes: [
    { name: 'inc', kind: 'GSI', partitionKey: 'g', projection: 'INCLUDE', nonKeyAttributes: ['a'] },
    { name: 'keys', kind: 'GSI', partitionKey: 'h', projection: 'KEYS_ONLY' },
  ],
};

describe('metering', () => {
  it('sizes index entries by their projection', () => {
    const item = {
      pk: { S: 'p' },
      sk: { S: 's' },
      g: { S: 'G' },
      h: { S: 'H' },
      a: { S: 'aa' },
      b: { S: 'bbb' },
    };
    expect(indexEntry(item, schema.indexes[0] as never, schema)).toEqual({
      pk: { S: 'p' },
      sk: { S: 's' },
      g: { S: 'G' },
      a: { S: 'aa' },
    });
    expect(indexEntry(item, schema.indexes[1] as never, schema)).toEqual({
      pk: { S: 'p' },
      sk: { S: 's' },
      h: { S: 'H' },
    });
    expect(indexEntry({ pk: { S: 'p' } }, schema.indexes[1] as never, schema)).toBeUndefined();
    expect(itemSize({ b: { B: Buffer.from('abc').toString('base64') as never } })).toBe(1 + 3);
  });

  it('charges a transaction from the images it reads before, the update applied to them', () => {
    const key = { pk: { S: 'p' }, sk: { S: 's' } };
    const body = {
      TransactItems: [
        {
          Update: {
            TableName: 't',
            Key: key,
            UpdateExpression: 'SET g = :g',
            ExpressionAttributeValues: { ':g': { S: 'x'.repeat(1500) } },
          },
        },
        {
          ConditionCheck: {
            TableName: 't',
            Key: { pk: { S: 'q' }, sk: { S: 's' } },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
      ],
    };
    const schemas = () => schema;
    expect(imagesBefore('TransactWriteItems', body, [], schemas)).toHaveLength(2);
    const before = new Map([[refKey('t', key, schema), { ...key, h: { S: 'H' } }]]);
    const m = meter({
      op: 'TransactWriteItems',
      body,
      statements: [],
      schemas,
      status: 200,
      out: {},
      before,
      after: new Map(),
      scanned: new Map(),
    });
    // Update: 2 x 2 KB on the table, 2 x 2 KB into `inc` (an entry of the keys and the 1.5 KB g);
    // `keys` unchanged.
    // ConditionCheck of a missing item: 2 x the minimum 1 KB.
    expect(m?.consumed).toEqual([
      {
        TableName: 't',
        CapacityUnits: 10,
        WriteCapacityUnits: 10,
        Table: { WriteCapacityUnits: 6, CapacityUnits: 6 },
        GlobalSecondaryIndexes: { inc: { WriteCapacityUnits: 4, CapacityUnits: 4 } },
      },
    ]);
  });

  it('reads a PartiQL SELECT of one key whole, and a partition as the Query it stands for', () => {
    const schemas = () => schema;
    const one = { Statement: `SELECT a FROM t WHERE pk = 'p' AND sk = 's'` };
    expect(
      readsAfter('ExecuteStatement', one, partiqlStatements('ExecuteStatement', one), schemas).items,
    ).toEqual([{ table: 't', key: { pk: { S: 'p' }, sk: { S: 's' } } }]);
    const part = { Statement: `SELECT a FROM t WHERE pk = 'p'`, ConsistentRead: true };
    expect(
      readsAfter('ExecuteStatement', part, partiqlStatements('ExecuteStatement', part), schemas).scans,
    ).toEqual([
      {
        statement: 0,
        op: 'Query',
        body: expect.objectContaining({
          KeyConditionExpression: '#pk = :pk',
          Select: 'COUNT',
          ConsistentRead: true,
        }),
      },
    ]);
  });
});

describe('throttle answers', () => {
  const t = { label: 'TableWriteKeyRangeThroughputExceeded', index: false, resource: 'arn:x' } as const;
  it('names the exception per mode and limit', () => {
    expect(
      throttleAnswer({ ...t, mode: 'provisioned', reason: 'KeyRangeThroughputExceeded' }).exception,
    ).toBe('ProvisionedThroughputExceededException');
    const od = throttleAnswer({ ...t, mode: 'on-demand', reason: 'KeyRangeThroughputExceeded' });
    expect(od.exception).toBe('ThrottlingException');
    expect(od.body.throttlingReasons).toEqual([{ reason: t.label, resource: 'arn:x' }]);
    expect(throttleAnswer({ ...t, mode: 'on-demand', reason: 'AccountLimitExceeded' }).exception).toBe(
      'RequestLimitExceeded',
    );
    const tx = cancelledTransaction(
      { ...t, mode: 'on-demand', reason: 'MaxOnDemandThroughputExceeded' },
      3,
      1,
    );
    expect(tx.body.CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ThrottlingError',
        Message: 'Throughput exceeds the maximum OnDemandThroughput configured on table or index',
      },
      { Code: 'None' },
    ]);
  });
});
