import { describe, expect, it } from 'vitest';
import { generateSeed } from '../../app/index.js';

describe('synthetic seed data', () => {
  it('is the same for the same seed and different for another', () => {
    const a = generateSeed({ users: 5, products: 20, orders: 10, seed: 7 });
    const b = generateSeed({ users: 5, products: 20, orders: 10, seed: 7 });
    const c = generateSeed({ users: 5, products: 20, orders: 10, seed: 8 });
    expect(JSON.stringify(a.items)).toBe(JSON.stringify(b.items));
    expect(JSON.stringify(a.items)).not.toBe(JSON.stringify(c.items));
  });

  it('makes popularity Zipf-like: the top tenth of products gets most of the sales', () => {
    const data = generateSeed({ users: 50, products: 200, orders: 4000, seed: 1 });
    const sold = data.products.map((p) => p.sold).sort((x, y) => y - x);
    const total = sold.reduce((s, x) => s + x, 0);
    const top = sold.slice(0, 20).reduce((s, x) => s + x, 0);
    expect(top / total).toBeGreaterThan(0.5);
    // Order totals and sold counters agree with the order lines.
    const lines = data.orders.flatMap((o) => o.items);
    expect(lines.reduce((s, l) => s + l.quantity, 0)).toBe(total);
    for (const o of data.orders) {
      expect(o.order.total).toBeCloseTo(
        o.items.reduce((s, l) => s + l.price * l.quantity, 0),
        2,
      );
    }
  });

  it('uses the app key layout for every entity', () => {
    const data = generateSeed({ users: 1, products: 1, orders: 1 });
    const kinds = data.items.map(
      (i) => `${i.entity}:${String(i.PK).split('#')[0]}#:${String(i.SK).split('#')[0]}#`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Product:PRODUCT#:PRODUCT#',
        'User:USER#:USER#',
        'Order:USER#:ORDER#',
        'OrderItem:ORDERITEMS#:ORDERITEMS#',
      ]),
    );
  });
});
