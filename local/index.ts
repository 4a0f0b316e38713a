export {
  type DynamoDBLocal,
  DynamoDBLocalFailed,
  freePort,
  JavaMissing,
  javaVersion,
  startDynamoDBLocal,
} from './dynamodb-local.js';
export { CapacityGate, type GateCapacity, type GateSnapshot, type HotKey } from './gate/index.js';
export { type LocalLambda, type LocalLambdaOptions, startLocalLambda } from './lambda-endpoint.js';
export { type SeedFile, seedFileData, writeSeedFile, writeStackSeedFile } from './seed-file.js';
export { type EmbeddedStack, type StackOptions, startEmbeddedStack } from './stack.js';
export { StreamUnavailable, tailStream } from './streams.js';
