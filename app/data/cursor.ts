import { z } from 'zod';
import { InvalidInput } from '../errors.js';
import { keyAttributes } from '../table.js';

/**
 * Pagination cursors are DynamoDB's LastEvaluatedKey, base64url-encoded: opaque to clients, and
 * checked on the way back in so a forged one is a 400, not a database error.
 */
const keyNames = new Set(keyAttributes().map((a) => a.name));

// Numbers in keys are prices here; bounding them keeps the SDK from refusing unsafe integers.
const cursorSchema = z
  .record(z.string(), z.union([z.string().max(2048), z.number().finite().min(-1e15).max(1e15)]))
  .refine(
    (k) =>
      Object.keys(k).length > 0 && Object.keys(k).length <= 4 && Object.keys(k).every((n) => keyNames.has(n)),
  );

export type Cursor = Record<string, string | number>;

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new InvalidInput('cursor: not a cursor this API returned', { field: 'cursor' }, { cause: err });
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new InvalidInput('cursor: not a cursor this API returned', { field: 'cursor' });
  return result.data;
}
