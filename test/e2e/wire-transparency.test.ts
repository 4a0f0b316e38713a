import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityGate, type DynamoDBLocal, startDynamoDBLocal } from '../../local/index.js';
import { ROOT } from '../helpers/cli.js';
import { PYTHON, requireBoto3 } from '../helpers/python.js';

/**
 * The gate is transparent to a client nobody here wrote: the same sequence of 50-odd calls made by
 * botocore (Debian's python3-boto3) straight to DynamoDB Local and through the gate (item, batch,
 * transaction, PartiQL and table operations, valid and invalid) gets the same answers, byte for
 * byte and header for header, except the capacity figures the gate corrects, and those are listed
 * here with the rule that corrects them.
 */
const run = promisify(execFile);
const SCRIPT = join(ROOT, 'test/fixtures/python/wire_sequence.py');

interface Recorded {
  name: string;
  op: string;
  error: string | null;
  status: number;
  headers: Record<string, string>;
  body: string;
}

let ddb: DynamoDBLocal;
let gate: CapacityGate;
let direct: Recorded[];
let gated: Recorded[];

async function sequence(endpoint: string): Promise<Recorded[]> {
  const { stdout } = await run(PYTHON, [SCRIPT, endpoint, 'wire'], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as Recorded[];
}

beforeAll(async () => {
  requireBoto3();
  ddb = await startDynamoDBLocal();
  gate = new CapacityGate({ upstream: ddb.endpoint });
  const endpoint = await gate.listen();
  // The sequence creates its table and deletes it at the end: the second run starts where the first did.
  direct = await sequence(ddb.endpoint);
  gated = await sequence(endpoint);
}, 120_000);

afterAll(async () => {
  await gate?.close();
  await ddb?.stop();
});

/** A table's times (creation, billing mode set) are all that differ between the two runs' table answers. */
const timeless = (body: string) => body.replace(/"(\w*DateTime)":[0-9.E]+/g, '"$1":0');

/** The answer's bytes with the ConsumedCapacity member taken out (balanced brackets, strings skipped). */
function withoutCapacity(body: string): { rest: string; capacity: string | undefined } {
  const at = body.indexOf('"ConsumedCapacity":');
  if (at < 0) return { rest: body, capacity: undefined };
  let i = at + '"ConsumedCapacity":'.length;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < body.length; i += 1) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) break;
    }
  }
  const capacity = body.slice(start, i + 1);
  let rest = body.slice(0, at) + body.slice(i + 1);
  rest = rest.replace(',,', ',').replace('{,', '{').replace(',}', '}');
  return { rest, capacity };
}

/**
 * Where the gate's figure differs from DynamoDB Local's, and why (the capacity-rules test has the
 * rule for each): a query that found nothing, a missing key of a strongly consistent BatchGetItem,
 * a transaction of three small Puts, and PartiQL, which DynamoDB Local answers without a figure.
 */
const CORRECTED: Record<string, string> = {
  'query nothing with total capacity': '{"TableName":"wire","CapacityUnits":0.5}',
  'batch get with total capacity': '[{"TableName":"wire","CapacityUnits":2.0}]',
  'transaction with total capacity': '[{"TableName":"wire","CapacityUnits":6.0,"WriteCapacityUnits":6.0}]',
  'PartiQL select of a partition with total capacity': '{"TableName":"wire","CapacityUnits":0.5}',
  'PartiQL transaction': '[{"TableName":"wire","CapacityUnits":4.0,"WriteCapacityUnits":4.0}]',
};

describe('the capacity gate on the wire (botocore, direct vs through the gate)', () => {
  it('runs the whole sequence both ways: 50-odd calls of every kind, valid and invalid', () => {
    expect(direct.length).toBeGreaterThanOrEqual(40);
    expect(gated.map((r) => r.name)).toEqual(direct.map((r) => r.name));
    const ops = new Set(direct.map((r) => r.op));
    for (const op of [
      'put_item',
      'get_item',
      'update_item',
      'delete_item',
      'query',
      'scan',
      'batch_write_item',
      'batch_get_item',
      'transact_write_items',
      'transact_get_items',
      'execute_statement',
      'batch_execute_statement',
      'execute_transaction',
      'create_table',
      'describe_table',
      'delete_table',
      'list_tables',
    ])
      expect(ops, op).toContain(op);
    // Invalid calls too: each of these errors came back both ways.
    expect(direct.filter((r) => r.error).map((r) => r.error)).toEqual(
      expect.arrayContaining([
        'ResourceInUseException',
        'ConditionalCheckFailedException',
        'ValidationException',
        'ResourceNotFoundException',
        'TransactionCanceledException',
        'DuplicateItem',
      ]),
    );
  });

  it('answers every call with the same status, the same headers and the same bytes', () => {
    for (const [i, d] of direct.entries()) {
      const g = gated[i] as Recorded;
      expect(g.status, d.name).toBe(d.status);
      expect(g.error, d.name).toBe(d.error);
      // Same header names; the request id and date are per answer, the checksum and length per body.
      expect(Object.keys(g.headers).sort(), d.name).toEqual(Object.keys(d.headers).sort());
      expect(g.headers['x-amzn-requestid'], d.name).toMatch(/^[0-9a-f-]{36}$/);
      for (const r of [d, g])
        if (r.headers['x-amz-crc32'] !== undefined)
          expect(r.headers['x-amz-crc32'], `${r.name}: checksum`).toBe(String(crc32(Buffer.from(r.body))));
      for (const h of ['content-type', 'server']) expect(g.headers[h], `${d.name}: ${h}`).toBe(d.headers[h]);
      const a = withoutCapacity(timeless(d.body));
      const b = withoutCapacity(timeless(g.body));
      expect(b.rest, d.name).toBe(a.rest);
      const corrected = CORRECTED[d.name];
      if (corrected !== undefined) expect(b.capacity, d.name).toBe(corrected);
      else expect(b.capacity, d.name).toBe(a.capacity);
    }
  });

  it('keeps numbers as DynamoDB Local wrote them (no JSON re-serialising: 2.0 stays 2.0)', () => {
    const get = gated.find((r) => r.name === 'get an item');
    expect(get?.body).toContain('"N":"-0.10"');
    expect(get?.body).toBe(direct.find((r) => r.name === 'get an item')?.body);
    // The gate asked for INDEXES and gave back TOTAL, written the way DynamoDB writes a double.
    const total = gated.find((r) => r.name === 'put with total capacity');
    expect(total?.body).toMatch(/^\{"ConsumedCapacity":\{"TableName":"wire","CapacityUnits":\d+\.0\}\}$/);
    expect(total?.body).toBe(direct.find((r) => r.name === 'put with total capacity')?.body);
  });
});
