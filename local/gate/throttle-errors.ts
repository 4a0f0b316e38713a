import type { Reason } from './policy.js';
import type { Json } from './protocol.js';

/**
 * The error DynamoDB answers a throttled call with, per mode and limit ("Error handling with
 * DynamoDB", "Error messages and codes"; "Diagnosing throttling", "Understanding throttling
 * exceptions"; the API reference of TransactionCanceledException). All are HTTP 400, all carry the
 * reasons as `<ResourceType><OperationType><LimitType>` with the table's or index's ARN:
 *
 * | limit                            | mode        | exception                                |
 * |----------------------------------|-------------|------------------------------------------|
 * | ProvisionedThroughputExceeded    | provisioned | ProvisionedThroughputExceededException   |
 * | KeyRangeThroughputExceeded       | provisioned | ProvisionedThroughputExceededException   |
 * | KeyRangeThroughputExceeded       | on-demand   | ThrottlingException                      |
 * | MaxOnDemandThroughputExceeded    | on-demand   | ThrottlingException                      |
 * | AccountLimitExceeded             | on-demand   | RequestLimitExceeded                     |
 *
 * The guide is not of one mind on key-range throttling: "Error messages and codes" lists it under
 * ThrottlingException, while "Diagnosing throttling" shows a provisioned table's
 * TableWriteKeyRangeThroughputExceeded in a ProvisionedThroughputExceededException; the gate follows
 * each page for the mode it describes. ThrottlingException spells its list `throttlingReasons` (the
 * service model's member name; the other two use `ThrottlingReasons`).
 *
 * A throttled transaction is cancelled as a whole ("For transactions, the entire operation fails
 * with a TransactionCanceledException if any item experiences throttling"), the throttled item's
 * cancellation reason being ProvisionedThroughputExceeded or ThrottlingError.
 */
export type Mode = 'provisioned' | 'on-demand';

const NS = 'com.amazonaws.dynamodb.v20120810#';

const MESSAGES = {
  provisionedTable:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  provisionedIndex:
    'The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API',
  scalingTable:
    'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html',
  scalingIndex:
    'Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is automatically scaling your index so please try again shortly.',
  maxOnDemand: 'Throughput exceeds the maximum OnDemandThroughput configured on table or index',
  account:
    'Throughput exceeds the current throughput limit for your account. To request a limit increase, contact AWS Support at https://aws.amazon.com/support.',
} as const;

export interface ThrottleAnswer {
  /** The exception's name (`__type` after the `#`). */
  readonly exception: string;
  readonly body: Json;
}

/** Which exception, and which message, a throttle of this limit in this mode comes with. */
export function exceptionFor(
  mode: Mode,
  reason: Reason,
  index: boolean,
): { exception: string; message: string } {
  switch (reason) {
    case 'ProvisionedThroughputExceeded':
      return {
        exception: 'ProvisionedThroughputExceededException',
        message: index ? MESSAGES.provisionedIndex : MESSAGES.provisionedTable,
      };
    case 'KeyRangeThroughputExceeded':
      return mode === 'provisioned'
        ? {
            exception: 'ProvisionedThroughputExceededException',
            message: index ? MESSAGES.provisionedIndex : MESSAGES.provisionedTable,
          }
        : {
            exception: 'ThrottlingException',
            message: index ? MESSAGES.scalingIndex : MESSAGES.scalingTable,
          };
    case 'MaxOnDemandThroughputExceeded':
      return { exception: 'ThrottlingException', message: MESSAGES.maxOnDemand };
    case 'AccountLimitExceeded':
      return { exception: 'RequestLimitExceeded', message: MESSAGES.account };
  }
}

export interface Throttled {
  readonly mode: Mode;
  readonly reason: Reason;
  /** The full reason, e.g. `IndexWriteKeyRangeThroughputExceeded`. */
  readonly label: string;
  readonly index: boolean;
  readonly resource: string;
}

/** The error for a throttled call (not a transaction). */
export function throttleAnswer(t: Throttled): ThrottleAnswer {
  const { exception, message } = exceptionFor(t.mode, t.reason, t.index);
  const reasons = [{ reason: t.label, resource: t.resource }];
  return {
    exception,
    body: {
      __type: `${NS}${exception}`,
      message,
      [exception === 'ThrottlingException' ? 'throttlingReasons' : 'ThrottlingReasons']: reasons,
    },
  };
}

/** A transaction of `items` items cancelled because item `at` was throttled. */
export function cancelledTransaction(t: Throttled, items: number, at: number): ThrottleAnswer {
  const { exception, message } = exceptionFor(t.mode, t.reason, t.index);
  const code =
    exception === 'ProvisionedThroughputExceededException'
      ? 'ProvisionedThroughputExceeded'
      : 'ThrottlingError';
  const reasons = Array.from({ length: items }, (_, i) =>
    i === at ? { Code: code, Message: message } : { Code: 'None' },
  );
  return {
    exception: 'TransactionCanceledException',
    body: {
      __type: `${NS}TransactionCanceledException`,
      CancellationReasons: reasons,
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    },
  };
}
