import type { NewProduct, Product, ShopStore, User } from './data/shop.js';

/**
 * A small deterministic catalogue and set of users, so a fresh embedded stack has something to
 * browse and scenarios have users to log in as.
 */
export const SEED_CATEGORIES = ['books', 'games', 'garden', 'kitchen', 'music', 'toys'] as const;

const ADJECTIVES = ['Blue', 'Quiet', 'Rapid', 'Golden', 'Tiny', 'Classic', 'Smart', 'Rustic'];
const NOUNS = ['Lamp', 'Kettle', 'Novel', 'Puzzle', 'Shovel', 'Guitar', 'Robot', 'Teapot', 'Atlas', 'Drum'];

export interface SeedOptions {
  readonly products?: number;
  readonly users?: number;
  /** Writes in flight at once. */
  readonly concurrency?: number;
}

export interface SeedResult {
  readonly products: Product[];
  readonly users: User[];
}

/** Deterministic PRNG (mulberry32) so every seed of a given size has the same prices and titles. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedProducts(count: number): NewProduct[] {
  const rnd = prng(42);
  return Array.from({ length: count }, (_, i) => {
    const adjective = ADJECTIVES[Math.floor(rnd() * ADJECTIVES.length)] ?? 'Plain';
    const noun = NOUNS[Math.floor(rnd() * NOUNS.length)] ?? 'Thing';
    const category = SEED_CATEGORIES[i % SEED_CATEGORIES.length] ?? 'books';
    return {
      title: `${adjective} ${noun} ${i + 1}`,
      description: `A ${adjective.toLowerCase()} ${noun.toLowerCase()} from the ${category} aisle.`,
      price: Math.round((1 + rnd() * 199) * 100) / 100,
      category,
      images: [`https://example.com/img/${i + 1}.jpg`],
    };
  });
}

export function seedUserEmail(i: number): string {
  return `user${i + 1}@example.com`;
}

async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Seeds through the store's own patterns; users that already exist (a persisted stack) are loaded instead. */
export async function seed(store: ShopStore, options: SeedOptions = {}): Promise<SeedResult> {
  const concurrency = options.concurrency ?? 16;
  const products = await inBatches(seedProducts(options.products ?? 60), concurrency, (p) =>
    store.createProduct(p),
  );
  const emails = Array.from({ length: options.users ?? 20 }, (_, i) => seedUserEmail(i));
  const users = await inBatches(emails, concurrency, async (email) => {
    try {
      return await store.registerUser({ email, name: `User ${email.split('@')[0]}` });
    } catch (err) {
      if (err instanceof Error && err.name === 'AlreadyExists') {
        const existing = await store.getUserByEmail(email);
        if (existing) return existing;
      }
      throw err;
    }
  });
  return { products, users };
}
