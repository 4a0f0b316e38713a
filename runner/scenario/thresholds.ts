/**
 * k6-style thresholds, "<metric> <op> <number>", keyed by access-pattern id (or "*" for every row).
 * Parsed at load time so a typo is exit 2, not a silently passing gate.
 */
export const THRESHOLD_METRICS = [
  'p50',
  'p95',
  'p99',
  'max',
  'errorRate',
  'throttleEvents',
  'throttledRequests',
  'retries',
  'rcuPerRequest',
  'wcuPerRequest',
  'requests',
  // From the forecast at the configured rate (config.loadtest.forecast / the project's forecast):
  // the rate at which the pattern first throttles, and that rate over the forecast's.
  'forecast.maxRate',
  'forecast.headroom',
] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

export const THRESHOLD_OPS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

export interface Threshold {
  readonly pattern: string;
  readonly metric: ThresholdMetric;
  readonly op: ThresholdOp;
  readonly value: number;
  /** The text as written, for messages. */
  readonly source: string;
}

export class ThresholdSyntaxError extends Error {
  override name = 'ThresholdSyntaxError';
}

const SYNTAX = /^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/;

export function parseThreshold(pattern: string, text: string): Threshold {
  const m = SYNTAX.exec(text);
  if (!m) {
    throw new ThresholdSyntaxError(
      `"${text}" is not "<metric> <op> <number>" (ops: ${THRESHOLD_OPS.join(' ')})`,
    );
  }
  const [, metric = '', op = '', value = ''] = m;
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metric)) {
    throw new ThresholdSyntaxError(
      `unknown metric "${metric}" in "${text}"; known metrics: ${THRESHOLD_METRICS.join(', ')}`,
    );
  }
  return {
    pattern,
    metric: metric as ThresholdMetric,
    op: op as ThresholdOp,
    value: Number(value),
    source: text.trim(),
  };
}

export function compare(actual: number, op: ThresholdOp, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}
