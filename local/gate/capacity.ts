import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's capacity arithmetic, as AWS documents it, for what DynamoDB Local does not tell us
 * (failed conditional writes, the split per partition key) and to check what it does.
 *
 * Item size: attribute names (UTF-8) + values. Strings and binaries by length, numbers
 * (significant digits / 2, rounded up) + 1, booleans and null 1, lists and maps 3 + 1 per element +
 * their contents, sets the sum of their elements.
 */
export type Item = Record<string, AttributeValue>;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function binarySize(b: unknown): number {
  if (typeof b === 'string') return Buffer.byteLength(b, 'base64');
  return (b as Uint8Array).length;
}

export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  // On the wire a binary is base64 text; in the SDK's types, bytes.
  if (v.B !== undefined) return binarySize(v.B as unknown);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.BS !== undefined) return (v.BS as unknown[]).reduce((s: number, x) => s + binarySize(x), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueSize(x), 0);
  if (v.M !== undefined)
    return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + utf8(k) + valueSize(x), 0);
  return 0;
}

export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + valueSize(value);
  return size;
}

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';
const READ_FACTOR: Record<ReadConsistency, number> = { eventual: 0.5, strong: 1, transactional: 2 };

/** One item read (GetItem, each BatchGetItem item): 4 KB units, rounded up per item, at least 1. */
export function readUnits(size: number, consistency: ReadConsistency): number {
  return Math.max(1, Math.ceil(size / 4096)) * READ_FACTOR[consistency];
}

/** Query and Scan: the sizes of every item read (before any filter) summed, then rounded once. */
export function queryUnits(sizes: readonly number[], consistency: ReadConsistency): number {
  const total = sizes.reduce((s, x) => s + x, 0);
  return Math.max(1, Math.ceil(total / 4096)) * READ_FACTOR[consistency];
}

/**
 * One item write: 1 KB units of the larger of the item before and after, at least 1. A write whose
 * condition fails still consumes them. Transactions cost twice.
 */
export function writeUnits(before: number, after: number, transactional = false): number {
  return Math.max(1, Math.ceil(Math.max(before, after) / 1024)) * (transactional ? 2 : 1);
}

/** The shape of an index as the write rules need it: its keys and what it projects. */
export interface IndexShape {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** ALL (the default), KEYS_ONLY or INCLUDE. */
  readonly projection?: string;
  readonly nonKeyAttributes?: readonly string[];
}

/** The table's own key attributes, which every index entry carries. */
export interface TableKeys {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/**
 * The entry an index holds for an item, or undefined when the item is not in the index (a sparse
 * index: an index key attribute is missing). Developer Guide, "Attribute projections": an entry
 * holds the table's and the index's key attributes plus the projected ones.
 */
export function indexEntry(item: Item | undefined, index: IndexShape, table?: TableKeys): Item | undefined {
  if (!item || item[index.partitionKey] === undefined) return undefined;
  if (index.sortKey && item[index.sortKey] === undefined) return undefined;
  if (!index.projection || index.projection === 'ALL') return item;
  const keep = new Set<string>([
    index.partitionKey,
    ...(index.sortKey ? [index.sortKey] : []),
    ...(table ? [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])] : []),
    ...(index.projection === 'INCLUDE' ? (index.nonKeyAttributes ?? []) : []),
  ]);
  const entry: Item = {};
  for (const [k, v] of Object.entries(item)) if (keep.has(k)) entry[k] = v;
  return entry;
}

function sameValue(a: Item[string] | undefined, b: Item[string] | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameItem(a: Item, b: Item): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!sameValue(a[k], b[k])) return false;
  return true;
}

/**
 * Writes one base-table write causes on a secondary index (Developer Guide, "Provisioned throughput
 * considerations for Global Secondary Indexes" and the same section for local ones): none when the
 * item is in neither image, or its entry is unchanged (only non-projected attributes changed); one
 * of the entry's size to add, update or remove it; two (a delete of the old entry and a put of the
 * new) when its index key changes.
 */
export function indexWrites(
  before: Item | undefined,
  after: Item | undefined,
  index: IndexShape,
  table?: TableKeys,
): { units: number; writes: number } {
  const was = indexEntry(before, index, table);
  const is = indexEntry(after, index, table);
  if (!was && !is) return { units: 0, writes: 0 };
  if (was && is) {
    if (sameItem(was, is)) return { units: 0, writes: 0 };
    const sameKey =
      sameValue(was[index.partitionKey], is[index.partitionKey]) &&
      (!index.sortKey || sameValue(was[index.sortKey], is[index.sortKey]));
    if (sameKey) return { units: writeUnits(itemSize(was), itemSize(is)), writes: 1 };
    return { units: writeUnits(itemSize(was), 0) + writeUnits(0, itemSize(is)), writes: 2 };
  }
  return { units: writeUnits(itemSize(was), itemSize(is)), writes: 1 };
}
