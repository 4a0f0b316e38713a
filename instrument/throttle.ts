/**
 * The errors DynamoDB answers when a table, an index or a partition is out of capacity, as the AWS
 * SDKs name them (the cancellation reasons of a transaction included).
 */
const THROTTLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
const THROTTLE_REASONS = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** True for the errors DynamoDB returns when a table, index or partition is out of capacity. */
export function isThrottle(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (THROTTLE_ERRORS.has(err.name)) return true;
  if (err.name === 'TransactionCanceledException') {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((r) => r.Code !== undefined && THROTTLE_REASONS.has(r.Code));
  }
  return false;
}

/** The same test on an error code alone (what the capacity gate sees on the wire). */
export function isThrottleCode(code: string): boolean {
  return THROTTLE_ERRORS.has(code);
}
