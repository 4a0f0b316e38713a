export {
  type DynamoDBLocal,
  DynamoDBLocalFailed,
  discardEarlyDynamoDBLocal,
  dynamoDBLocalJvmFlags,
  freePort,
  JavaMissing,
  javaVersion,
  javaVersionKept,
  portTaken,
  prepareDynamoDBLocal,
  startDynamoDBLocal,
  startDynamoDBLocalEarly,
} from './dynamodb-local.js';
export { matchesPattern } from './event-filter.js';
export * from './gate/index.js';
export { type LocalLambda, type LocalLambdaOptions, startLocalLambda } from './lambda-endpoint.js';
export {
  AppFailed,
  CHECK_USER_AGENT,
  DataCommandFailed,
  describeCommand,
  httpStatus,
  type ProcessSpec,
  type RunningProcess,
  runToEnd,
  startProcess,
  waitReady,
} from './process.js';
export { FROM_SOURCE, isSourceUrl, PACKAGE_ROOT } from './runtime.js';
export {
  type EmbeddedStack,
  type StackOptions,
  type StackPhase,
  type StackProject,
  sdkEnvironment,
  startEmbeddedStack,
  TablesFailed,
} from './stack.js';
export { StreamUnavailable, tailStream } from './streams.js';
export {
  type AttributeType,
  type BillingSpec,
  createTableInput,
  describeTableSpec,
  dynamoSdk,
  ensureTables,
  type GlobalIndexSpec,
  type KeyAttribute,
  type LocalIndexSpec,
  localDynamoClient,
  type Projection,
  type StreamView,
  type TableSpec,
} from './tables.js';
