export { fetchAppMetrics, LocalMetricsSource } from './local.js';
export type {
  MetricsSource,
  RunWindow,
  ServerPattern,
  ServerSnapshot,
  ServerView,
} from './source.js';
