import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { dynamoSdk } from './tables.js';

/**
 * Follows a table's DynamoDB Stream (DynamoDB Local has them) from now on, across shards as they
 * appear, calling `onRecord` for each record in order within a shard. What an EventBridge Pipe
 * does on AWS, for one machine.
 */
export interface TailOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly onRecord: (record: _Record) => void;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export class StreamUnavailable extends Error {
  override name = 'StreamUnavailable';
}

export async function tailStream(
  options: TailOptions,
): Promise<{ streamArn: string; stopped: Promise<void> }> {
  // Loaded here, not with the module: most commands that load local/ never tail a stream.
  const [{ DescribeTableCommand, DynamoDBClient }, streamsSdk] = await Promise.all([
    dynamoSdk(),
    import('@aws-sdk/client-dynamodb-streams'),
  ]);
  const { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } =
    streamsSdk;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const region = 'us-east-1';
  const db = new DynamoDBClient({ endpoint: options.endpoint, credentials, region });
  const streams = new DynamoDBStreamsClient({ endpoint: options.endpoint, credentials, region });
  const table = await db.send(new DescribeTableCommand({ TableName: options.tableName }));
  db.destroy();
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new StreamUnavailable(`table ${options.tableName} has no stream enabled`);

  const iterators = new Map<string, string | undefined>();
  const known = new Set<string>();
  const discover = async (first: boolean) => {
    const shards =
      (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ??
      [];
    for (const shard of shards) {
      const id = shard.ShardId;
      if (!id || known.has(id)) continue;
      known.add(id);
      // Open shards at start: from now on. Shards that appear later: from their beginning.
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      if (first && closed) continue;
      const it = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: id,
          ShardIteratorType: first ? 'LATEST' : 'TRIM_HORIZON',
        }),
      );
      iterators.set(id, it.ShardIterator);
    }
  };
  await discover(true);

  const pollMs = options.pollMs ?? 250;
  const stopped = (async () => {
    let rounds = 0;
    while (!options.signal?.aborted) {
      for (const [id, iterator] of iterators) {
        if (!iterator) {
          iterators.delete(id);
          continue;
        }
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        for (const r of out.Records ?? []) options.onRecord(r);
        iterators.set(id, out.NextShardIterator);
      }
      rounds += 1;
      if (rounds % 8 === 0) await discover(false);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    streams.destroy();
  })();
  return { streamArn, stopped };
}
