export {
  type DynamoDBLocal,
  DynamoDBLocalFailed,
  freePort,
  JavaMissing,
  javaVersion,
  startDynamoDBLocal,
} from './dynamodb-local.js';
export { type EmbeddedStack, type StackOptions, startEmbeddedStack } from './stack.js';
