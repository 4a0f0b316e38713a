/**
 * `dynamo-loadtest/instrument`: what an app may use, and the only part of the toolkit it needs.
 * Light on purpose (no CLI, no Artillery): tagging calls with their access pattern for the capacity
 * gate, and per-pattern metrics with mergeable latency sketches and their EMF publisher.
 */
export {
  CloudWatchEmfSink,
  type CloudWatchEmfSinkOptions,
  EmfParseError,
  emfToMetricData,
  MAX_DATUMS_PER_REQUEST,
  MAX_VALUES_PER_DATUM,
  type PutMetricData,
} from './cloudwatch-sink.js';
export {
  DEFAULT_SERVICE,
  EMF_COUNTERS,
  EMF_NAMESPACE,
  type EmfCounter,
  type EmfOptions,
  EmfPublisher,
} from './emf.js';
export {
  type CapacityUse,
  decodeSketch,
  encodeSketch,
  type MetricsSnapshot,
  mergeSketches,
  type OperationSample,
  PatternMetrics,
  type PatternSnapshot,
  PatternStats,
  quantiles,
  type SampleListener,
  type SerializedSketch,
  SKETCH_RELATIVE_ACCURACY,
} from './metrics.js';
export {
  currentPattern,
  instrument,
  type MiddlewareClient,
  PATTERN_HEADER,
  tagCommand,
  withPattern,
} from './tag.js';
export { isThrottle, isThrottleCode } from './throttle.js';
