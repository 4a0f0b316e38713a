export { GateMetricsSource, gateView, NoDynamoSource } from './local.js';
export type {
  DynamoView,
  HotKey,
  MetricsSource,
  RunWindow,
  ServerPattern,
  ServerSnapshot,
  ServerView,
} from './source.js';
