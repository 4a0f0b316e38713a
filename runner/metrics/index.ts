export { GateMetricsSource, gateView, NoDynamoSource } from './local.js';
export type {
  DynamoView,
  MetricsSource,
  RunWindow,
  ServerPattern,
  ServerSnapshot,
  ServerView,
} from './source.js';
