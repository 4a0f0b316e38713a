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
  whyNeverMatches,
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
  PEAK_WINDOW_SECONDS,
  type Reason,
  type ResolvedCapacity,
  resolveCapacity,
  TABLE_QUOTA,
  type TableCapacity,
  type TargetStats,
  ThrottlePolicy,
  throttleLabel,
} from './policy.js';
export { type KeyOperator, parseCall, parseKeyCondition } from './protocol.js';
export { type IndexSchema, schemaFromDescription, type TableSchema } from './schema.js';
export {
  type GateMetric,
  type GatePatternSnapshot,
  KEYS_PER_TARGET,
  type KeyLoad,
  type KeySpread,
  targetKey,
} from './stats.js';
export { exceptionFor } from './throttle-errors.js';
