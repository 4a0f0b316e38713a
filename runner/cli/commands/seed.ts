import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  bulkWrite,
  createDynamoClients,
  DEFAULT_TABLE_NAME,
  ensureTable,
  generateSeed,
} from '../../../app/index.js';
import { writeSeedFile } from '../../../local/index.js';
import { RunFailed, UsageError } from '../errors.js';
import { readStackFile } from '../stack-file.js';

interface SeedArgs {
  users: number;
  products: number;
  orders: number;
  seed: number;
  target: string;
  dynamodbEndpoint?: string;
  table?: string;
  csv?: string;
  stateDir: string;
}

/** `loadtest seed`: deterministic synthetic data, BatchWriteItem 25 at a time, into the running stack or an endpoint. */
export const seedCommand: CommandModule<object, SeedArgs> = {
  command: 'seed',
  describe:
    'Write synthetic users, products (Zipf popularity) and orders; the same --seed gives the same data',
  builder: (y: Argv) =>
    y
      .option('users', { type: 'number', default: 100 })
      .option('products', { type: 'number', default: 200 })
      .option('orders', { type: 'number', default: 0 })
      .option('seed', {
        type: 'number',
        default: 42,
        describe: 'Same seed, same data: a re-run overwrites, never duplicates',
      })
      .option('target', {
        type: 'string',
        default: 'local',
        describe: 'local: the stack from `loadtest up`, or --dynamodb-endpoint',
      })
      .option('dynamodb-endpoint', { type: 'string', describe: 'Write to this DynamoDB-compatible endpoint' })
      .option('table', {
        type: 'string',
        describe: `Table name (default: the running stack's, else ${DEFAULT_TABLE_NAME})`,
      })
      .option('csv', {
        type: 'string',
        describe: 'Write email,token for every user here (tokens need a running `loadtest up`)',
      })
      .option('state-dir', { type: 'string', default: '.loadtest' })
      .strict() as unknown as Argv<SeedArgs>,
  handler: async (args: ArgumentsCamelCase<SeedArgs>) => {
    if (args.target !== 'local')
      throw new UsageError(`--target ${args.target}: only "local" is available in this version`);
    for (const flag of ['users', 'products', 'orders'] as const) {
      const v = args[flag];
      if (!Number.isInteger(v) || v < 0 || v > 1_000_000)
        throw new UsageError(`--${flag}: expected a whole number 0-1000000, got ${v}`);
    }
    if (!Number.isInteger(args.seed))
      throw new UsageError(`--seed: expected a whole number, got ${args.seed}`);
    if (args.orders > 0 && (args.users === 0 || args.products === 0)) {
      throw new UsageError('--orders needs at least one user and one product');
    }
    const stack = await readStackFile(args.stateDir);
    const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
    if (!endpoint) {
      throw new RunFailed(
        'no DynamoDB to seed: start the stack with `loadtest up`, or pass --dynamodb-endpoint URL',
      );
    }
    const tableName = args.table ?? stack?.tableName ?? DEFAULT_TABLE_NAME;
    const { raw, doc } = createDynamoClients({ endpoint });
    try {
      await ensureTable(raw, tableName);
      const data = generateSeed({
        users: args.users,
        products: args.products,
        orders: args.orders,
        seed: args.seed,
      });
      const started = Date.now();
      const tty = Boolean(process.stderr.isTTY);
      let shown = -1;
      const result = await bulkWrite(doc, tableName, data.items, {
        onProgress: (written, total) => {
          const pct = Math.floor((written / total) * 100);
          if (tty) {
            const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
            process.stderr.write(`\r[${bar}] ${pct}% ${written}/${total} items`);
          } else if (pct >= shown + 10 || written === total) {
            shown = pct;
            process.stderr.write(`${pct}% ${written}/${total} items\n`);
          }
        },
      });
      if (tty) process.stderr.write('\n');
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `seeded ${tableName} at ${endpoint}: ${data.users.length} users, ${data.products.length} products, ${data.orders.length} orders = ${result.written} items in ${result.calls} BatchWriteItem calls (${result.retries} retries), ${seconds.toFixed(1)} s, ${Math.round(result.written / Math.max(seconds, 0.001))} items/s`,
      );
      // Tokens come from the running app (its signing key never leaves that process).
      const mint = stack?.appUrl
        ? async (email: string) => {
            const res = await fetch(`${stack.appUrl}/api/dev/token`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ email }),
            });
            if (!res.ok)
              throw new RunFailed(
                `could not get a token for ${email} from ${stack.appUrl}: HTTP ${res.status}`,
              );
            return ((await res.json()) as { token: string }).token;
          }
        : undefined;
      if (stack?.appUrl && mint && !args.dynamodbEndpoint) {
        const file = join(args.stateDir, 'seed.json');
        await writeSeedFile(file, stack.appUrl, data, mint);
        console.log(`scenarios will use these users and products: ${file}`);
      }
      if (args.csv) {
        if (!mint)
          console.error('note: no running `loadtest up` app to issue tokens; the CSV has emails only');
        const rows = await Promise.all(
          data.users.map(async (u) => `${u.email},${mint ? await mint(u.email) : ''}`),
        );
        await mkdir(dirname(args.csv), { recursive: true });
        await writeFile(args.csv, `email,token\n${rows.join('\n')}\n`);
        console.log(`users: ${args.csv}`);
      }
    } finally {
      raw.destroy();
    }
  },
};
