import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SeedResult } from '../app/index.js';
import type { EmbeddedStack } from './stack.js';

/**
 * The seed data scenarios read (users with fresh tokens, products with their popularity), as JSON
 * for the scenarios' processor: scenarios never hard-code users or tokens.
 */
export interface SeedFile {
  readonly appUrl: string;
  readonly users: { email: string; token: string }[];
  /** With their Zipf popularity weight, for processors that pick popular products more often. */
  readonly products: { id: string; category: string; title: string; price: number; weight: number }[];
}

/** The seed file's contents: every user with a token from `token`, the products with their weights. */
export async function seedFileData(
  appUrl: string,
  seeded: Pick<SeedResult, 'users' | 'products'>,
  token: (email: string) => Promise<string>,
): Promise<SeedFile> {
  return {
    appUrl,
    users: await Promise.all(
      seeded.users.map(async (u) => ({ email: u.email, token: await token(u.email) })),
    ),
    products: seeded.products.map((p) => ({
      id: p.id,
      category: p.category,
      title: p.title,
      price: p.price,
      weight: p.weight,
    })),
  };
}

export async function writeSeedFile(
  path: string,
  appUrl: string,
  seeded: Pick<SeedResult, 'users' | 'products'>,
  token: (email: string) => Promise<string>,
): Promise<SeedFile> {
  const data = await seedFileData(appUrl, seeded, token);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data)}\n`);
  return data;
}

/** The seed file for a stack this process started: it signs the tokens itself. */
export function writeStackSeedFile(stack: EmbeddedStack, path: string): Promise<SeedFile> {
  return writeSeedFile(path, stack.appUrl, stack.seeded ?? { users: [], products: [] }, (email) =>
    stack.tokens.sign(email),
  );
}
