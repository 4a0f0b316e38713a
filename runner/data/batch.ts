import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ImportSummary, importRows, RejectsList, type RowMapper } from './import.js';
import { ejsonValue, type SourceRow } from './read.js';
import { DynamoSink } from './sinks.js';
import type { KeyLimit } from './values.js';

/**
 * The distributed import's Lambda, as a pure core over injected clients: Step Functions' Distributed
 * Map reads the dump from S3 (JSON lines or CSV), batches rows and hands each batch here, and this
 * runs the very code `loadtest import` runs (importRows: the project's mapping, checks, DynamoSink's
 * BatchWriteItem with backoff). Rejects go back to S3 next to the results; a last call sums them up.
 */

/** One row as the map's ItemSelector hands it: the row and its 0-based index in the file. */
export interface BatchItem {
  readonly row: unknown;
  readonly index: number;
}

/** What the Distributed Map's ItemBatcher gives each child: its rows, and the same BatchInput for all. */
export interface BatchEvent {
  readonly Items: readonly BatchItem[];
  readonly BatchInput: {
    readonly entity: string;
    /** The dump file's key: names the source in rejects. */
    readonly key: string;
    /** csv: the header is line 1, so row i is on line i + 2; jsonl: line i + 1. */
    readonly format: 'jsonl' | 'csv';
    /** Where rejects go: `<rejectsPrefix><first line>.jsonl`. */
    readonly rejectsPrefix: string;
    readonly params?: Readonly<Record<string, string>>;
  };
}

export interface BatchResult {
  readonly rows: number;
  readonly written: number;
  readonly rejected: number;
  readonly byType: Record<string, number>;
  /** The S3 key of this batch's rejects, if any. */
  readonly rejectsKey?: string;
}

/** The map's ResultWriter manifest, only what the summary reads. */
export interface ResultManifest {
  readonly ResultFiles?: {
    readonly SUCCEEDED?: readonly { readonly Key: string }[];
    readonly FAILED?: readonly { readonly Key: string }[];
  };
}

/** The last state's input: where the map's ResultWriter put its manifest. */
export interface SummaryEvent {
  readonly summarize: { readonly manifestKey: string; readonly summaryKey: string };
}

export interface ImportSummaryReport {
  readonly batches: number;
  readonly failedBatches: number;
  readonly rows: number;
  readonly written: number;
  readonly rejected: number;
  readonly byType: Record<string, number>;
  readonly rejectsKeys: readonly string[];
}

/** The bucket, as the handler needs it (the Lambda entry adapts an S3Client to it). */
export interface ObjectStore {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
}

export interface BatchHandlerDeps {
  readonly mapper: RowMapper;
  readonly dynamo: DynamoDBClient;
  readonly store: ObjectStore;
  readonly tableName: string;
  readonly key: { readonly partitionKey: string; readonly sortKey?: string };
  readonly limits: readonly KeyLimit[];
  /** BatchWriteItem calls in flight per batch. */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

/** BatchWriteItem calls one batch's Lambda keeps in flight (the stack states the capacity this asks for). */
export const BATCH_WRITES_IN_FLIGHT = 4;

export class ImportBatchError extends Error {
  override name = 'ImportBatchError';
}

async function* rowsOf(event: BatchEvent): AsyncGenerator<SourceRow> {
  const offset = event.BatchInput.format === 'csv' ? 2 : 1;
  for (const item of event.Items) {
    const line = item.index + offset;
    const raw = JSON.stringify(item.row);
    try {
      const value = ejsonValue(item.row);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        // The CSV reader gives "" for an empty cell; loadtest import reads it as absent.
        const row =
          event.BatchInput.format === 'csv'
            ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== ''))
            : (value as Record<string, unknown>);
        yield { line, raw, value: row };
      } else yield { line, raw, error: 'expected a JSON object' };
    } catch (err) {
      yield { line, raw, error: `not valid Extended JSON: ${(err as Error).message}` };
    }
  }
}

/** One batch of rows into the table; its rejects (line, field, reason, raw) to one S3 object. */
export async function importBatch(event: BatchEvent, deps: BatchHandlerDeps): Promise<BatchResult> {
  const input = event.BatchInput;
  if (!deps.mapper.entities.includes(input.entity)) {
    throw new ImportBatchError(
      `entity "${input.entity}" is not one of the mapping's: ${deps.mapper.entities.join(', ')}`,
    );
  }
  const rejects = new RejectsList();
  const sink = new DynamoSink({
    client: deps.dynamo,
    tableName: deps.tableName,
    key: deps.key,
    concurrency: deps.concurrency ?? BATCH_WRITES_IN_FLIGHT,
  });
  const summary: ImportSummary = await importRows(rowsOf(event), rejects, {
    source: input.key,
    entity: input.entity,
    mapper: deps.mapper,
    key: deps.key,
    limits: deps.limits,
    sink,
    ...(input.params ? { params: input.params } : {}),
    ...(deps.now ? { now: deps.now() } : {}),
  });
  let rejectsKey: string | undefined;
  if (rejects.count > 0) {
    rejectsKey = `${input.rejectsPrefix}${rejects.rejects[0]?.line ?? 0}.jsonl`;
    await deps.store.put(rejectsKey, rejects.rejects.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  return {
    rows: summary.rows,
    written: summary.written,
    rejected: summary.rejected,
    byType: summary.byType,
    ...(rejectsKey ? { rejectsKey } : {}),
  };
}

/** The map's results (ResultWriter's manifest and files) summed into one report, also written to S3. */
export async function summarizeImport(event: SummaryEvent, store: ObjectStore): Promise<ImportSummaryReport> {
  const manifest = JSON.parse(await store.get(event.summarize.manifestKey)) as ResultManifest;
  const byType: Record<string, number> = {};
  const rejectsKeys: string[] = [];
  let batches = 0;
  let rows = 0;
  let written = 0;
  let rejected = 0;
  let failedBatches = 0;
  for (const f of manifest.ResultFiles?.FAILED ?? []) {
    const file = JSON.parse(await store.get(f.Key)) as unknown[];
    failedBatches += Array.isArray(file) ? file.length : 0;
  }
  for (const f of manifest.ResultFiles?.SUCCEEDED ?? []) {
    const results = JSON.parse(await store.get(f.Key)) as { Output?: string }[];
    for (const r of results) {
      const out = JSON.parse(r.Output ?? '{}') as Partial<BatchResult>;
      batches += 1;
      rows += out.rows ?? 0;
      written += out.written ?? 0;
      rejected += out.rejected ?? 0;
      for (const [t, n] of Object.entries(out.byType ?? {})) byType[t] = (byType[t] ?? 0) + n;
      if (out.rejectsKey) rejectsKeys.push(out.rejectsKey);
    }
  }
  const report = { batches, failedBatches, rows, written, rejected, byType, rejectsKeys: rejectsKeys.sort() };
  await store.put(event.summarize.summaryKey, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** The Lambda's handler: a batch from the map, or the summary at the end. */
export function importBatchHandler(deps: () => BatchHandlerDeps) {
  return (event: BatchEvent | SummaryEvent): Promise<BatchResult | ImportSummaryReport> => {
    const d = deps();
    return 'summarize' in event ? summarizeImport(event, d.store) : importBatch(event, d);
  };
}
