import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createDynamoClients, createTableInput } from '../../app/index.js';
import {
  CapacityGate,
  type DynamoDBLocal,
  type GateCapacity,
  startDynamoDBLocal,
} from '../../local/index.js';

/**
 * DynamoDB Local for one test file (started before its tests, stopped after), and fresh tables behind
 * fresh capacity gates whose clock is the test's: time moves only when the test says so.
 */
export function gatedTables(prefix: string, clock: () => number) {
  let ddb: DynamoDBLocal | undefined;
  let raw: DynamoDBClient | undefined;
  let tables = 0;
  beforeAll(async () => {
    ddb = await startDynamoDBLocal();
    raw = createDynamoClients({ endpoint: ddb.endpoint }).raw;
  });
  afterAll(async () => {
    raw?.destroy();
    await ddb?.stop();
  });
  const client = (): DynamoDBClient => {
    if (!raw) throw new Error('gatedTables: DynamoDB Local is not started yet (use it inside a test)');
    return raw;
  };
  return {
    /** A client straight to DynamoDB Local, past any gate. */
    direct: client,
    /** A new table `<prefix>-N` and a gate in front of it with this capacity; `endpoint` is the gate's. */
    async table(
      capacity: GateCapacity,
    ): Promise<{ gate: CapacityGate; endpoint: string; tableName: string }> {
      tables += 1;
      const tableName = `${prefix}-${tables}`;
      await client().send(new CreateTableCommand(createTableInput(tableName)));
      const gate = new CapacityGate({ upstream: ddb?.endpoint ?? '', capacity, clock });
      return { gate, endpoint: await gate.listen(), tableName };
    },
  };
}
