import { z } from 'zod';
import { MAX_BATCH_GET, MAX_LINE_QUANTITY } from '../data/limits.js';
import { InvalidInput } from '../errors.js';

/**
 * Request validation at the edge. Every limit here keeps items far below DynamoDB's 400 KB item and
 * 1 KB sort-key limits, so nothing a client sends can turn into a database error.
 */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // Lone UTF-16 surrogates cannot be stored as UTF-8: refuse them here rather than fail at the database.
    .refine(wellFormed, 'must be well-formed Unicode');

export const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const wellFormed = (s: string) => s.isWellFormed();

/** Emails are keys: one spelling per address, so `Ada@Example.com` and `ada@example.com` are one user. */
export const email = z
  .email()
  .max(254)
  .transform((s) => s.toLowerCase());

/** Whole cents. (zod's multipleOf(0.01) lets 1e-20 through, and DynamoDB cannot store 5e-324.) */
const price = z
  .number()
  .min(0.01)
  .max(1_000_000)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, 'must be a whole number of cents');

const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const priceParam = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be a non-negative price with at most 2 decimals')
  .transform(Number);

export const registerBody = z.strictObject({ email, name: text(200) });

export const devTokenBody = z.strictObject({ email });

export const newProductBody = z.strictObject({
  title: text(200),
  description: text(5000),
  price,
  category: text(100),
  images: z
    .array(
      z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .refine(wellFormed, 'must be well-formed Unicode'),
    )
    .max(10)
    .default([]),
});

export const productParams = z.strictObject({ id });

export const productQuery = z.strictObject({
  ids: z
    .string()
    .transform((s) => s.split(',').filter((x) => x !== ''))
    .pipe(z.array(id).min(1).max(MAX_BATCH_GET))
    .optional(),
  category: text(100).optional(),
  q: text(100).optional(),
  minPrice: priceParam.optional(),
  maxPrice: priceParam.optional(),
  limit: intParam(1, 100).default(20),
  cursor: z.string().max(4096).optional(),
});

export const pageQuery = z.strictObject({
  limit: intParam(1, 100).default(20),
  cursor: z.string().max(4096).optional(),
});

export const addToCartBody = z.strictObject({
  productId: id,
  quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).default(1),
});

export const cartItemParams = z.strictObject({ productId: id });

/** Parse or throw InvalidInput naming the field: "body.price: Too small: expected number to be >0". */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.output<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where;
  const keysIssue = issue?.code === 'unrecognized_keys' ? `: unknown field ${issue.keys.join(', ')}` : '';
  throw new InvalidInput(`${path}: ${issue?.message ?? 'invalid'}${keysIssue}`, { field: path });
}
