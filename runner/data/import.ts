import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Format, readRows, SourceError } from './read.js';
import type { MarshalledItem, Sink } from './sinks.js';
import { itemProblem, type KeyLimit } from './values.js';

/** One table item, before marshalling. */
export type TableItem = Record<string, unknown>;

/** What a mapping gives for one source row: its items (the first one identifies the row), or why not. */
export type Mapped =
  | { readonly ok: true; readonly items: TableItem[]; readonly ignored: string[] }
  | { readonly ok: false; readonly error: string };

/** A project's mapping from exported rows to its items (its config's `import`). */
export interface RowMapper {
  readonly entities: readonly string[];
  map(entity: string, row: Record<string, unknown>, options: { now: string }): Mapped;
  /** Per entity, the fields a CSV header must have (each entry lists alternatives). */
  readonly required?: Readonly<Record<string, readonly (readonly string[])[]>>;
}

/** One file of exported rows into a sink: read, map, check, dedupe, write; bad rows go to the rejects file. */
export interface ImportOptions {
  readonly file: string;
  readonly entity: string;
  readonly mapper: RowMapper;
  /** The table's key attributes (to tell rows apart) and the size limit of every key attribute. */
  readonly key: { readonly partitionKey: string; readonly sortKey?: string };
  readonly limits: readonly KeyLimit[];
  readonly format: Format;
  readonly sink: Sink;
  /** Where rejected rows go, one `{line, error, raw}` a line; written only if a row is rejected. */
  readonly rejectsPath: string;
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
  readonly error: string;
  readonly raw: string;
}

export interface ImportSummary {
  readonly rows: number;
  readonly rejected: number;
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

/** The file cannot be imported at all (a CSV header without a needed column): bad input. */
export class ImportInputError extends Error {
  override name = 'ImportInputError';
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

class RejectsFile {
  private out: WriteStream | undefined;
  count = 0;

  constructor(private readonly path: string) {}

  async write(reject: Reject): Promise<void> {
    this.count += 1;
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

export async function importFile(options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const now = (options.now ?? new Date()).toISOString();
  const keep = options.keepRejects ?? 20;
  const interval = options.progressIntervalMs ?? 1000;
  // A rejects file from an earlier run would describe rows this run did not reject.
  await rm(options.rejectsPath, { force: true });
  const rejects = new RejectsFile(options.rejectsPath);
  const firstRejects: Reject[] = [];
  const seen = new Map<string, number>();
  const byType: Record<string, number> = {};
  const ignoredFields: Record<string, number> = {};
  let rows = 0;
  let items = 0;
  let lastProgress = started;

  const reject = async (r: Reject) => {
    if (firstRejects.length < keep) firstRejects.push(r);
    await rejects.write(r);
  };

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
    for await (const row of readRows(options.file, options.format, { onHeader })) {
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
        await reject({ line: row.line, error: row.error ?? 'unreadable row', raw: row.raw });
        continue;
      }
      const mapped = options.mapper.map(options.entity, row.value, { now });
      if (!mapped.ok) {
        await reject({ line: row.line, error: mapped.error, raw: row.raw });
        continue;
      }
      const [main] = mapped.items;
      const key = main ? keyText(main, options.key) : '';
      const first = seen.get(key);
      if (first !== undefined) {
        await reject({ line: row.line, error: `duplicate: line ${first} already has ${key}`, raw: row.raw });
        continue;
      }
      const marshalled = mapped.items.map(marshallItem);
      const problem = marshalled
        .map((m, i) => itemProblem(m, options.limits, `${String(mapped.items[i]?.entity ?? 'row')} item`))
        .find((p) => p !== undefined);
      if (problem) {
        await reject({ line: row.line, error: problem, raw: row.raw });
        continue;
      }
      seen.set(key, row.line);
      for (const f of new Set(mapped.ignored)) ignoredFields[f] = (ignoredFields[f] ?? 0) + 1;
      for (let i = 0; i < marshalled.length; i += 1) {
        const type = String(mapped.items[i]?.entity);
        byType[type] = (byType[type] ?? 0) + 1;
        items += 1;
        await options.sink.add({ line: row.line, item: marshalled[i] as MarshalledItem });
      }
    }
    await options.sink.finish();
  } catch (err) {
    if (err instanceof SourceError) throw new ImportInputError(`${options.file}: ${err.message}`);
    throw err;
  } finally {
    await rejects.close();
  }
  return {
    rows,
    rejected: rejects.count,
    items,
    written: options.sink.written,
    byType,
    ignoredFields,
    elapsedMs: Date.now() - started,
    firstRejects,
    rejectsPath: rejects.count > 0 ? options.rejectsPath : undefined,
  };
}
