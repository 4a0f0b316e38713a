/**
 * Seeding throughput: `loadtest seed`'s writer (bulkWrite: 25 items a call, 8 calls in flight,
 * UnprocessedItems retried with backoff, progress) against a bare BatchWriteItem loop with the same
 * batch size and the same 8 calls in flight, on the same DynamoDB Local, in the same process. Both
 * write the same generated items into the same table each round; rounds alternate which side goes
 * first and the ratio is the median of the paired per-round ratios. DynamoDB Local is warmed up with
 * a few unmeasured rounds first (its JIT speeds it up a lot over the first seconds).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { bulkWrite, createDynamoClients, createTableInput, generateSeed } from '../app/index.js';
import { startDynamoDBLocal } from '../local/index.js';
import { bareBatchWrite } from './bare-write.js';
import { median } from './stats.js';
import type { BenchSection, SectionRow } from './types.js';

const ROUNDS = Number(process.env.BENCH_SEED_ROUNDS ?? 6);
const WARMUP_ROUNDS = Number(process.env.BENCH_SEED_WARMUP ?? 3);
const CONCURRENCY = 8;

export const seedThroughput: BenchSection = {
  id: 'seed-throughput',
  title: 'seeding throughput vs bare BatchWriteItem',
  async run(ctx) {
    const ddb = await startDynamoDBLocal();
    const { raw, doc } = createDynamoClients({ endpoint: ddb.endpoint });
    try {
      const items = generateSeed({ users: 1000, products: 2000, orders: 700, seed: 1 }).items;
      // Both sides write the same items into one table, again each round (same keys: overwrites), so
      // the two do exactly the same work in DynamoDB Local. Fresh tables each round would not do:
      // DynamoDB Local slows down with every table (and its stream) it holds.
      const table = 'bench-seed';
      await raw.send(new CreateTableCommand(createTableInput(table)));
      const tables = { ours: table, bare: table };
      const ours = async () => {
        const table = tables.ours;
        const t0 = performance.now();
        const r = await bulkWrite(doc, table, items, { concurrency: CONCURRENCY, onProgress: () => {} });
        return { perSec: (r.written / (performance.now() - t0)) * 1000, written: r.written };
      };
      const bare = async () => {
        const table = tables.bare;
        const t0 = performance.now();
        const written = await bareBatchWrite(items, CONCURRENCY, async (batch) => {
          const out = await doc.send(
            new BatchWriteCommand({
              RequestItems: { [table]: batch.map((Item) => ({ PutRequest: { Item } })) },
            }),
          );
          return out.UnprocessedItems?.[table]?.length ?? 0;
        });
        return { perSec: (written / (performance.now() - t0)) * 1000, written };
      };
      for (let i = 0; i < WARMUP_ROUNDS && !ctx.signal.aborted; i += 1) {
        await bare();
        await ours();
      }
      const ratios: number[] = [];
      const oursRates: number[] = [];
      const bareRates: number[] = [];
      let short = 0;
      for (let i = 0; i < ROUNDS && !ctx.signal.aborted; i += 1) {
        // Alternate which side goes first so drift cancels.
        let o: Awaited<ReturnType<typeof ours>>;
        let w: Awaited<ReturnType<typeof bare>>;
        if (i % 2 === 0) {
          o = await ours();
          w = await bare();
        } else {
          w = await bare();
          o = await ours();
        }
        if (o.written !== items.length || w.written !== items.length) short += 1;
        oursRates.push(o.perSec);
        bareRates.push(w.perSec);
        ratios.push(o.perSec / w.perSec);
        ctx.log(
          `seed-throughput round ${i + 1}: ours ${o.perSec.toFixed(0)} items/s, bare ${w.perSec.toFixed(0)} items/s`,
        );
      }
      const row: SectionRow = {
        name: `loadtest seed writer / bare BatchWriteItem (${items.length} items, ${CONCURRENCY} in flight)`,
        unit: 'items/s',
        value: Math.round(median(oursRates)),
        baseline: Math.round(median(bareRates)),
        ratio: median(ratios),
        goal: { op: '>=', ratio: 0.9 },
        valid: short === 0 && ratios.length > 0,
        notes: [
          `rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
          ...(short > 0 ? [`INVALID: ${short} round(s) left items unwritten`] : []),
        ],
      };
      return [row];
    } finally {
      raw.destroy();
      await ddb.stop();
    }
  },
};
