import type { OrderMessageBody } from './order-notification.js';

/** An SQS message as EventBridge Pipes hands it to an enrichment (only what we read). */
export interface QueuedMessage {
  readonly messageId?: string;
  /** The SNS message, delivered raw: the order notification's JSON body. */
  readonly body: string;
}

/** One email: a summary of every big order in the batch. */
export interface OrderDigest {
  readonly summary: string;
  readonly count: number;
  readonly totalUsd: number;
  /** The first orders of the batch, in arrival order; `count` says how many there were. */
  readonly orders: readonly OrderMessageBody[];
  /** Messages whose body was not an order notification (named, never dropped silently). */
  readonly unreadable: readonly string[];
}

/** How many orders an email lists; the rest are counted in its summary. */
export const DIGEST_LISTED_ORDERS = 20;

/**
 * The email digest's enrichment: a whole batch of big-order notifications (up to a thousand, or
 * what arrived in the batching window) becomes ONE message, so the email subscription gets at most
 * one message per batch. SNS suspends an email subscription sent more than 10 messages a second; a
 * load run can complete more big orders than that.
 */
export async function handler(messages: readonly QueuedMessage[]): Promise<OrderDigest[]> {
  return messages.length === 0 ? [] : [orderDigest(messages)];
}

export function orderDigest(messages: readonly QueuedMessage[]): OrderDigest {
  const orders: OrderMessageBody[] = [];
  const unreadable: string[] = [];
  for (const m of messages) {
    try {
      const body = JSON.parse(m.body) as Partial<OrderMessageBody>;
      if (typeof body.orderId !== 'string' || typeof body.total !== 'number') throw new Error('not an order');
      orders.push(body as OrderMessageBody);
    } catch {
      unreadable.push(m.messageId ?? m.body.slice(0, 80));
    }
  }
  // Cents, so a sum of many prices does not drift in binary floating point.
  const totalUsd = orders.reduce((sum, o) => sum + Math.round(o.total * 100), 0) / 100;
  const more = orders.length > DIGEST_LISTED_ORDERS ? ` (the first ${DIGEST_LISTED_ORDERS} listed)` : '';
  return {
    summary: `${orders.length} big order(s) completed, $${totalUsd.toFixed(2)} in total${more}${
      unreadable.length > 0 ? `; ${unreadable.length} message(s) were not order notifications` : ''
    }`,
    count: orders.length,
    totalUsd,
    orders: orders.slice(0, DIGEST_LISTED_ORDERS),
    unreadable,
  };
}
