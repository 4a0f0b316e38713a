export { TokenBucket } from './bucket.js';
export * from './capacity.js';
export {
  CapacityGate,
  type GateCapacity,
  type GateSnapshot,
  type GateTableStats,
  type HotKey,
  PARTITION_LIMIT,
} from './gate.js';
