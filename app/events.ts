/**
 * The event flow of the guide's "event-driven" section, defined once: DynamoDB Stream ->
 * EventBridge Pipe (this filter: only orders changing to COMPLETED) -> SNS topic, whose email
 * subscription only takes big orders (this filter policy). The CDK events stack synthesizes these
 * objects; `loadtest events` evaluates the very same ones against DynamoDB Local's stream.
 */
export const ORDER_COMPLETED_PIPE_FILTER = {
  eventName: ['MODIFY'],
  dynamodb: {
    NewImage: { entity: { S: ['Order'] }, status: { S: ['COMPLETED'] } },
    OldImage: { status: { S: ['CURRENT'] } },
  },
} as const;

/** SNS subscription filter policy on the message attributes the pipe's target sets. */
export const BIG_ORDER_THRESHOLD_USD = 100;
export const BIG_ORDER_FILTER_POLICY = {
  total: [{ numeric: ['>=', BIG_ORDER_THRESHOLD_USD] }],
} as const;

type AttributeValue = { S?: string; N?: string };

export interface OrderCompletedNotification {
  subject: string;
  message: { orderId: string; email: string; total: number; itemCount: number; completedAt: string };
  /** SNS message attributes: what subscription filter policies see. */
  attributes: { total: number; status: string };
}

/** What the pipe sends to SNS for one matching stream record (the pipe's input transformer). */
export function orderNotification(newImage: Record<string, AttributeValue>): OrderCompletedNotification {
  const s = (k: string) => newImage[k]?.S ?? '';
  const n = (k: string) => Number(newImage[k]?.N ?? 0);
  return {
    subject: `Order ${s('orderId')} completed`,
    message: {
      orderId: s('orderId'),
      email: s('email'),
      total: n('total'),
      itemCount: n('itemCount'),
      completedAt: s('completedAt'),
    },
    attributes: { total: n('total'), status: s('status') },
  };
}
