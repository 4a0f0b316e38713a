// Imports app/events.ts itself rather than app/index.ts (the app's public face): this file is
// bundled into a small Lambda, and the public face pulls in the whole HTTP app.
import { type OrderCompletedNotification, orderNotification } from '../../app/events.js';

type AttributeValue = { S?: string; N?: string };

/** A DynamoDB stream record as EventBridge Pipes hands it to an enrichment (only what we read). */
export interface StreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly NewImage?: Record<string, AttributeValue> };
}

/** The SNS message body: the notification's message plus the attributes the local filter reads. */
export type OrderMessageBody = OrderCompletedNotification['message'] &
  OrderCompletedNotification['attributes'];

/**
 * The Pipe's enrichment: each stream record the Pipe's filter let through becomes one SNS message,
 * built by the function `loadtest events` uses locally (`orderNotification`). Locally the
 * subscription's filter policy is evaluated on the notification's attributes; SNS evaluates it on
 * this body (FilterPolicyScope MessageBody), which carries the same fields with the same values.
 *
 * An enrichment and not an input template: the policy compares `total` numerically, and a template
 * can only copy the stream's `N` value, a JSON string ("120.5"), which SNS numeric matching skips.
 */
export async function handler(records: readonly StreamRecord[]): Promise<OrderMessageBody[]> {
  return records.map((r) => {
    const n = orderNotification(r.dynamodb?.NewImage ?? {});
    return { ...n.message, ...n.attributes };
  });
}
