import { describe, expect, it } from 'vitest';
import { BIG_ORDER_FILTER_POLICY, ORDER_COMPLETED_PIPE_FILTER, orderNotification } from '../../app/index.js';
import { matchesPattern } from '../../local/index.js';

const record = (eventName: string, oldStatus: string | undefined, newStatus: string, entity = 'Order') => ({
  eventName,
  dynamodb: {
    NewImage: {
      entity: { S: entity },
      status: { S: newStatus },
      orderId: { S: 'o1' },
      email: { S: 'a@b.co' },
      total: { N: '120.5' },
      itemCount: { N: '2' },
    },
    ...(oldStatus ? { OldImage: { entity: { S: entity }, status: { S: oldStatus } } } : {}),
  },
});

describe('the order-completed pipe filter', () => {
  it('lets only an order changing from CURRENT to COMPLETED through', () => {
    expect(matchesPattern(record('MODIFY', 'CURRENT', 'COMPLETED'), ORDER_COMPLETED_PIPE_FILTER)).toBe(true);
    expect(matchesPattern(record('INSERT', undefined, 'COMPLETED'), ORDER_COMPLETED_PIPE_FILTER)).toBe(false);
    expect(matchesPattern(record('MODIFY', 'COMPLETED', 'COMPLETED'), ORDER_COMPLETED_PIPE_FILTER)).toBe(
      false,
    );
    expect(matchesPattern(record('MODIFY', 'CURRENT', 'CURRENT'), ORDER_COMPLETED_PIPE_FILTER)).toBe(false);
    expect(
      matchesPattern(record('MODIFY', 'CURRENT', 'COMPLETED', 'OrderItem'), ORDER_COMPLETED_PIPE_FILTER),
    ).toBe(false);
  });

  it('maps the record to a notification whose attributes the SNS filter policy reads', () => {
    const n = orderNotification(record('MODIFY', 'CURRENT', 'COMPLETED').dynamodb.NewImage);
    expect(n).toMatchObject({
      subject: 'Order o1 completed',
      attributes: { total: 120.5, status: 'COMPLETED' },
    });
    expect(matchesPattern(n.attributes, BIG_ORDER_FILTER_POLICY)).toBe(true);
    expect(matchesPattern({ total: 99.99 }, BIG_ORDER_FILTER_POLICY)).toBe(false);
  });
});

describe('EventBridge content filtering', () => {
  it('supports exact, prefix, numeric ranges, exists and anything-but', () => {
    const e = { a: 'hello', n: 5, list: ['x', 'y'], nested: { k: 'v' } };
    expect(matchesPattern(e, { a: ['hello', 'bye'] })).toBe(true);
    expect(matchesPattern(e, { a: ['bye'] })).toBe(false);
    expect(matchesPattern(e, { a: [{ prefix: 'he' }] })).toBe(true);
    expect(matchesPattern(e, { n: [{ numeric: ['>', 1, '<=', 5] }] })).toBe(true);
    expect(matchesPattern(e, { n: [{ numeric: ['>', 5] }] })).toBe(false);
    expect(matchesPattern(e, { missing: [{ exists: false }] })).toBe(true);
    expect(matchesPattern(e, { a: [{ exists: true }] })).toBe(true);
    expect(matchesPattern(e, { missing: [{ exists: true }] })).toBe(false);
    expect(matchesPattern(e, { a: [{ 'anything-but': ['bye'] }] })).toBe(true);
    expect(matchesPattern(e, { a: [{ 'anything-but': 'hello' }] })).toBe(false);
    expect(matchesPattern(e, { a: [{ 'anything-but': { prefix: 'he' } }] })).toBe(false);
    expect(matchesPattern(e, { list: ['y'] })).toBe(true);
    expect(matchesPattern(e, { nested: { k: ['v'] } })).toBe(true);
    expect(matchesPattern(e, { nested: { k: ['w'] } })).toBe(false);
    expect(() => matchesPattern(e, { a: [{ wildcard: '*' }] })).toThrow(/unsupported filter operator/);
  });
});
