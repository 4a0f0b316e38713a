export {
  type DynamoDBLocal,
  DynamoDBLocalFailed,
  freePort,
  JavaMissing,
  javaVersion,
  startDynamoDBLocal,
} from './dynamodb-local.js';
export { type SeedFile, writeSeedFile } from './seed-file.js';
export { type EmbeddedStack, type StackOptions, startEmbeddedStack } from './stack.js';
