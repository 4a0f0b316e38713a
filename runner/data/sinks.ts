import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { isThrottle } from '../../instrument/index.js';
import {
  dynamoSdk,
  type IndexShape,
  indexWrites,
  itemSize,
  type TableKeys,
  writeUnits,
} from '../../local/index.js';

/** Where mapped, marshalled items go: a DynamoDB table, or files for DynamoDB's import from S3. */
export type MarshalledItem = Record<string, AttributeValue>;

export interface SinkItem {
  /** The source line the item came from, to name it if it never goes in. */
  readonly line: number;
  readonly item: MarshalledItem;
}

export interface Sink {
  /** Takes one item; resolves when there is room for more (backpressure). */
  add(item: SinkItem): Promise<void>;
  /** Everything added is durably written (or this throws). */
  finish(): Promise<void>;
  /** Items written so far. */
  readonly written: number;
}

// --- DynamoDB ------------------------------------------------------------------------------------

export const BATCH_WRITE_SIZE = 25;

export class ImportWriteFailed extends Error {
  override name = 'ImportWriteFailed';
}

export interface DynamoSinkOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The table's key attributes. */
  readonly key: { readonly partitionKey: string; readonly sortKey?: string };
  /** BatchWriteItem calls in flight at once. */
  readonly concurrency?: number;
  /** Calls per batch before giving up on items DynamoDB keeps handing back. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** An item's key (to find the source line of an item DynamoDB hands back unprocessed). */
const keyOf = (item: MarshalledItem, key: DynamoSinkOptions['key']) =>
  `${JSON.stringify(item[key.partitionKey])}\u0000${key.sortKey ? JSON.stringify(item[key.sortKey]) : ''}`;

function linesOf(items: readonly SinkItem[]): string {
  const lines = [...new Set(items.map((i) => i.line))];
  const shown = lines.slice(0, 10).join(', ');
  return lines.length > 10 ? `${shown} and ${lines.length - 10} more` : shown;
}

/**
 * BatchWriteItem, 25 puts a call, several calls in flight. UnprocessedItems (and a call throttled as
 * a whole) are retried with exponential backoff and full jitter, as AWS advises, for a bounded number
 * of attempts; then the import fails loudly, naming the source lines that did not go in.
 */
export class DynamoSink implements Sink {
  written = 0;
  calls = 0;
  retries = 0;
  private buffer: SinkItem[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: DynamoSinkOptions) {
    this.concurrency = options.concurrency ?? 8;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  async add(item: SinkItem): Promise<void> {
    await this.throwIfFailed();
    this.buffer.push(item);
    if (this.buffer.length >= BATCH_WRITE_SIZE) await this.dispatch();
  }

  async finish(): Promise<void> {
    if (this.buffer.length > 0) await this.dispatch();
    await Promise.allSettled(this.inFlight);
    await this.throwIfFailed();
  }

  /** After a failure: let the calls in flight settle (so `written` is final), then fail with the whole story. */
  private async throwIfFailed(): Promise<void> {
    if (this.failure === undefined) return;
    await Promise.allSettled(this.inFlight);
    const cause = this.failure;
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ImportWriteFailed(
      `${why}; ${this.written} items were written. The import is idempotent: re-run it when the table has write capacity, or with a lower --concurrency.`,
      { cause },
    );
  }

  private async dispatch(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    const p: Promise<void> = this.writeBatch(batch)
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    await this.throwIfFailed();
  }

  private async writeBatch(batch: readonly SinkItem[]): Promise<void> {
    const table = this.options.tableName;
    const byKey = new Map(batch.map((b) => [keyOf(b.item, this.options.key), b]));
    let pending: WriteRequest[] = batch.map((b) => ({ PutRequest: { Item: b.item } }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      // Another batch failed the import: stop retrying; the error tells the user to re-run.
      if (attempt > 1 && this.failure !== undefined) return;
      if (attempt > this.maxAttempts) {
        const left = pending.flatMap(
          (r) => byKey.get(keyOf(r.PutRequest?.Item ?? {}, this.options.key)) ?? [],
        );
        throw new Error(
          `${pending.length} items (from lines ${linesOf(left)}) stayed unprocessed after ${this.maxAttempts} BatchWriteItem attempts (the table is short of write capacity)`,
        );
      }
      if (attempt > 1) {
        this.retries += 1;
        // Full jitter: a random wait up to base * 2^(attempt - 1), capped.
        await this.sleep(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      }
      this.calls += 1;
      // Loaded with the first write, not with this module: it is part of the package's public entry,
      // which a project config importing `dynamo-loadtest` loads at every CLI start.
      const { BatchWriteItemCommand } = await dynamoSdk();
      try {
        const out = await this.options.client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
        );
        const left = out.UnprocessedItems?.[table] ?? [];
        this.written += pending.length - left.length;
        pending = left;
      } catch (err) {
        // Every item of the call was throttled: all of it is still pending.
        if (isThrottle(err)) continue;
        throw new Error(
          `BatchWriteItem failed for the items from lines ${linesOf(batch)}: ${(err as Error).message ?? err}`,
          { cause: err },
        );
      }
    }
  }
}

// --- capacity, before a run -----------------------------------------------------------------------

/**
 * Writes nothing: counts the write capacity the items would consume (DynamoDB's rules, as the
 * capacity gate applies them): 1 WCU per KB of each item, plus each index the item lands in.
 */
export class CapacitySink implements Sink {
  written = 0;
  tableUnits = 0;
  readonly indexUnits: Record<string, number> = {};

  constructor(
    private readonly table: TableKeys,
    private readonly indexes: readonly IndexShape[] = [],
  ) {
    for (const i of indexes) this.indexUnits[i.name] = 0;
  }

  async add({ item }: SinkItem): Promise<void> {
    this.written += 1;
    this.tableUnits += writeUnits(0, itemSize(item));
    for (const index of this.indexes) {
      this.indexUnits[index.name] =
        (this.indexUnits[index.name] ?? 0) + indexWrites(undefined, item, index, this.table).units;
    }
  }

  async finish(): Promise<void> {}

  get totalUnits(): number {
    return this.tableUnits + Object.values(this.indexUnits).reduce((s, n) => s + n, 0);
  }
}

// --- DynamoDB import from S3 ---------------------------------------------------------------------

export interface S3ExportOptions {
  /** Uncompressed bytes per file at most (a file always takes at least one item). */
  readonly maxFileBytes?: number;
  /**
   * File name prefix (default `data`): `<prefix>-00000.json.gz`, ... One per entity lets users,
   * products and orders share a folder, and so one S3 prefix and one import-table.
   */
  readonly prefix?: string;
}

const CHUNK_BYTES = 1024 * 1024;

const filePattern = (prefix: string) =>
  new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5}\\.json\\.gz$`);

/**
 * Files for DynamoDB's import from S3, DYNAMODB_JSON format with GZIP compression: one
 * `{"Item":{...}}` a line, in `data-00000.json.gz`, `data-00001.json.gz`, ... of bounded size.
 */
export class S3ExportSink implements Sink {
  written = 0;
  readonly files: string[] = [];
  private gzip: Gzip | undefined;
  private done: Promise<void> | undefined;
  private failure: unknown;
  private bytes = 0;
  /** Lines not yet handed to gzip: writing ~1 MB at a time keeps zlib busy instead of waiting on drains. */
  private chunk: string[] = [];
  private chunkBytes = 0;
  private readonly maxFileBytes: number;
  private readonly prefix: string;

  private constructor(
    private readonly dir: string,
    options: S3ExportOptions,
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    this.prefix = options.prefix ?? 'data';
  }

  /** Creates the folder and removes files of an earlier export with this prefix (an import reads them all). */
  static async create(dir: string, options: S3ExportOptions = {}): Promise<S3ExportSink> {
    await mkdir(dir, { recursive: true });
    const pattern = filePattern(options.prefix ?? 'data');
    for (const f of await readdir(dir)) if (pattern.test(f)) await rm(join(dir, f));
    return new S3ExportSink(dir, options);
  }

  async add({ item }: SinkItem): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const line = `${JSON.stringify({ Item: item })}\n`;
    const size = Buffer.byteLength(line);
    if (this.gzip && this.bytes > 0 && this.bytes + size > this.maxFileBytes) await this.close();
    if (!this.gzip) this.open();
    this.bytes += size;
    this.written += 1;
    this.chunk.push(line);
    this.chunkBytes += size;
    if (this.chunkBytes >= CHUNK_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    const gzip = this.gzip;
    if (!gzip || this.chunk.length === 0) return;
    const text = this.chunk.join('');
    this.chunk = [];
    this.chunkBytes = 0;
    if (!gzip.write(text)) await new Promise<void>((r) => gzip.once('drain', r));
  }

  async finish(): Promise<void> {
    await this.close();
  }

  private open(): void {
    const path = join(this.dir, `${this.prefix}-${String(this.files.length).padStart(5, '0')}.json.gz`);
    this.files.push(path);
    const gzip = createGzip();
    this.gzip = gzip;
    // Errors (a full disk) surface on the next add or at close, never as an unhandled rejection.
    this.done = pipeline(gzip, createWriteStream(path)).catch((err) => {
      this.failure ??= err;
      gzip.emit('drain');
    });
    this.bytes = 0;
  }

  private async close(): Promise<void> {
    const { gzip, done } = this;
    if (!gzip) return;
    await this.flush();
    this.gzip = undefined;
    this.done = undefined;
    gzip.end();
    await done;
    if (this.failure !== undefined) throw this.failure;
  }
}
