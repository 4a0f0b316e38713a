import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  type DynamoDBLocal,
  DynamoDBLocalFailed,
  prepareDynamoDBLocal,
  startDynamoDBLocal,
} from '../../local/index.js';
import { alive, waitUntil } from '../helpers/cli.js';

/**
 * DynamoDB Local's class-data archive (AppCDS, local/dynamodb-local.ts): trained once in the
 * background, then every start maps its classes from it. What could go wrong is a start that uses a
 * half-written or mismatched archive, or an emulator that then answers differently: both checked.
 */
const clientOf = (ddb: DynamoDBLocal) =>
  new DynamoDBClient({
    endpoint: ddb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });

/**
 * Runs `body` with DynamoDB Local's cache folder new and empty: no launcher compiled, no archive
 * trained (npm install's build prepares both in the usual one, so a test of what happens without them
 * needs its own).
 */
async function withEmptyCache<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const saved = process.env.LOADTEST_CACHE_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'ddb-cache-'));
  process.env.LOADTEST_CACHE_DIR = dir;
  try {
    return await body(dir);
  } finally {
    if (saved === undefined) delete process.env.LOADTEST_CACHE_DIR;
    else process.env.LOADTEST_CACHE_DIR = saved;
  }
}

describe('DynamoDB Local from its class-data archive', () => {
  it('is prepared ahead (as npm install does), so the first start already maps its classes', async () => {
    await withEmptyCache(async (dir) => {
      const prepared = await prepareDynamoDBLocal();
      expect(prepared.problem).toBeUndefined();
      expect(prepared.archive?.startsWith(dir)).toBe(true);
      expect(existsSync(prepared.archive as string)).toBe(true);
      // Done once: a second call finds both made.
      const started = performance.now();
      expect(await prepareDynamoDBLocal()).toEqual(prepared);
      expect(performance.now() - started).toBeLessThan(2000);
      const ddb = await startDynamoDBLocal({});
      const client = clientOf(ddb);
      try {
        expect(ddb.classDataArchive).toBe(prepared.archive);
        expect((await client.send(new ListTablesCommand({}))).TableNames).toBeDefined();
      } finally {
        client.destroy();
        await ddb.stop();
      }
    });
  }, 120_000);

  it(
    'trains the archive in the background once, then starts from it and serves calls as before',
    () =>
      withEmptyCache(async () => {
        let first: DynamoDBLocal | undefined = await startDynamoDBLocal({});
        expect(first.classDataArchive, 'nothing was trained in this cache folder yet').toBeUndefined();
        const archive = first.classDataTraining;
        expect(archive, 'the loopback launcher compiled, so there is an archive to train').toBeDefined();
        await first.stop();
        first = undefined;
        // ~7 s of training on a quiet machine; the archive appears only once it is whole (renamed into place).
        expect(await waitUntil(() => existsSync(archive as string), 90_000)).toBe(true);

        const ddb = await startDynamoDBLocal({});
        const client = clientOf(ddb);
        try {
          expect(ddb.classDataArchive).toBe(archive);
          await client.send(
            new CreateTableCommand({
              TableName: 'cds',
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [
                { AttributeName: 'PK', AttributeType: 'S' },
                { AttributeName: 'SK', AttributeType: 'S' },
              ],
              KeySchema: [
                { AttributeName: 'PK', KeyType: 'HASH' },
                { AttributeName: 'SK', KeyType: 'RANGE' },
              ],
            }),
          );
          for (const sk of ['a', 'b', 'c'])
            await client.send(
              new PutItemCommand({
                TableName: 'cds',
                Item: { PK: { S: 'p' }, SK: { S: sk }, n: { N: '1' } },
              }),
            );
          const got = await client.send(
            new GetItemCommand({
              TableName: 'cds',
              Key: { PK: { S: 'p' }, SK: { S: 'b' } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          expect(got.Item?.n).toEqual({ N: '1' });
          expect(got.ConsumedCapacity?.CapacityUnits).toBe(0.5);
          const q = await client.send(
            new QueryCommand({
              TableName: 'cds',
              KeyConditionExpression: 'PK = :p AND SK > :s',
              ExpressionAttributeValues: { ':p': { S: 'p' }, ':s': { S: 'a' } },
            }),
          );
          expect(q.Items?.map((i) => i.SK?.S)).toEqual(['b', 'c']);
        } finally {
          client.destroy();
          await ddb.stop();
        }
        expect(alive(ddb.pid)).toBe(false);
      }),
    150_000,
  );

  it('loads its SQLite library from the copy made once, not a new copy in the temp folder, and sends no telemetry', async () => {
    const ddb = await startDynamoDBLocal({});
    const client = clientOf(ddb);
    try {
      // A call, so whatever DynamoDB Local loads lazily is loaded.
      expect((await client.send(new ListTablesCommand({}))).TableNames).toBeDefined();
      // What the JVM mapped: DynamoDB Local's own loader would map /tmp/sqlite-<version>-<uuid>-libsqlite4java.so.
      const mapped = new Set(
        readFileSync(`/proc/${ddb.pid}/maps`, 'utf8')
          .split('\n')
          .map((l) => l.slice(l.indexOf('/')))
          .filter((p) => p.includes('sqlite4java')),
      );
      expect([...mapped]).toHaveLength(1);
      expect([...mapped][0]).toMatch(/[\\/]launcher-[0-9a-f]+[\\/]native[\\/]libsqlite4java\.so$/);
      const args = readFileSync(`/proc/${ddb.pid}/cmdline`, 'utf8').split('\0');
      expect(args).toContain('-disableTelemetry');
    } finally {
      client.destroy();
      await ddb.stop();
    }
  }, 60_000);

  it('gives up on a port another process holds at once, and never takes that process for DynamoDB Local', async () => {
    // An HTTP server on the port: it answers, as DynamoDB Local would, so only the launcher's own
    // word that it listens tells the two apart.
    const squatter = createServer((_req, res) => res.end('not DynamoDB'));
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const { port } = squatter.address() as AddressInfo;
    const started = Date.now();
    try {
      const err = await startDynamoDBLocal({ port }).then(
        (d) => d.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DynamoDBLocalFailed);
      expect((err as Error).message).toMatch(new RegExp(`port ${port} was taken`));
      // Not the 30 s start time-out: the launcher exits as soon as its bind fails.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      squatter.close();
    }
  }, 30_000);
});
