/**
 * Import throughput, two rows:
 *
 * 1. `loadtest import` with the shop's mapping on (read mongoexport Extended JSON lines, map, check,
 *    marshal, DynamoSink's BatchWriteItem with retries) against a bare BatchWriteItem loop writing the
 *    same items (mapped once beforehand), 25 a call and the same 8 calls in flight, on the same
 *    DynamoDB Local, in the same process. Paired rounds alternate which goes first; the ratio is the
 *    median of the per-round ratios. Goal >= 0.9: the mapping costs at most a tenth.
 * 2. `--workers 2` against `--workers 1` (ImportWorkers, the code the CLI runs: worker processes on the
 *    same file), both pools started and warmed up before any round is timed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { EJSON } from 'bson';
import { shopImport } from '../app/data/import-map.js';
import { createDynamoClients, ensureTable, tableDefinition } from '../app/index.js';
import { startDynamoDBLocal } from '../local/index.js';
import { ImportWorkers } from '../runner/cli/import-workers.js';
import {
  DynamoSink,
  ejsonValue,
  importFile,
  keyLimits,
  type MarshalledItem,
  marshallItem,
} from '../runner/data/index.js';
import { DEFAULT_PROJECT_FILE } from '../runner/project/index.js';
import { shopProducts, shopUsers } from '../test/helpers/mongodump.js';
import { bareBatchWrite } from './bare-write.js';
import { median } from './stats.js';
import type { BenchSection, SectionRow } from './types.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 3000);
const ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? 6);
const WARMUP_ROUNDS = Number(process.env.BENCH_IMPORT_WARMUP ?? 3);
const CONCURRENCY = 8;
const NOW = new Date('2024-06-01T00:00:00.000Z');

const key = { partitionKey: tableDefinition.partitionKey.name, sortKey: tableDefinition.sortKey.name };
const limits = keyLimits({
  ...key,
  indexes: tableDefinition.indexes.map((i) => ({
    partitionKey: i.partitionKey.name,
    sortKey: i.sortKey.name,
  })),
});

/** Paired rounds of two sides; alternating who goes first so drift cancels. */
async function paired(
  rounds: number,
  signal: AbortSignal,
  a: () => Promise<number>,
  b: () => Promise<number>,
  log: (l: string) => void,
): Promise<{ as: number[]; bs: number[]; ratios: number[] }> {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds && !signal.aborted; i += 1) {
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
    log(`round ${i + 1}: ${x.toFixed(0)} vs ${y.toFixed(0)} items/s`);
  }
  return { as, bs, ratios };
}

/** A row from paired rounds: medians, the per-round ratios in the notes, invalid if any run fell short. */
function row(
  name: string,
  r: { as: number[]; bs: number[]; ratios: number[] },
  goal: number,
  short: number,
  notes: string[],
): SectionRow {
  return {
    name,
    unit: 'items/s',
    value: Math.round(median(r.as)),
    baseline: Math.round(median(r.bs)),
    ratio: median(r.ratios),
    goal: { op: '>=', ratio: goal },
    valid: short === 0 && r.ratios.length > 0,
    notes: [
      `rounds ${r.ratios.map((x) => x.toFixed(2)).join(' ')}`,
      ...notes,
      ...(short > 0 ? [`INVALID: ${short} run(s) left items unwritten`] : []),
    ],
  };
}

export const importThroughput: BenchSection = {
  id: 'import-throughput',
  title: 'import with the mapping vs bare BatchWriteItem; --workers 2 vs 1',
  async run(ctx) {
    const ddb = await startDynamoDBLocal();
    const { raw } = createDynamoClients({ endpoint: ddb.endpoint });
    const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
    const table = 'bench-import';
    try {
      await ensureTable(raw, table);
      const products = shopProducts(ROWS, shopUsers(20));
      const file = join(dir, 'products.json');
      await writeFile(
        file,
        `${products.map((p, i) => EJSON.stringify(p as unknown as Record<string, unknown>, { relaxed: i % 2 === 1 })).join('\n')}\n`,
      );
      // The bare side's items: exactly what the mapping makes of the file, marshalled once, up front.
      const items: MarshalledItem[] = [];
      for (const p of products) {
        const row = JSON.parse(EJSON.stringify(p as unknown as Record<string, unknown>)) as Record<
          string,
          unknown
        >;
        const mapped = shopImport.map('product', ejsonValue(row) as Record<string, unknown>, {
          now: NOW.toISOString(),
        });
        if (!mapped.ok) throw new Error(`bench fixture row rejected: ${mapped.error}`);
        items.push(...mapped.items.map(marshallItem));
      }
      let short = 0;
      const ours = async () => {
        const t0 = performance.now();
        const sink = new DynamoSink({ client: raw, tableName: table, key, concurrency: CONCURRENCY });
        const s = await importFile({
          file,
          entity: 'product',
          format: 'jsonl',
          mapper: shopImport,
          key,
          limits,
          sink,
          rejectsPath: join(dir, 'rejects.jsonl'),
          now: NOW,
        });
        if (s.written !== items.length) short += 1;
        return (s.written / (performance.now() - t0)) * 1000;
      };
      const bare = async () => {
        const t0 = performance.now();
        const written = await bareBatchWrite(items, CONCURRENCY, async (batch) => {
          const out = await raw.send(
            new BatchWriteItemCommand({
              RequestItems: { [table]: batch.map((Item) => ({ PutRequest: { Item } })) },
            }),
          );
          return out.UnprocessedItems?.[table]?.length ?? 0;
        });
        if (written !== items.length) short += 1;
        return (written / (performance.now() - t0)) * 1000;
      };
      for (let i = 0; i < WARMUP_ROUNDS && !ctx.signal.aborted; i += 1) {
        await bare();
        await ours();
      }
      short = 0;
      const mapping = await paired(ROUNDS, ctx.signal, ours, bare, (l) => ctx.log(`mapping vs bare ${l}`));
      const rows: SectionRow[] = [
        row(
          `loadtest import, shop mapping on / bare BatchWriteItem of the same items (${items.length} items, ${CONCURRENCY} in flight)`,
          mapping,
          0.9,
          short,
          [],
        ),
      ];

      // --workers: the CLI's pool, on the same file and table, each pool warmed up first.
      const pools = { one: new ImportWorkers(1), two: new ImportWorkers(2) };
      try {
        let shortW = 0;
        const job = {
          config: DEFAULT_PROJECT_FILE,
          table,
          file,
          entity: 'product',
          format: 'jsonl' as const,
          endpoint: ddb.endpoint,
          concurrency: CONCURRENCY,
          maxAttempts: 10,
          now: NOW.toISOString(),
        };
        const withPool = (pool: ImportWorkers) => async () => {
          const t0 = performance.now();
          const s = await pool.importFile(job, join(dir, `rejects-${pool.count}.jsonl`));
          if (s.written !== items.length) shortW += 1;
          return (s.written / (performance.now() - t0)) * 1000;
        };
        for (let i = 0; i < 2 && !ctx.signal.aborted; i += 1) {
          await withPool(pools.one)();
          await withPool(pools.two)();
        }
        shortW = 0;
        const workers = await paired(ROUNDS, ctx.signal, withPool(pools.two), withPool(pools.one), (l) =>
          ctx.log(`workers 2 vs 1 ${l}`),
        );
        // Reported, not promised: both sides write to one DynamoDB Local on the same cores.
        rows.push(
          row(
            `loadtest import --workers 2 / --workers 1 (${items.length} items, ${CONCURRENCY} in flight per worker)`,
            workers,
            1,
            shortW,
            ['every worker reads and maps every row, writes its share'],
          ),
        );
      } finally {
        pools.one.close();
        pools.two.close();
      }
      return rows;
    } finally {
      raw.destroy();
      await ddb.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
