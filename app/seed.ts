import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { en, Faker } from '@faker-js/faker';
import { type BulkWriteOptions, bulkWrite } from './data/bulk.js';
import type { Order, OrderItem, Product, User } from './data/shop.js';
import { keys } from './table.js';

/**
 * Synthetic shop data: deterministic for a given seed (same seed, same items, same keys, so a re-run
 * overwrites instead of duplicating), written with BatchWriteItem. Product popularity is Zipf-like,
 * so scenarios that pick by weight produce realistic hot keys.
 */
export const SEED_CATEGORIES = ['books', 'games', 'garden', 'kitchen', 'music', 'toys'] as const;
/** Zipf exponent: the top product gets about 1/H(n) of all picks. */
export const ZIPF_EXPONENT = 1.07;

export interface SeedOptions {
  readonly products?: number;
  readonly users?: number;
  readonly orders?: number;
  /** Same seed, same data. */
  readonly seed?: number;
}

export interface SeededProduct extends Product {
  /** Relative popularity (Zipf): how often scenarios should pick it. */
  readonly weight: number;
}

export interface SeedData {
  readonly products: SeededProduct[];
  readonly users: User[];
  readonly orders: { order: Order; items: OrderItem[] }[];
  /** Every table item, keys included, ready to write. */
  readonly items: Record<string, unknown>[];
}

export interface SeedResult {
  readonly products: SeededProduct[];
  readonly users: User[];
  readonly orders: number;
  readonly items: number;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedUserEmail(i: number): string {
  return `user${i + 1}@example.com`;
}

const pad = (n: number) => String(n).padStart(6, '0');

export function generateSeed(options: SeedOptions = {}): SeedData {
  const seed = options.seed ?? 42;
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  const rnd = prng(seed);
  const base = Date.UTC(2026, 0, 1);
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();

  const productCount = options.products ?? 60;
  // Popularity rank is a shuffle, so it does not follow id order.
  const ranks = Array.from({ length: productCount }, (_, i) => i);
  for (let i = ranks.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rnd() * (i + 1));
    [ranks[i], ranks[j]] = [ranks[j] as number, ranks[i] as number];
  }
  const products: SeededProduct[] = Array.from({ length: productCount }, (_, i) => ({
    id: `s${seed}-p${pad(i + 1)}`,
    title: `${faker.commerce.productAdjective()} ${faker.commerce.product()} ${i + 1}`,
    description: faker.commerce.productDescription().slice(0, 500),
    price: Math.round((1 + rnd() * 199) * 100) / 100,
    category: SEED_CATEGORIES[i % SEED_CATEGORIES.length] ?? 'books',
    images: [`https://example.com/img/${i + 1}.jpg`],
    sold: 0,
    createdAt: at(i),
    weight: Math.round((1 / ((ranks[i] ?? 0) + 1) ** ZIPF_EXPONENT) * 1e6) / 1e6,
  }));
  const users: User[] = Array.from({ length: options.users ?? 20 }, (_, i) => ({
    email: seedUserEmail(i),
    name: faker.person.fullName(),
    cartId: `s${seed}-cart${pad(i + 1)}`,
    createdAt: at(i),
  }));

  const cumulative: number[] = [];
  let sum = 0;
  for (const p of products) {
    sum += p.weight;
    cumulative.push(sum);
  }
  const popular = (): SeededProduct => {
    const x = rnd() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return products[lo] as SeededProduct;
  };

  const sold = new Map<string, number>();
  const orders: SeedData['orders'] = [];
  const orderCount = users.length > 0 && products.length > 0 ? (options.orders ?? 0) : 0;
  for (let o = 0; o < orderCount; o += 1) {
    const user = users[o % users.length] as User;
    const orderId = `s${seed}-o${pad(o + 1)}`;
    const lines = new Map<string, OrderItem>();
    const count = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < count; k += 1) {
      const p = popular();
      const line = lines.get(p.id) ?? {
        orderId,
        productId: p.id,
        title: p.title,
        price: p.price,
        quantity: 0,
      };
      line.quantity += 1 + Math.floor(rnd() * 2);
      lines.set(p.id, line);
    }
    const items = [...lines.values()];
    for (const i of items) sold.set(i.productId, (sold.get(i.productId) ?? 0) + i.quantity);
    const total = Math.round(items.reduce((s, i) => s + i.price * i.quantity, 0) * 100) / 100;
    orders.push({
      order: {
        orderId,
        email: user.email,
        status: 'COMPLETED',
        createdAt: at(1000 + o),
        completedAt: at(1001 + o),
        total,
        itemCount: items.length,
      },
      items,
    });
  }
  for (const p of products) (p as { sold: number }).sold = sold.get(p.id) ?? 0;

  const items: Record<string, unknown>[] = [
    ...products.map(({ weight: _weight, ...p }) => ({
      ...keys.product(p.id),
      ...keys.productIndexes(p),
      entity: 'Product',
      ...p,
    })),
    ...users.map((u) => ({ ...keys.user(u.email), entity: 'User', ...u })),
    ...orders.flatMap(({ order, items: lines }) => [
      {
        ...keys.order(order.email, order.orderId),
        ...keys.orderIndex(order.email, order.orderId, false),
        entity: 'Order',
        ...order,
      },
      ...lines.map((l) => ({ ...keys.orderItem(order.orderId, l.productId), entity: 'OrderItem', ...l })),
    ]),
  ];
  return { products, users, orders, items };
}

/** Generates and writes the seed; an existing table keeps its other items, and a re-run adds none. */
export async function seed(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: SeedOptions & BulkWriteOptions = {},
): Promise<SeedResult> {
  const data = generateSeed(options);
  await bulkWrite(doc, tableName, data.items, options);
  return { products: data.products, users: data.users, orders: data.orders.length, items: data.items.length };
}
