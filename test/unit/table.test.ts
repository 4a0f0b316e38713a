import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../app/data/cursor.js';
import { capacityUses } from '../../app/data/instrument.js';
import { createTableInput, keyAttributes, keys, tableDefinition } from '../../app/index.js';
import { isThrottle } from '../../instrument/index.js';

describe('the table definition', () => {
  it('creates PK/SK and GSI1..GSI3 from the one key layout, price as a number', () => {
    const input = createTableInput('shop');
    expect(input.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['GSI1', 'GSI2', 'GSI3']);
    expect(input.AttributeDefinitions).toContainEqual({ AttributeName: 'GSI2SK', AttributeType: 'N' });
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
    expect(input.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    expect(keyAttributes().length).toBe(2 + 2 * tableDefinition.indexes.length);
  });

  it('sets provisioned capacity per table and per index', () => {
    const input = createTableInput('shop', {
      mode: 'provisioned',
      table: { read: 50, write: 20 },
      indexes: { GSI1: { read: 10, write: 5 } },
    });
    expect(input.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 50, WriteCapacityUnits: 20 });
    expect(input.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toEqual({
      ReadCapacityUnits: 10,
      WriteCapacityUnits: 5,
    });
    expect(input.GlobalSecondaryIndexes?.[1]?.ProvisionedThroughput).toEqual({
      ReadCapacityUnits: 50,
      WriteCapacityUnits: 20,
    });
  });

  it('spells entity keys as DESIGN.md says', () => {
    expect(keys.user('a@b.c')).toEqual({ PK: 'USER#a@b.c', SK: 'USER#a@b.c' });
    expect(keys.productIndexes({ id: '1', category: 'toys', price: 5, title: 'Big Drum' })).toEqual({
      GSI1PK: 'PRODUCT#toys',
      GSI1SK: 'PRODUCT#1',
      GSI2PK: 'PRODUCT#',
      GSI2SK: 5,
      GSI3PK: 'PRODUCT#',
      GSI3SK: 'PRODUCT#big drum',
    });
    expect(keys.orderIndex('a@b.c', 'o1', true)).toEqual({ GSI3PK: 'ORDER#a@b.c', GSI3SK: 'ORDER#CURRENT' });
    expect(keys.orderItem('o1', 'p1')).toEqual({ PK: 'ORDERITEMS#o1', SK: 'ORDERITEMS#p1' });
  });
});

describe('consumed capacity', () => {
  it('splits INDEXES capacity into table and GSIs, reads or writes by operation', () => {
    expect(
      capacityUses(
        {
          CapacityUnits: 0.5,
          Table: { CapacityUnits: 0 },
          GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 0.5 } },
        },
        true,
      ),
    ).toEqual([
      { target: 'table', rcu: 0, wcu: 0 },
      { target: 'GSI1', rcu: 0.5, wcu: 0 },
    ]);
    expect(
      capacityUses(
        { CapacityUnits: 16, WriteCapacityUnits: 16, Table: { WriteCapacityUnits: 4, CapacityUnits: 4 } },
        false,
      ),
    ).toEqual([{ target: 'table', rcu: 0, wcu: 4 }]);
    expect(capacityUses({ CapacityUnits: 1 }, false)).toEqual([{ target: 'table', rcu: 0, wcu: 1 }]);
  });

  it('recognises throttling errors, including inside a cancelled transaction', () => {
    const named = (name: string, extra: object = {}) => Object.assign(new Error('x'), { name, ...extra });
    expect(isThrottle(named('ProvisionedThroughputExceededException'))).toBe(true);
    expect(isThrottle(named('ThrottlingException'))).toBe(true);
    expect(
      isThrottle(
        named('TransactionCanceledException', {
          CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }],
        }),
      ),
    ).toBe(true);
    expect(
      isThrottle(
        named('TransactionCanceledException', { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }),
      ),
    ).toBe(false);
    expect(isThrottle(named('ConditionalCheckFailedException'))).toBe(false);
  });
});

describe('cursors', () => {
  it('round-trip a LastEvaluatedKey and refuse anything else', () => {
    const key = { PK: 'PRODUCT#1', SK: 'PRODUCT#1', GSI2PK: 'PRODUCT#', GSI2SK: 12.5 };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
    expect(() => decodeCursor('not base64 json')).toThrow(/cursor/);
    expect(() => decodeCursor(Buffer.from('{"foo":"x"}').toString('base64url'))).toThrow(/cursor/);
    expect(() => decodeCursor(Buffer.from('{"PK":{"S":"x"}}').toString('base64url'))).toThrow(/cursor/);
    expect(decodeCursor(undefined)).toBeUndefined();
  });
});
