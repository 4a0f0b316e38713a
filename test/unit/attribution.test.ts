import { describe, expect, it } from 'vitest';
import {
  Attributor,
  automaticName,
  compileRule,
  OTHER_PATTERN,
  parseCall,
  parseKeyCondition,
  parseKeyTemplate,
  RuleSyntaxError,
  schemaFromDescription,
  type TableSchema,
  whyNeverMatches,
} from '../../local/index.js';

const orders: TableSchema = schemaFromDescription({
  TableName: 'orders',
  KeySchema: [
    { AttributeName: 'customerId', KeyType: 'HASH' },
    { AttributeName: 'orderedAt', KeyType: 'RANGE' },
  ],
  BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byProduct',
      KeySchema: [
        { AttributeName: 'productId', KeyType: 'HASH' },
        { AttributeName: 'orderedAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ],
  LocalSecondaryIndexes: [
    {
      IndexName: 'byStatus',
      KeySchema: [
        { AttributeName: 'customerId', KeyType: 'HASH' },
        { AttributeName: 'status', KeyType: 'RANGE' },
      ],
    },
  ],
});
const schemas = (t: string) => (t === 'orders' ? orders : undefined);

describe('reading DynamoDB calls', () => {
  it('learns keys, GSIs, LSIs and billing from DescribeTable', () => {
    expect(orders).toMatchObject({
      name: 'orders',
      partitionKey: 'customerId',
      sortKey: 'orderedAt',
      billing: { mode: 'on-demand' },
    });
    expect(orders.indexes.map((i) => `${i.kind}:${i.name}`)).toEqual(['GSI:byProduct', 'LSI:byStatus']);
    const provisioned = schemaFromDescription({
      TableName: 't',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 },
    });
    expect(provisioned.billing).toEqual({ mode: 'provisioned', read: 7, write: 3 });
  });

  it('parses key conditions with names, values, BETWEEN and begins_with', () => {
    expect(
      parseKeyCondition(
        '#c = :c AND #t BETWEEN :a AND :b',
        { '#c': 'customerId', '#t': 'orderedAt' },
        { ':c': { S: 'C1' }, ':a': { N: '1' }, ':b': { N: '9' } },
      ),
    ).toEqual([
      { attr: 'customerId', op: '=', values: [{ S: 'C1' }] },
      { attr: 'orderedAt', op: 'BETWEEN', values: [{ N: '1' }, { N: '9' }] },
    ]);
    expect(
      parseKeyCondition('PK = :p AND begins_with(SK, :s)', {}, { ':p': { S: 'U' }, ':s': { S: 'O#' } }),
    ).toEqual([
      { attr: 'PK', op: '=', values: [{ S: 'U' }] },
      { attr: 'SK', op: 'begins_with', values: [{ S: 'O#' }] },
    ]);
  });

  it('finds the partitions a call touches: the table, every GSI for a write, the table for an LSI query', () => {
    const put = parseCall(
      'PutItem',
      { TableName: 'orders', Item: { customerId: { S: 'C1' }, orderedAt: { N: '5' } } },
      schemas,
    );
    expect(put.kind).toBe('Write');
    expect(put.accesses).toEqual([
      { table: 'orders', target: 'table', kind: 'Write', pk: 'C1' },
      { table: 'orders', target: 'byProduct', kind: 'Write', pk: undefined },
    ]);
    const lsi = parseCall(
      'Query',
      {
        TableName: 'orders',
        IndexName: 'byStatus',
        KeyConditionExpression: 'customerId = :c AND #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':c': { S: 'C1' }, ':s': { S: 'OPEN' } },
      },
      schemas,
    );
    expect(lsi.accesses).toEqual([{ table: 'orders', target: 'table', kind: 'Read', pk: 'C1' }]);
    expect(lsi.shapes[0]).toMatchObject({ table: 'orders', index: 'byStatus' });
    const batch = parseCall(
      'BatchGetItem',
      {
        RequestItems: {
          orders: { Keys: [{ customerId: { S: 'A' }, orderedAt: { N: '1' } }] },
          customers: { Keys: [{ customerId: { S: 'A' } }] },
        },
      },
      schemas,
    );
    expect(batch.tables.sort()).toEqual(['customers', 'orders']);
    // A table the gate has not learned gives no partition key (and no automatic key clauses).
    expect(batch.accesses.find((a) => a.table === 'customers')?.pk).toBeUndefined();
    expect(parseCall('DescribeTable', { TableName: 'orders' }, schemas).kind).toBeUndefined();
  });
});

describe('naming access patterns', () => {
  const get = parseCall(
    'GetItem',
    { TableName: 'orders', Key: { customerId: { S: 'USER#ada' }, orderedAt: { N: '17' } } },
    schemas,
  );
  const query = parseCall(
    'Query',
    {
      TableName: 'orders',
      KeyConditionExpression: 'customerId = :c AND orderedAt BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':c': { S: 'C9' }, ':a': { N: '1' }, ':b': { N: '2' } },
    },
    schemas,
  );

  it('names a call by its shape with the values taken out, keeping an entity prefix', () => {
    expect(automaticName('GetItem', get.shapes)).toBe('GetItem orders customerId = USER#? AND orderedAt = ?');
    expect(automaticName('Query', query.shapes)).toBe(
      'Query orders customerId = ? AND orderedAt BETWEEN ? AND ?',
    );
    expect(
      automaticName(
        'Scan',
        parseCall('Scan', { TableName: 'orders', IndexName: 'byProduct' }, schemas).shapes,
      ),
    ).toBe('Scan orders.byProduct');
    expect(automaticName('ExecuteStatement', [])).toBe('ExecuteStatement');
  });

  it('takes a tag first, then the most specific matching rule, then the automatic name', () => {
    const a = new Attributor([
      { id: 'ordersOfCustomer', table: 'orders', operations: ['Query'], key: 'customerId = {id}' },
      {
        id: 'ordersInRange',
        table: 'orders',
        operations: ['Query'],
        key: 'customerId = {id} AND orderedAt BETWEEN {a} AND {b}',
      },
      { id: 'userOrder', table: 'orders', operations: ['GetItem'], key: 'customerId = USER#{name}' },
    ]);
    expect(a.attribute('Query', query.shapes, 'mine')).toEqual({ id: 'mine', source: 'tag' });
    expect(a.attribute('Query', query.shapes, undefined)).toEqual({ id: 'ordersInRange', source: 'rule' });
    expect(a.attribute('GetItem', get.shapes, undefined)).toEqual({ id: 'userOrder', source: 'rule' });
    const other = parseCall(
      'GetItem',
      { TableName: 'orders', Key: { customerId: { S: 'ADMIN#x' }, orderedAt: { N: '1' } } },
      schemas,
    );
    expect(a.attribute('GetItem', other.shapes, undefined)).toEqual({
      id: 'GetItem orders customerId = ADMIN#? AND orderedAt = ?',
      source: 'auto',
    });
    expect(a.ids).toEqual(['ordersOfCustomer', 'ordersInRange', 'userOrder']);
  });

  it('matches begins_with templates against exact keys and prefixes, and index and table constraints', () => {
    const rule = compileRule({ id: 'r', key: 'begins_with(orderedAt, 1)' });
    const a = new Attributor([rule.rule]);
    expect(a.attribute('GetItem', get.shapes, undefined).id).toBe('r');
    const onIndex = new Attributor([{ id: 'byProduct', index: 'byProduct' }]);
    const q = parseCall(
      'Query',
      {
        TableName: 'orders',
        IndexName: 'byProduct',
        KeyConditionExpression: 'productId = :p',
        ExpressionAttributeValues: { ':p': { S: 'P' } },
      },
      schemas,
    );
    expect(onIndex.attribute('Query', q.shapes, undefined).id).toBe('byProduct');
    expect(onIndex.attribute('Query', query.shapes, undefined).source).toBe('auto');
    const otherTable = new Attributor([{ id: 'x', table: 'customers' }]);
    expect(otherTable.attribute('Query', query.shapes, undefined).source).toBe('auto');
  });

  it('refuses a key template it cannot read, naming the clause', () => {
    expect(() => parseKeyTemplate('customerId ~ 3')).toThrow(RuleSyntaxError);
    expect(() => parseKeyTemplate('customerId ~ 3')).toThrow(/"customerId ~ 3" is not a key clause/);
    expect(parseKeyTemplate('a = {x} AND b BETWEEN 1 AND {y}').map((c) => c.op)).toEqual(['=', 'BETWEEN']);
  });

  it('keeps the number of automatic and tagged names bounded', () => {
    const a = new Attributor([], 3);
    const names = Array.from({ length: 5 }, (_, i) => a.attribute('GetItem', [], `tag-${i}`).id);
    expect(names).toEqual(['tag-0', 'tag-1', 'tag-2', OTHER_PATTERN, OTHER_PATTERN]);
    expect(a.attribute('GetItem', [], 'tag-1').id).toBe('tag-1');
  });
});

describe('rules that can match no call', () => {
  const key = { partitionKey: 'PK', sortKey: 'SK' };
  it('are told apart from rules some listed operation can match, judged on the shapes parseCall gives', () => {
    // One operation that can match is enough: Query reads the index, GetItem cannot.
    expect(whyNeverMatches({ operations: ['GetItem', 'Query'], index: 'GSI1' }, [], key)).toBeUndefined();
    expect(whyNeverMatches({ index: 'GSI1' }, parseKeyTemplate('GSI1PK = {x}'), key)).toBeUndefined();
    expect(
      whyNeverMatches({ operations: ['PutItem'] }, parseKeyTemplate('begins_with(SK, ORDER#)'), key),
    ).toBeUndefined();
    expect(
      whyNeverMatches({ operations: ['Query'] }, parseKeyTemplate('SK BETWEEN {a} AND {b}'), key),
    ).toBeUndefined();
    expect(whyNeverMatches({ operations: ['GetItem'] }, parseKeyTemplate('GSI1PK = {x}'), key)).toBe(
      "GetItem names its item by the table's key (PK, SK), never by GSI1PK",
    );
    expect(whyNeverMatches({ operations: ['ExecuteStatement'] }, parseKeyTemplate('SK < {x}'), key)).toBe(
      'a PartiQL statement is matched on its = conditions only, never <',
    );
    // The call each verdict stands on: what parseCall makes of a GetItem.
    const call = parseCall(
      'GetItem',
      { TableName: 'orders', Key: { customerId: { S: 'c1' }, orderedAt: { S: '2026' } } },
      schemas,
    );
    expect(call.shapes.map((sh) => sh.index)).toEqual([undefined]);
    expect(call.shapes[0]?.clauses.map((c) => `${c.attr} ${c.op}`)).toEqual(['customerId =', 'orderedAt =']);
  });
});
