import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  /** A DynamoDB-compatible endpoint (DynamoDB Local, the capacity gate); omit for AWS. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly maxAttempts?: number;
}

/**
 * Builds the SDK client. Locally the endpoint needs some credentials to sign with, any will do; on AWS
 * the default provider chain (the App Runner instance role) supplies them.
 */
export function createDynamoClients(options: ClientOptions = {}): {
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
} {
  const config: DynamoDBClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 3,
  };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const raw = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { raw, doc };
}
