export { GateAdmin, GateUnreachable } from './admin.js';
export {
  type Attribution,
  type AttributionSource,
  Attributor,
  automaticName,
  compileRule,
  OTHER_PATTERN,
  type PatternRule,
  parseKeyTemplate,
  RuleSyntaxError,
} from './attribution.js';
export { TokenBucket } from './bucket.js';
export * from './capacity.js';
export { gateCapacitySchema, mergeCapacity, tableCapacitySchema } from './capacity-config.js';
export { CapacityGate, type GateOptions, type GateSnapshot } from './gate.js';
export {
  BURST_SECONDS,
  type Capacity,
  type GateCapacity,
  type HotKey,
  ON_DEMAND_INITIAL,
  PARTITION_LIMIT,
  type ResolvedCapacity,
  resolveCapacity,
  type TableCapacity,
  type TargetStats,
  ThrottlePolicy,
} from './policy.js';
export { type KeyOperator, parseCall, parseKeyCondition } from './protocol.js';
export { type IndexSchema, schemaFromDescription, type TableSchema } from './schema.js';
export { type GateMetric, type GatePatternSnapshot, targetKey } from './stats.js';
