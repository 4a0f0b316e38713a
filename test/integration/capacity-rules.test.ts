import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityGate, type DynamoDBLocal, startDynamoDBLocal } from '../../local/index.js';
import { wireCall } from '../helpers/wire.js';

/**
 * The gate's capacity figures against DynamoDB's documented rules, case by case, through the gate in
 * front of a real DynamoDB Local. Each case names the Developer Guide (DG) or API reference section
 * its figure comes from; the expected units are worked out from that text, never from the gate.
 * Both what the client is told (ConsumedCapacity, asked with INDEXES) and what the gate charged
 * (its snapshot: units per table and GSI; an LSI's units are the table's) must equal it.
 *
 * Items here hold only string attributes, so their sizes follow the DG's "DynamoDB item sizes and
 * formats" string rule by hand: the UTF-8 bytes of every attribute name plus those of its value.
 */
type Json = Record<string, unknown>;
type Call = readonly [op: string, body: Json];

interface Case {
  readonly name: string;
  readonly doc: string;
  readonly setup?: readonly Call[];
  readonly call: Call;
  /** Units by target: 'table', a GSI's name, or `lsi:<name>` (charged to the table). */
  readonly read?: Readonly<Record<string, number>>;
  readonly write?: Readonly<Record<string, number>>;
  /** The error DynamoDB answers (then no ConsumedCapacity comes back; the gate still charges). */
  readonly fails?: string;
}

const T = 'rules';
const SCANNED = 'rules-scanned';
const EMPTY = 'rules-empty';

/** An item of string attributes whose size is exactly `bytes`: a filler attribute `d` makes up the rest. */
function item(pk: string, sk: string, bytes: number, extra: Record<string, string> = {}): Json {
  const attrs: Record<string, string> = { pk, sk, ...extra };
  const used = Object.entries(attrs).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  const filler = bytes - used - 1;
  if (filler < 0) throw new Error(`item ${pk}/${sk}: ${bytes} B is smaller than its attributes`);
  const out: Json = {};
  for (const [k, v] of Object.entries({ ...attrs, d: 'x'.repeat(filler) })) out[k] = { S: v };
  return out;
}
const key = (pk: string, sk = 's') => ({ pk: { S: pk }, sk: { S: sk } });
const put = (it: Json, table = T): Call => ['PutItem', { TableName: table, Item: it }];

const RW = 'DG "DynamoDB read and write operations"';
const READS = `${RW}, "Capacity unit consumption for read operations"`;
const WRITES = `${RW}, "Capacity unit consumption for write operations"`;
const TX = 'DG "Amazon DynamoDB Transactions: How it works", "Capacity management for transactions"';
const GSI_W =
  'DG "Using Global Secondary Indexes", "Provisioned throughput considerations", "Write capacity units"';
const LSI_T = 'DG "Local secondary indexes", "Provisioned throughput considerations"';
const PARTIQL = 'DG "PartiQL", the statement charged as the item operation it stands for';

const CASES: Case[] = [
  // Item size boundaries: writes in 1 KB units, reads in 4 KB units.
  {
    name: 'PutItem of a 1,024 B item',
    doc: `${WRITES}: 1 KB units`,
    call: put(item('w1', 's', 1024)),
    write: { table: 1 },
  },
  {
    name: 'PutItem of a 1,025 B item',
    doc: `${WRITES}: rounded up to the next 1 KB`,
    call: put(item('w2', 's', 1025)),
    write: { table: 2 },
  },
  {
    name: 'PutItem of 500 B over a 2,500 B item',
    doc: `${WRITES}, PutItem: "the item size that matters is the larger of the two"`,
    setup: [put(item('w3', 's', 2500))],
    call: put(item('w3', 's', 500)),
    write: { table: 3 },
  },
  {
    name: 'UpdateItem adding 3,000 B to a 500 B item',
    doc: `${WRITES}, UpdateItem: the larger of before and after`,
    setup: [put(item('w4', 's', 500))],
    call: [
      'UpdateItem',
      {
        TableName: T,
        Key: key('w4'),
        UpdateExpression: 'SET e = :e',
        ExpressionAttributeValues: { ':e': { S: 'y'.repeat(2999) } },
      },
    ],
    write: { table: 4 },
  },
  {
    name: 'UpdateItem shrinking a 3,500 B item to 500 B',
    doc: `${WRITES}, UpdateItem: the larger of before and after`,
    setup: [put(item('w5', 's', 3500, { e: 'y'.repeat(2999) }))],
    call: ['UpdateItem', { TableName: T, Key: key('w5'), UpdateExpression: 'REMOVE e' }],
    write: { table: 4 },
  },
  {
    name: 'DeleteItem of a 2,100 B item',
    doc: `${WRITES}, DeleteItem: "based on the size of the deleted item"`,
    setup: [put(item('w6', 's', 2100))],
    call: ['DeleteItem', { TableName: T, Key: key('w6') }],
    write: { table: 3 },
  },
  {
    name: 'DeleteItem of an item that is not there',
    doc: 'API reference, BatchWriteItem: "Delete operations on nonexistent items consume one write capacity unit"',
    call: ['DeleteItem', { TableName: T, Key: key('nobody') }],
    write: { table: 1 },
  },
  {
    name: 'GetItem, strongly consistent, of a 4,096 B item',
    doc: `${READS}: 4 KB units, one unit strongly consistent`,
    setup: [put(item('r1', 's', 4096))],
    call: ['GetItem', { TableName: T, Key: key('r1'), ConsistentRead: true }],
    read: { table: 1 },
  },
  {
    name: 'GetItem, strongly consistent, of a 4,097 B item',
    doc: `${READS}: "rounded up to the next 4 KB multiple"`,
    setup: [put(item('r2', 's', 4097))],
    call: ['GetItem', { TableName: T, Key: key('r2'), ConsistentRead: true }],
    read: { table: 2 },
  },
  {
    name: 'GetItem, eventually consistent, of a 4,097 B item',
    doc: `${READS}: "For an eventually consistent read ... divide this number by two"`,
    setup: [put(item('r3', 's', 4097))],
    call: ['GetItem', { TableName: T, Key: key('r3') }],
    read: { table: 1 },
  },
  {
    name: 'GetItem of one attribute of a 4,097 B item',
    doc: `${READS}: a projection "has no impact on the item size calculations"`,
    setup: [put(item('r4', 's', 4097))],
    call: ['GetItem', { TableName: T, Key: key('r4'), ConsistentRead: true, ProjectionExpression: 'pk' }],
    read: { table: 2 },
  },
  {
    name: 'GetItem, strongly consistent, of an item that is not there',
    doc: `${READS}: a read of an item that doesn't exist still consumes read throughput (one unit strong)`,
    call: ['GetItem', { TableName: T, Key: key('none'), ConsistentRead: true }],
    read: { table: 1 },
  },
  {
    name: 'GetItem, eventually consistent, of an item that is not there',
    doc: `${READS}: the same, half a unit eventually consistent`,
    call: ['GetItem', { TableName: T, Key: key('none') }],
    read: { table: 0.5 },
  },
  {
    name: 'Query of three 1,500 B items, strongly consistent',
    doc: `${READS}, Query: the sizes summed (4,500 B), then rounded up to 8 KB`,
    setup: ['1', '2', '3'].map((s) => put(item('q1', s, 1500))),
    call: [
      'Query',
      {
        TableName: T,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'q1' } },
        ConsistentRead: true,
      },
    ],
    read: { table: 2 },
  },
  {
    name: 'Query of three 1,500 B items, eventually consistent',
    doc: `${READS}, Query: 8 KB, halved`,
    setup: ['1', '2', '3'].map((s) => put(item('q2', s, 1500))),
    call: [
      'Query',
      { TableName: T, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'q2' } } },
    ],
    read: { table: 1 },
  },
  {
    name: 'Query whose filter keeps none of three 1,500 B items',
    doc: 'DG "Other aspects of working with the Query operation", "Capacity units consumed by query": "the same whether or not you use a filter expression"',
    setup: ['1', '2', '3'].map((s) => put(item('q3', s, 1500))),
    call: [
      'Query',
      {
        TableName: T,
        KeyConditionExpression: 'pk = :p',
        FilterExpression: 'd = :none',
        ExpressionAttributeValues: { ':p': { S: 'q3' }, ':none': { S: 'zzz' } },
      },
    ],
    read: { table: 1 },
  },
  {
    name: 'Query that finds nothing, eventually consistent',
    doc: 'API reference, Query: "Queries that do not return results consume the minimum number of read capacity units for that type of read operation"',
    call: [
      'Query',
      {
        TableName: T,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'nothing' } },
      },
    ],
    read: { table: 0.5 },
  },
  {
    name: 'Query that finds nothing, strongly consistent',
    doc: 'API reference, Query: the minimum for a strongly consistent read, one unit',
    call: [
      'Query',
      {
        TableName: T,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'nothing' } },
        ConsistentRead: true,
      },
    ],
    read: { table: 1 },
  },
  {
    name: 'Scan of two 3,000 B items, strongly consistent',
    doc: `${READS}, Scan: "the size of the items that are evaluated"; 6,000 B -> 8 KB`,
    setup: [put(item('a', 's', 3000), SCANNED), put(item('b', 's', 3000), SCANNED)],
    call: ['Scan', { TableName: SCANNED, ConsistentRead: true }],
    read: { table: 2 },
  },
  {
    name: 'Scan with a filter that keeps nothing',
    doc: 'DG "Scanning tables", "Filter expressions for scan": "the same amount of read capacity, regardless of whether a filter expression is present"',
    call: [
      'Scan',
      { TableName: SCANNED, FilterExpression: 'pk = :x', ExpressionAttributeValues: { ':x': { S: 'none' } } },
    ],
    read: { table: 1 },
  },
  {
    name: 'Scan of an empty table',
    doc: 'DG "Scanning tables", "Capacity units consumed by scan": "Scan consumes a minimum read capacity unit"; eventually consistent: half',
    call: ['Scan', { TableName: EMPTY }],
    read: { table: 0.5 },
  },
  {
    name: 'BatchGetItem of a 1,500 B and a 6,500 B item, strongly consistent',
    doc: `${READS}, BatchGetItem: each item rounded first, 4 KB + 8 KB = 12 KB`,
    setup: [put(item('b1', 's', 1500)), put(item('b2', 's', 6500))],
    call: ['BatchGetItem', { RequestItems: { [T]: { Keys: [key('b1'), key('b2')], ConsistentRead: true } } }],
    read: { table: 3 },
  },
  {
    name: 'BatchGetItem of two missing keys and a small item',
    doc: 'API reference, BatchGetItem: "Requests for nonexistent items consume the minimum read capacity units according to the type of read"',
    setup: [put(item('b3', 's', 200))],
    call: ['BatchGetItem', { RequestItems: { [T]: { Keys: [key('b3'), key('gone1'), key('gone2')] } } }],
    read: { table: 1.5 },
  },
  {
    name: 'TransactGetItems of a 500 B and a 4,097 B item',
    doc: `${TX}: "Reading each item requires two RCUs"; 2 x 1 + 2 x 2`,
    setup: [put(item('t1', 's', 500)), put(item('t2', 's', 4097))],
    call: [
      'TransactGetItems',
      {
        TransactItems: [{ Get: { TableName: T, Key: key('t1') } }, { Get: { TableName: T, Key: key('t2') } }],
      },
    ],
    read: { table: 6 },
  },
  {
    name: 'TransactGetItems of an item that is not there',
    doc: `${TX} and ${READS}: a transactional read of nothing still costs the minimum, two units`,
    call: ['TransactGetItems', { TransactItems: [{ Get: { TableName: T, Key: key('none') } }] }],
    read: { table: 2 },
  },
  {
    name: 'TransactWriteItems with one 500 B Put',
    doc: `${TX}: two underlying writes of every item`,
    call: ['TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: item('x1', 's', 500) } }] }],
    write: { table: 2 },
  },
  {
    name: 'TransactWriteItems with three 500 B Puts',
    doc: `${TX}: "each transaction writes three 500-byte items ... you would need to provision six WCUs"`,
    call: [
      'TransactWriteItems',
      { TransactItems: ['1', '2', '3'].map((s) => ({ Put: { TableName: T, Item: item('x2', s, 500) } })) },
    ],
    write: { table: 6 },
  },
  {
    name: 'TransactWriteItems with three 3,000 B Puts',
    doc: `${TX} and ${WRITES}: 2 x 3 KB per item, three items`,
    call: [
      'TransactWriteItems',
      { TransactItems: ['1', '2', '3'].map((s) => ({ Put: { TableName: T, Item: item('x3', s, 3000) } })) },
    ],
    write: { table: 18 },
  },
  {
    name: 'TransactWriteItems updating a 500 B item to 3,500 B',
    doc: `${TX} and ${WRITES}, UpdateItem: 2 x the larger image (4 KB)`,
    setup: [put(item('x4', 's', 500))],
    call: [
      'TransactWriteItems',
      {
        TransactItems: [
          {
            Update: {
              TableName: T,
              Key: key('x4'),
              UpdateExpression: 'SET e = :e',
              ExpressionAttributeValues: { ':e': { S: 'y'.repeat(2999) } },
            },
          },
        ],
      },
    ],
    write: { table: 8 },
  },
  {
    name: 'TransactWriteItems with a ConditionCheck of a 1,500 B item and a 500 B Put',
    doc: `${TX}: the write actions, ConditionCheck among them, are two writes of each item (2 x 2 KB + 2 x 1 KB)`,
    setup: [put(item('x5', 's', 1500))],
    call: [
      'TransactWriteItems',
      {
        TransactItems: [
          { ConditionCheck: { TableName: T, Key: key('x5'), ConditionExpression: 'attribute_exists(pk)' } },
          { Put: { TableName: T, Item: item('x6', 's', 500) } },
        ],
      },
    ],
    write: { table: 6 },
  },
  {
    name: 'TransactWriteItems cancelled by its condition (a 500 B Put over a 2,100 B item)',
    doc: `${TX}: "This capacity is consumed even when a transaction does not succeed"; 2 x 3 KB`,
    setup: [put(item('x7', 's', 2100))],
    call: [
      'TransactWriteItems',
      {
        TransactItems: [
          {
            Put: {
              TableName: T,
              Item: item('x7', 's', 500),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      },
    ],
    write: { table: 6 },
    fails: 'TransactionCanceledException',
  },
  {
    name: 'TransactWriteItems cancelled: a Put that would add a 1,500 B item to an ALL GSI',
    doc: `${TX} for the table (2 x 2 KB); a cancelled transaction changed no item, so no index entry (as ${WRITES}: a failed condition charges the table)`,
    setup: [put(item('x8', 's', 1500))],
    call: [
      'TransactWriteItems',
      {
        TransactItems: [
          {
            Put: {
              TableName: T,
              Item: item('x8', 's', 1500, { g: 'G1' }),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      },
    ],
    write: { table: 4 },
    fails: 'TransactionCanceledException',
  },
  {
    name: 'PartiQL transaction cancelled: an INSERT of a 1,500 B item into an ALL GSI over an existing key',
    doc: `${PARTIQL} and ${TX}: the table's two writes (2 x 2 KB), no index entry`,
    setup: [put(item('x9', 's', 1500))],
    call: [
      'ExecuteTransaction',
      {
        TransactStatements: [
          {
            Statement: `INSERT INTO "${T}" VALUE {'pk': 'x9', 'sk': 's', 'g': 'G1', 'd': '${'x'.repeat(1400)}'}`,
          },
        ],
      },
    ],
    write: { table: 4 },
    fails: 'TransactionCanceledException',
  },
  {
    name: 'PutItem of a new 1,500 B item into an ALL GSI',
    doc: `${GSI_W}: "one write operation is required to put the item into the index"`,
    call: put(item('g1', 's', 1500, { g: 'G1' })),
    write: { table: 2, gAll: 2 },
  },
  {
    name: 'PutItem changing an ALL GSI key of a 1,500 B item',
    doc: `${GSI_W}: "two writes are required, one to delete the previous item from the index and another write to put the new item"`,
    setup: [put(item('g2', 's', 1500, { g: 'G1' }))],
    call: put(item('g2', 's', 1500, { g: 'G2' })),
    write: { table: 2, gAll: 4 },
  },
  {
    name: 'UpdateItem removing the ALL GSI key of a 1,500 B item',
    doc: `${GSI_W}: "one write is required to delete the old item projection from the index"`,
    setup: [put(item('g3', 's', 1500, { g: 'G1' }))],
    call: ['UpdateItem', { TableName: T, Key: key('g3'), UpdateExpression: 'REMOVE g' }],
    write: { table: 2, gAll: 2 },
  },
  {
    name: 'PutItem of a 1,500 B item into a KEYS_ONLY GSI',
    doc: `${GSI_W}, and "Attribute projections": a KEYS_ONLY entry holds the table and index keys only (under 1 KB)`,
    call: put(item('k1', 's', 1500, { h: 'H1' })),
    write: { table: 2, gKeys: 1 },
  },
  {
    name: 'PutItem changing only an attribute a KEYS_ONLY GSI does not project',
    doc: `${GSI_W}: an update of attributes neither key nor projected leaves the entry unchanged: no index write`,
    setup: [put(item('k2', 's', 1500, { h: 'H1' }))],
    call: put(item('k2', 's', 1600, { h: 'H1' })),
    write: { table: 2 },
  },
  {
    name: 'PutItem of a 2,500 B item into an INCLUDE GSI projecting a 1,200 B attribute',
    doc: `${GSI_W}: "Larger index entries require additional write capacity units"; the entry (keys + inc) is over 1 KB`,
    call: put(item('i1', 's', 2500, { i: 'I1', inc: 'z'.repeat(1200) })),
    write: { table: 3, gInc: 2 },
  },
  {
    name: 'PutItem of a 1,500 B item into a KEYS_ONLY LSI',
    doc: `${LSI_T}, "Write capacity units": the index write is charged to the table`,
    call: put(item('l1', 's', 1500, { l: 'L1' })),
    write: { table: 2, 'lsi:lsi': 1 },
  },
  {
    name: 'Query of an ALL GSI holding two 1,500 B items',
    doc: 'DG "Using Global Secondary Indexes", "Read capacity units": the entries summed (3,000 B -> 4 KB), eventually consistent',
    setup: [put(item('gq1', 's', 1500, { g: 'GQ' })), put(item('gq2', 's', 1500, { g: 'GQ' }))],
    call: [
      'Query',
      {
        TableName: T,
        IndexName: 'gAll',
        KeyConditionExpression: 'g = :g',
        ExpressionAttributeValues: { ':g': { S: 'GQ' } },
      },
    ],
    read: { gAll: 0.5 },
  },
  {
    name: 'Query of a KEYS_ONLY LSI fetching every attribute of a 1,500 B item',
    doc: `${LSI_T}, "Read capacity units": the index entries, plus each table item fetched, rounded to 4 KB each`,
    setup: [put(item('lq', 's', 1500, { l: 'LQ' }))],
    call: [
      'Query',
      {
        TableName: T,
        IndexName: 'lsi',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'lq' } },
        Select: 'ALL_ATTRIBUTES',
      },
    ],
    read: { table: 0.5, 'lsi:lsi': 0.5 },
  },
  {
    name: 'PutItem whose condition fails: a 2,500 B item over a 300 B one',
    doc: `${WRITES}: "If the expression evaluates to false, DynamoDB still consumes write capacity units" (300 KB old, 310 KB new: 310)`,
    setup: [put(item('c1', 's', 300))],
    call: [
      'PutItem',
      { TableName: T, Item: item('c1', 's', 2500), ConditionExpression: 'attribute_not_exists(pk)' },
    ],
    write: { table: 3 },
    fails: 'ConditionalCheckFailedException',
  },
  {
    name: 'UpdateItem whose condition fails: SET 3,000 B on a 500 B item',
    doc: `${WRITES}: the failed write is charged at the item it would have written (3,500 B)`,
    setup: [put(item('c2', 's', 500))],
    call: [
      'UpdateItem',
      {
        TableName: T,
        Key: key('c2'),
        UpdateExpression: 'SET e = :e',
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeValues: { ':e': { S: 'y'.repeat(2999) } },
      },
    ],
    write: { table: 4 },
    fails: 'ConditionalCheckFailedException',
  },
  {
    name: 'DeleteItem whose condition fails on a 2,100 B item',
    doc: `${WRITES}: the failed write is charged at the item's size`,
    setup: [put(item('c3', 's', 2100))],
    call: ['DeleteItem', { TableName: T, Key: key('c3'), ConditionExpression: 'attribute_not_exists(pk)' }],
    write: { table: 3 },
    fails: 'ConditionalCheckFailedException',
  },
  {
    name: 'BatchWriteItem of a 500 B and a 3,500 B item',
    doc: `${WRITES}, BatchWriteItem: each item rounded first, 1 KB + 4 KB`,
    call: [
      'BatchWriteItem',
      {
        RequestItems: {
          [T]: [
            { PutRequest: { Item: item('bw1', 's', 500) } },
            { PutRequest: { Item: item('bw2', 's', 3500) } },
          ],
        },
      },
    ],
    write: { table: 5 },
  },
  {
    name: 'PartiQL SELECT of one key of a 4,097 B item',
    doc: `${PARTIQL}: a GetItem, eventually consistent (8 KB halved)`,
    setup: [put(item('p1', 's', 4097))],
    call: ['ExecuteStatement', { Statement: `SELECT * FROM "${T}" WHERE pk = 'p1' AND sk = 's'` }],
    read: { table: 1 },
  },
  {
    name: 'PartiQL SELECT of one attribute of a partition of three 1,500 B items',
    doc: `${PARTIQL}: a Query (4,500 B -> 8 KB), eventually consistent; projecting does not change it`,
    setup: ['1', '2', '3'].map((s) => put(item('p2', s, 1500))),
    call: [
      'ExecuteStatement',
      { Statement: `SELECT sk FROM "${T}" WHERE pk = ?`, Parameters: [{ S: 'p2' }] },
    ],
    read: { table: 1 },
  },
  {
    name: 'PartiQL INSERT of a 1,500 B item',
    doc: `${PARTIQL}: a PutItem of a new item`,
    call: [
      'ExecuteStatement',
      { Statement: `INSERT INTO "${T}" VALUE {'pk': 'p3', 'sk': 's', 'd': '${'x'.repeat(1500 - 7 - 1)}'}` },
    ],
    write: { table: 2 },
  },
  {
    name: 'PartiQL UPDATE adding 3,000 B to a 500 B item',
    doc: `${PARTIQL}: an UpdateItem, the larger image (3,500 B)`,
    setup: [put(item('p4', 's', 500))],
    call: [
      'ExecuteStatement',
      {
        Statement: `UPDATE "${T}" SET e = ? WHERE pk = 'p4' AND sk = 's'`,
        Parameters: [{ S: 'y'.repeat(2999) }],
      },
    ],
    write: { table: 4 },
  },
  {
    name: 'PartiQL DELETE of a 2,100 B item',
    doc: `${PARTIQL}: a DeleteItem`,
    setup: [put(item('p5', 's', 2100))],
    call: ['ExecuteStatement', { Statement: `DELETE FROM "${T}" WHERE pk = 'p5' AND sk = 's'` }],
    write: { table: 3 },
  },
  {
    name: 'PartiQL transaction of two 500 B INSERTs',
    doc: `${PARTIQL} and ${TX}: two transactional writes`,
    call: [
      'ExecuteTransaction',
      {
        TransactStatements: ['1', '2'].map((s) => ({
          Statement: `INSERT INTO "${T}" VALUE {'pk': 'p6', 'sk': '${s}', 'd': '${'x'.repeat(500 - 6 - 1)}'}`,
        })),
      },
    ],
    write: { table: 4 },
  },
  {
    name: 'PartiQL batch of two one-key SELECTs, one of them missing',
    doc: `${PARTIQL}: BatchExecuteStatement "makes use of BatchGetItem"; the missing key costs the minimum`,
    setup: [put(item('p7', 's', 500))],
    call: [
      'BatchExecuteStatement',
      {
        Statements: [
          { Statement: `SELECT * FROM "${T}" WHERE pk = 'p7' AND sk = 's'` },
          { Statement: `SELECT * FROM "${T}" WHERE pk = 'p8' AND sk = 's'` },
        ],
      },
    ],
    read: { table: 1 },
  },
];

let ddb: DynamoDBLocal;
let gate: CapacityGate;
let endpoint: string;

beforeAll(async () => {
  ddb = await startDynamoDBLocal();
  const S = (n: string) => ({ AttributeName: n, AttributeType: 'S' });
  const K = (n: string, t = 'HASH') => ({ AttributeName: n, KeyType: t });
  await wireCall(ddb.endpoint, 'CreateTable', {
    TableName: T,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: ['pk', 'sk', 'g', 'h', 'i', 'l'].map(S),
    KeySchema: [K('pk'), K('sk', 'RANGE')],
    GlobalSecondaryIndexes: [
      { IndexName: 'gAll', KeySchema: [K('g')], Projection: { ProjectionType: 'ALL' } },
      { IndexName: 'gKeys', KeySchema: [K('h')], Projection: { ProjectionType: 'KEYS_ONLY' } },
      {
        IndexName: 'gInc',
        KeySchema: [K('i')],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['inc'] },
      },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: 'lsi',
        KeySchema: [K('pk'), K('l', 'RANGE')],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  });
  for (const name of [SCANNED, EMPTY])
    await wireCall(ddb.endpoint, 'CreateTable', {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S('pk'), S('sk')],
      KeySchema: [K('pk'), K('sk', 'RANGE')],
    });
  gate = new CapacityGate({ upstream: ddb.endpoint, capacity: { mode: 'on-demand' } });
  endpoint = await gate.listen();
  await gate.learnAll();
});

afterAll(async () => {
  await gate?.close();
  await ddb?.stop();
});

/** Units per target from the gate's snapshot: `table` (with its LSIs) and each GSI. */
function charged(kind: 'read' | 'write'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of gate.snapshot().tables) {
    const units = kind === 'read' ? t.consumedRcu : t.consumedWcu;
    if (units > 0) out[`${t.table === T ? '' : `${t.table}:`}${t.index ?? 'table'}`] = units;
  }
  return out;
}

/** The expected units per target as the snapshot keeps them: an LSI's on its table. */
function asCharged(
  units: Readonly<Record<string, number>> | undefined,
  table: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [target, n] of Object.entries(units ?? {})) {
    const t = target.startsWith('lsi:') ? 'table' : target;
    const k = `${table === T ? '' : `${table}:`}${t}`;
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

/** What the client was told, per target, from an INDEXES-shaped ConsumedCapacity (or a list of them). */
function told(consumed: unknown): { total: number; targets: Record<string, number> } {
  let total = 0;
  const targets: Record<string, number> = {};
  for (const c of (Array.isArray(consumed) ? consumed : [consumed]) as Json[]) {
    total += (c.CapacityUnits as number) ?? 0;
    const add = (k: string, v: Json | undefined) => {
      const n = (v?.CapacityUnits as number | undefined) ?? 0;
      if (n > 0) targets[k] = (targets[k] ?? 0) + n;
    };
    add('table', c.Table as Json | undefined);
    for (const [name, v] of Object.entries((c.GlobalSecondaryIndexes as Record<string, Json>) ?? {}))
      add(name, v);
    for (const [name, v] of Object.entries((c.LocalSecondaryIndexes as Record<string, Json>) ?? {}))
      add(`lsi:${name}`, v);
  }
  return { total, targets };
}

describe('the gate charges what the DynamoDB Developer Guide says', () => {
  it('has at least 30 documented cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of CASES) {
    it(`${c.name} (${c.doc})`, async () => {
      for (const [op, body] of c.setup ?? []) {
        const r = await wireCall(ddb.endpoint, op, body);
        expect(r.status, `${op}: ${r.text}`).toBe(200);
      }
      await gate.settled();
      gate.reset();
      const [op, body] = c.call;
      // TransactGetItems takes TOTAL or NONE only (API reference); everything else is asked for INDEXES.
      const asked = op === 'TransactGetItems' ? 'TOTAL' : 'INDEXES';
      const r = await wireCall(endpoint, op, { ...body, ReturnConsumedCapacity: asked });
      await gate.settled();
      const table = op === 'Scan' ? String(body.TableName) : T;
      const expected = { ...(c.read ?? {}), ...(c.write ?? {}) };
      const sum = Object.values(expected).reduce((s, n) => s + n, 0);
      if (c.fails) {
        expect(r.status).toBe(400);
        expect(String(r.json.__type)).toContain(c.fails);
      } else {
        expect(r.status, r.text).toBe(200);
        const seen = told(r.json.ConsumedCapacity);
        expect(seen.total).toBe(sum);
        if (asked === 'INDEXES') expect(seen.targets).toEqual(expected);
      }
      expect(charged('read')).toEqual(asCharged(c.read, table));
      expect(charged('write')).toEqual(asCharged(c.write, table));
    });
  }
});
