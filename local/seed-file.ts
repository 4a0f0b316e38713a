import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EmbeddedStack } from './stack.js';

/**
 * The seed data scenarios read (users with fresh tokens, products), as JSON for the scenarios'
 * processor: scenarios never hard-code users or tokens.
 */
export interface SeedFile {
  readonly appUrl: string;
  readonly users: { email: string; token: string }[];
  readonly products: { id: string; category: string; title: string; price: number }[];
}

export async function writeSeedFile(stack: EmbeddedStack, path: string): Promise<SeedFile> {
  const seeded = stack.seeded;
  const data: SeedFile = {
    appUrl: stack.appUrl,
    users: await Promise.all(
      (seeded?.users ?? []).map(async (u) => ({ email: u.email, token: await stack.tokens.sign(u.email) })),
    ),
    products: (seeded?.products ?? []).map((p) => ({
      id: p.id,
      category: p.category,
      title: p.title,
      price: p.price,
    })),
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data)}\n`);
  return data;
}
