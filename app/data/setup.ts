import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type BillingOptions, createTableInput } from '../table.js';

/** Creates the shop table from the one key definition, unless it is there already. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  billing: BillingOptions = { mode: 'on-demand' },
): Promise<'created' | 'existed'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'existed';
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
  }
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName, billing)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  return 'created';
}
