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

export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.BS !== undefined) return v.BS.reduce((s, x) => s + x.length, 0);
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

export interface IndexKeys {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** The part of an item an index holds (all attributes here: the shop's GSIs project ALL). */
function inIndex(item: Item | undefined, index: IndexKeys): boolean {
  return item !== undefined && item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined;
}

function sameKey(a: Item, b: Item, index: IndexKeys): boolean {
  return (
    JSON.stringify([a[index.partitionKey], a[index.sortKey]]) ===
    JSON.stringify([b[index.partitionKey], b[index.sortKey]])
  );
}

function sameItem(a: Item, b: Item): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

/**
 * Writes one base-table write causes on a GSI: none if the item is in neither image (or unchanged),
 * 1 to add, update or remove it, 2 when its index key changes (a delete and a put).
 */
export function indexWrites(
  before: Item | undefined,
  after: Item | undefined,
  index: IndexKeys,
): { units: number; writes: number } {
  const was = inIndex(before, index);
  const is = inIndex(after, index);
  if (!was && !is) return { units: 0, writes: 0 };
  if (was && is && before && after) {
    if (sameItem(before, after)) return { units: 0, writes: 0 };
    if (sameKey(before, after, index))
      return { units: writeUnits(itemSize(before), itemSize(after)), writes: 1 };
    return { units: writeUnits(itemSize(before), 0) + writeUnits(0, itemSize(after)), writes: 2 };
  }
  return {
    units: writeUnits(itemSize(was ? before : undefined), itemSize(is ? after : undefined)),
    writes: 1,
  };
}
