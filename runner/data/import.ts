import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Format, readRows, SourceError, type SourceRow } from './read.js';
import type { MarshalledItem, Sink } from './sinks.js';
import { itemProblem, type KeyLimit } from './values.js';

/** One table item, before marshalling. */
export type TableItem = Record<string, unknown>;

/** What a mapping gives for one source row: its items (the first one identifies the row), or why not. */
export type Mapped =
  | { readonly ok: true; readonly items: TableItem[]; readonly ignored: string[] }
  | { readonly ok: false; readonly error: string; readonly field?: string };

/** What a mapping is told besides the row. */
export interface MapContext {
  /** createdAt for rows that carry none, ISO 8601. */
  readonly now: string;
  /** The mapping's parameters (`loadtest import --param name=value`), as the mapping declares them. */
  readonly params?: Readonly<Record<string, string>>;
}

/** A project's mapping from exported rows to its items (its config's `import`). */
export interface RowMapper {
  readonly entities: readonly string[];
  map(entity: string, row: Record<string, unknown>, options: MapContext): Mapped;
  /** Per entity, the fields a CSV header must have (each entry lists alternatives). */
  readonly required?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** mongodump collection names to entities, for importing a whole dump folder (default: same name). */
  readonly collections?: Readonly<Record<string, string>>;
  /** The parameters the mapping takes, each with what it does (others are refused). */
  readonly params?: Readonly<Record<string, string>>;
}

/** Which rows of a file one of N workers takes: rows are spread by their main item's key. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** One file of exported rows into a sink: read, map, check, dedupe, write; bad rows go to the rejects file. */
export interface ImportOptions extends RowsImportOptions {
  readonly file: string;
  readonly format: Format;
  /** Where rejected rows go, one `{line, error, raw}` a line; written only if a row is rejected. */
  readonly rejectsPath: string;
}

/** The same import over any rows (a file's, or a batch a Step Functions map hands a Lambda). */
export interface RowsImportOptions {
  /** Names the source in errors. */
  readonly source?: string;
  readonly entity: string;
  readonly mapper: RowMapper;
  readonly params?: Readonly<Record<string, string>>;
  /** Take only this worker's share of the rows (`--workers N`). */
  readonly shard?: Shard;
  /** The table's key attributes (to tell rows apart) and the size limit of every key attribute. */
  readonly key: { readonly partitionKey: string; readonly sortKey?: string };
  readonly limits: readonly KeyLimit[];
  readonly sink: Sink;
  /** createdAt for rows without one (default: now). */
  readonly now?: Date;
  readonly onProgress?: (progress: ImportProgress) => void;
  readonly progressIntervalMs?: number;
  /** Rejects kept in the summary (all of them are in the file). */
  readonly keepRejects?: number;
}

export interface ImportProgress {
  readonly rows: number;
  readonly rejected: number;
  readonly written: number;
  readonly elapsedMs: number;
}

export interface Reject {
  readonly line: number;
  /** In a JSON array: the element (several may start on one line). */
  readonly element?: number;
  /** The source field at fault, when the mapping names one. */
  readonly field?: string;
  readonly error: string;
  readonly raw: string;
}

export interface ImportSummary {
  readonly rows: number;
  readonly rejected: number;
  /** Rows the mapping skipped on purpose (it gave no item). */
  readonly skipped: number;
  /** Items handed to the sink, and (after it finished) written. */
  readonly items: number;
  readonly written: number;
  /** Items written per entity type (User, Product, Order, OrderItem). */
  readonly byType: Record<string, number>;
  /** Source fields the app's model has no place for, and in how many rows. */
  readonly ignoredFields: Record<string, number>;
  readonly elapsedMs: number;
  readonly firstRejects: Reject[];
  /** Set when at least one row was rejected. */
  readonly rejectsPath: string | undefined;
}

/** A row's place as a message says it: `line 4`, or `line 1, element 3` in a JSON array. */
export function rowPlace(r: { readonly line: number; readonly element?: number }): string {
  return `line ${r.line}${r.element !== undefined ? `, element ${r.element}` : ''}`;
}

/** The file cannot be imported at all (a CSV header without a needed column): bad input. */
export class ImportInputError extends Error {
  override name = 'ImportInputError';
}

/** The project's mapping is wrong (it threw, or gave an item DynamoDB cannot take): names the row and field. */
export class ImportMappingError extends Error {
  override name = 'ImportMappingError';
  constructor(
    message: string,
    readonly line: number,
    readonly field: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Where rejected rows go. */
export interface RejectsOut {
  write(reject: Reject): Promise<void>;
  close(): Promise<void>;
  readonly count: number;
}

/** Rejects kept in memory (a Lambda writes them to S3 at the end of its batch). */
export class RejectsList implements RejectsOut {
  readonly rejects: Reject[] = [];
  get count(): number {
    return this.rejects.length;
  }
  async write(reject: Reject): Promise<void> {
    this.rejects.push(reject);
  }
  async close(): Promise<void> {}
}

const marshallItem = (item: TableItem): MarshalledItem =>
  marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });

/** The same options the app's document client marshals with, so both sinks write what the app would. */
export { marshallItem };

function keyText(item: TableItem, key: ImportOptions['key']): string {
  const pk = String(item[key.partitionKey]);
  const sk = key.sortKey ? String(item[key.sortKey]) : pk;
  return pk === sk ? pk : `${pk} / ${sk}`;
}

/** Rejects to a file, created (and any earlier one replaced) on the first reject. */
export class RejectsFile implements RejectsOut {
  private out: WriteStream | undefined;
  count = 0;

  constructor(private readonly path: string) {}

  async write(reject: Reject): Promise<void> {
    this.count += 1;
    if (!this.out) await mkdir(dirname(this.path), { recursive: true });
    this.out ??= createWriteStream(this.path, { flags: 'w' });
    if (!this.out.write(`${JSON.stringify(reject)}\n`)) {
      await new Promise<void>((r) => this.out?.once('drain', r));
    }
  }

  async close(): Promise<void> {
    if (!this.out) return;
    this.out.end();
    await finished(this.out);
  }
}

/** One file into a sink: its rows through importRows, rejects to `rejectsPath`. */
export async function importFile(options: ImportOptions): Promise<ImportSummary> {
  // A rejects file from an earlier run would describe rows this run did not reject.
  await rm(options.rejectsPath, { force: true });
  const rejects = new RejectsFile(options.rejectsPath);
  const onHeader = (fields: readonly string[], line: number) => {
    for (const alternatives of options.mapper.required?.[options.entity] ?? []) {
      if (!alternatives.some((f) => fields.includes(f))) {
        throw new ImportInputError(
          `${options.file}:${line}: the CSV header has no ${alternatives.join(' or ')} column, which every ${options.entity} needs (header: ${fields.join(',')})`,
        );
      }
    }
  };
  try {
    const summary = await importRows(readRows(options.file, options.format, { onHeader }), rejects, {
      ...options,
      source: options.source ?? options.file,
    });
    return { ...summary, rejectsPath: rejects.count > 0 ? options.rejectsPath : undefined };
  } catch (err) {
    if (err instanceof SourceError) throw new ImportInputError(`${options.file}: ${err.message}`);
    throw err;
  } finally {
    await rejects.close();
  }
}

/** A stable small hash of a key, to spread rows over workers. */
function shardOf(key: string, count: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % count;
}

function mapOne(
  options: RowsImportOptions,
  row: SourceRow,
  value: Record<string, unknown>,
  context: MapContext,
): Mapped {
  const where = `${options.source ?? 'input'}:${row.line}`;
  let mapped: Mapped;
  try {
    mapped = options.mapper.map(options.entity, value, context);
  } catch (err) {
    throw new ImportMappingError(
      `${where}: the ${options.entity} mapping threw on this row: ${(err as Error).message ?? err}`,
      row.line,
      undefined,
      { cause: err },
    );
  }
  if (mapped.ok) {
    const { partitionKey, sortKey } = options.key;
    mapped.items.forEach((item, i) => {
      for (const [attr, what] of [
        [partitionKey, 'partition key'],
        [sortKey, 'sort key'],
      ] as const) {
        if (attr === undefined) continue;
        const v = item[attr];
        if (typeof v !== 'string' && typeof v !== 'number') {
          throw new ImportMappingError(
            `${where}: the ${options.entity} mapping gave item ${i} ${v === undefined ? 'no' : `a ${typeof v}`} ${attr} (the table's ${what}): every item needs it as a string or number`,
            row.line,
            attr,
          );
        }
      }
    });
  }
  return mapped;
}

/** The item marshalled, or a mapping error naming the first field DynamoDB cannot hold. */
function marshalled(options: RowsImportOptions, line: number, item: TableItem): MarshalledItem {
  try {
    return marshallItem(item);
  } catch (err) {
    const field = Object.keys(item).find((k) => {
      try {
        marshallItem({ [k]: item[k] });
        return false;
      } catch {
        return true;
      }
    });
    throw new ImportMappingError(
      `${options.source ?? 'input'}:${line}: the ${options.entity} mapping gave ${field ?? 'a field'} a value DynamoDB cannot hold: ${(err as Error).message}`,
      line,
      field,
      { cause: err },
    );
  }
}

/**
 * Rows into a sink: map, check, dedupe, write; bad rows go to `rejects`. The one code path of
 * `loadtest import`, its workers and the distributed import's Lambda.
 */
export async function importRows(
  source: AsyncIterable<SourceRow>,
  rejects: RejectsOut,
  options: RowsImportOptions,
): Promise<ImportSummary> {
  const started = Date.now();
  const now = (options.now ?? new Date()).toISOString();
  const context: MapContext = { now, ...(options.params ? { params: options.params } : {}) };
  const keep = options.keepRejects ?? 20;
  const interval = options.progressIntervalMs ?? 1000;
  const firstRejects: Reject[] = [];
  const seen = new Map<string, string>();
  const byType: Record<string, number> = {};
  const ignoredFields: Record<string, number> = {};
  const shard = options.shard;
  // An item's type in the summary: its `entity` attribute (single-table designs write one), else the
  // entity imported (a declarative mapping need not write one).
  const typeOf = (item: TableItem | undefined) =>
    typeof item?.entity === 'string' ? item.entity : options.entity;
  let rows = 0;
  let items = 0;
  let skipped = 0;
  let lastProgress = started;

  // Where a row is: its line, and in a JSON array its element (a one-line array's all start on line 1).
  const at = (row: SourceRow) => ({
    line: row.line,
    ...(row.element !== undefined ? { element: row.element } : {}),
  });
  const reject = async (r: Reject) => {
    if (firstRejects.length < keep) firstRejects.push(r);
    await rejects.write(r);
  };
  // A row that cannot be mapped has no key: the worker whose turn its row number is rejects it.
  const mine = (n: number) => !shard || (n - 1) % shard.count === shard.index;

  for await (const row of source) {
    rows += 1;
    if (options.onProgress && Date.now() - lastProgress >= interval) {
      lastProgress = Date.now();
      options.onProgress({
        rows,
        rejected: rejects.count,
        written: options.sink.written,
        elapsedMs: lastProgress - started,
      });
    }
    if (!row.value) {
      if (mine(rows)) await reject({ ...at(row), error: row.error ?? 'unreadable row', raw: row.raw });
      continue;
    }
    const mapped = mapOne(options, row, row.value, context);
    if (!mapped.ok) {
      if (mine(rows)) {
        const field = mapped.field ?? /^([\w$.[\]-]+): /.exec(mapped.error)?.[1];
        await reject({ ...at(row), ...(field ? { field } : {}), error: mapped.error, raw: row.raw });
      }
      continue;
    }
    const [main] = mapped.items;
    if (!main) {
      if (mine(rows)) skipped += 1;
      continue;
    }
    const key = keyText(main, options.key);
    if (shard && shardOf(key, shard.count) !== shard.index) continue;
    const first = seen.get(key);
    if (first !== undefined) {
      await reject({ ...at(row), error: `duplicate: ${first} already has ${key}`, raw: row.raw });
      continue;
    }
    const out = mapped.items.map((item) => marshalled(options, row.line, item));
    const problem = out
      .map((m, i) => itemProblem(m, options.limits, `${typeOf(mapped.items[i])} item`))
      .find((p) => p !== undefined);
    if (problem) {
      await reject({ ...at(row), error: problem, raw: row.raw });
      continue;
    }
    seen.set(key, rowPlace(at(row)));
    for (const f of new Set(mapped.ignored)) ignoredFields[f] = (ignoredFields[f] ?? 0) + 1;
    for (let i = 0; i < out.length; i += 1) {
      const type = typeOf(mapped.items[i]);
      byType[type] = (byType[type] ?? 0) + 1;
      items += 1;
      await options.sink.add({ line: row.line, item: out[i] as MarshalledItem });
    }
  }
  await options.sink.finish();
  return {
    rows,
    rejected: rejects.count,
    skipped,
    items,
    written: options.sink.written,
    byType,
    ignoredFields,
    elapsedMs: Date.now() - started,
    firstRejects,
    rejectsPath: undefined,
  };
}
