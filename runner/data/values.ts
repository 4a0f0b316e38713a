import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../../local/index.js';

/**
 * Values as exports hold them, for any project's import mapping: MongoDB Extended JSON, ObjectIds,
 * and DynamoDB's limits an item must meet before it is written.
 */
const NUMBER_WRAPPERS = ['$numberDecimal', '$numberInt', '$numberLong', '$numberDouble'] as const;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Extended JSON (relaxed or canonical) to plain values: `{$oid}` to the hex string, `{$date}` to an
 * ISO string, `{$numberDecimal|Int|Long|Double}` to the number's text (numeric fields parse it).
 */
export function fromExtendedJson(value: unknown): unknown {
  if (Array.isArray(value)) {
    // Copy only what changes: rows from the readers are plain already, and this runs on every row.
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const c = fromExtendedJson(v);
      if (c === v) return;
      out ??= [...value];
      out[i] = c;
    });
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  const entries = Object.keys(value);
  if (entries.length === 1) {
    const [k] = entries as [string];
    const v = value[k];
    if (k === '$oid' && typeof v === 'string') return v;
    if ((NUMBER_WRAPPERS as readonly string[]).includes(k) && typeof v === 'string') return v;
    if (k === '$date') {
      const inner = isPlainObject(v) && typeof v.$numberLong === 'string' ? Number(v.$numberLong) : v;
      const date = typeof inner === 'number' || typeof inner === 'string' ? new Date(inner) : undefined;
      return date && !Number.isNaN(date.getTime()) ? date.toISOString() : v;
    }
  }
  let out: Record<string, unknown> | undefined;
  for (const k of entries) {
    const v = value[k];
    const c = fromExtendedJson(v);
    if (c === v) continue;
    out ??= { ...value };
    out[k] = c;
  }
  return out ?? value;
}

const OBJECT_ID_TEXT = /^ObjectId\(["']?([0-9a-fA-F]{24})["']?\)$/;

/** mongoexport's CSV writes ObjectIds as `ObjectId(5f...)`. */
export function unwrapObjectIdText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const m = OBJECT_ID_TEXT.exec(v.trim());
  return m ? m[1] : v;
}

/** When an ObjectId was made: its first 4 bytes are seconds since the epoch. */
export function objectIdTime(raw: unknown): string | undefined {
  let hex: string | undefined;
  if (isPlainObject(raw) && typeof raw.$oid === 'string') hex = raw.$oid;
  else if (typeof raw === 'string') hex = OBJECT_ID_TEXT.exec(raw.trim())?.[1];
  if (!hex || !/^[0-9a-fA-F]{24}$/.test(hex)) return undefined;
  return new Date(Number.parseInt(hex.slice(0, 8), 16) * 1000).toISOString();
}

// --- DynamoDB limits -----------------------------------------------------------------------------

export const MAX_ITEM_BYTES = 400 * 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** An item's size as DynamoDB counts it against the 400 KB limit (the capacity model's own rule). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return itemSize(item);
}

/** DynamoDB's documented number range: 38 digits of precision, magnitude 1e-130 to 9.99...e125. */
function numberProblem(n: string): string | undefined {
  const x = Number(n);
  if (!Number.isFinite(x)) return `${n} is not a finite number`;
  if (x !== 0 && (Math.abs(x) >= 1e126 || Math.abs(x) < 1e-130))
    return `${n} is out of DynamoDB's number range`;
  return undefined;
}

function firstNumberProblem(v: AttributeValue): string | undefined {
  if (v.N !== undefined) return numberProblem(v.N);
  if (v.NS !== undefined) return v.NS.map(numberProblem).find((p) => p !== undefined);
  if (v.L !== undefined) return v.L.map(firstNumberProblem).find((p) => p !== undefined);
  if (v.M !== undefined)
    return Object.values(v.M)
      .map(firstNumberProblem)
      .find((p) => p !== undefined);
  return undefined;
}

/** The key attributes of a table and its indexes, with DynamoDB's size limit for each. */
export interface KeyLimit {
  readonly name: string;
  readonly max: number;
}

/** Partition keys up to 2,048 bytes, sort keys up to 1,024, for the table and every index. */
export function keyLimits(keys: {
  partitionKey: string;
  sortKey?: string;
  indexes?: readonly { partitionKey?: string; sortKey?: string }[];
}): KeyLimit[] {
  const out: KeyLimit[] = [{ name: keys.partitionKey, max: MAX_PARTITION_KEY_BYTES }];
  if (keys.sortKey) out.push({ name: keys.sortKey, max: MAX_SORT_KEY_BYTES });
  for (const i of keys.indexes ?? []) {
    if (i.partitionKey) out.push({ name: i.partitionKey, max: MAX_PARTITION_KEY_BYTES });
    if (i.sortKey) out.push({ name: i.sortKey, max: MAX_SORT_KEY_BYTES });
  }
  return out;
}

/** Why DynamoDB would refuse this (marshalled) item, or undefined. */
export function itemProblem(
  item: Record<string, AttributeValue>,
  limits: readonly KeyLimit[],
  label = 'item',
): string | undefined {
  const size = itemBytes(item);
  if (size > MAX_ITEM_BYTES) {
    return `the ${label} would be ${size} bytes, over DynamoDB's 400 KB item limit`;
  }
  for (const { name, max } of limits) {
    const v = item[name];
    if (v === undefined) continue;
    if (v.S !== undefined) {
      if (v.S === '') return `key attribute ${name} would be empty`;
      if (utf8(v.S) > max)
        return `key attribute ${name} would be ${utf8(v.S)} bytes, over DynamoDB's ${max}-byte limit`;
    }
  }
  for (const [name, v] of Object.entries(item)) {
    const p = firstNumberProblem(v);
    if (p) return `${name}: ${p}`;
  }
  return undefined;
}

// --- BSON values ---------------------------------------------------------------------------------

interface BsonTagged {
  readonly _bsontype: string;
}

const isBson = (v: object): v is BsonTagged & Record<string, unknown> =>
  typeof (v as Partial<BsonTagged>)._bsontype === 'string';

/**
 * What the `bson` package hands back (mongodump files, Extended JSON parsed with EJSON) as plain
 * JSON values, so a mapping sees the same row whichever export it came from: ObjectId -> its hex,
 * Date -> ISO 8601, Decimal128 -> its text (no precision lost; numeric fields parse it), Long -> a
 * number when it is exact, else its text, Binary -> base64 (a UUID -> its text).
 */
export function plainOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plainOf);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (isBson(value)) {
    const v = value as unknown as {
      toHexString?: () => string;
      toString: () => string;
      valueOf: () => unknown;
    };
    switch (value._bsontype) {
      case 'ObjectId':
        return v.toHexString?.() ?? v.toString();
      case 'Long': {
        const n = Number(v.toString());
        return Number.isSafeInteger(n) ? n : v.toString();
      }
      case 'Int32':
      case 'Double':
        return Number(v.valueOf());
      case 'Decimal128':
        return v.toString();
      case 'Binary': {
        const b = value as unknown as {
          sub_type: number;
          toUUID: () => { toString: () => string };
          toString: (e: string) => string;
        };
        return b.sub_type === 4 ? b.toUUID().toString() : b.toString('base64');
      }
      case 'BSONRegExp':
        return `/${String(value.pattern)}/${String(value.options)}`;
      case 'Timestamp':
        return v.toString();
      case 'DBRef':
        return { $ref: value.collection, $id: plainOf(value.oid) };
      case 'Code':
        return String(value.code);
      case 'BSONSymbol':
        return String(value.value);
      default:
        return v.toString();
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = plainOf(v);
  return out;
}
