// The shop's distributed-import Lambda: the toolkit's batch handler (runner/data) with the shop's
// mapping (app/data/import-map.ts) and table keys, the same pair `loadtest import` uses locally.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { shopImport } from '../../app/data/import-map.js';
import { tableDefinition } from '../../app/table.js';
import {
  type BatchHandlerDeps,
  importBatchHandler,
  keyLimits,
  type ObjectStore,
} from '../../runner/data/index.js';

const key = { partitionKey: tableDefinition.partitionKey.name, sortKey: tableDefinition.sortKey.name };

/** The dump bucket as the handler sees it. */
export function s3Store(client: S3Client, bucket: string): ObjectStore {
  return {
    async put(k, body) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: k, Body: body, ContentType: 'application/x-ndjson' }),
      );
    },
    async get(k) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      if (!out.Body) throw new Error(`s3://${bucket}/${k} has no body`);
      return out.Body.transformToString('utf8');
    },
  };
}

let deps: BatchHandlerDeps | undefined;

export const handler = importBatchHandler(() => {
  deps ??= {
    mapper: shopImport,
    dynamo: new DynamoDBClient({}),
    store: s3Store(new S3Client({}), process.env.BUCKET ?? ''),
    tableName: process.env.TABLE_NAME ?? '',
    key,
    limits: keyLimits({
      ...key,
      indexes: tableDefinition.indexes.map((i) => ({
        partitionKey: i.partitionKey.name,
        sortKey: i.sortKey.name,
      })),
    }),
  };
  return deps;
});
