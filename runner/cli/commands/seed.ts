import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  bulkWrite,
  createDynamoClients,
  DEFAULT_TABLE_NAME,
  ensureTable,
  generateSeed,
} from '../../../app/index.js';
import { writeSeedFile } from '../../../local/index.js';
import { awsRegion, deploymentTokens, readDeployment } from '../aws-stack.js';
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
  stack?: string;
  awsRegion?: string;
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
        describe:
          'local: the stack from `loadtest up`, or --dynamodb-endpoint; aws: the table of a deployed --stack',
      })
      .option('stack', {
        type: 'string',
        describe: 'With --target aws: the deployed CDK app (its stackName)',
      })
      .option('aws-region', {
        type: 'string',
        describe: 'With --target aws: its region (default AWS_REGION)',
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
    if (args.target !== 'local' && args.target !== 'aws')
      throw new UsageError(`--target: expected local or aws, got "${args.target}"`);
    if (args.target === 'aws' && !args.stack) throw new UsageError('--target aws needs --stack <name>');
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
    const target = args.target === 'aws' ? await awsTable(args) : await localTable(args);
    const { raw, doc, tableName, where, mint } = target;
    try {
      // A deployed table exists already (CDK made it); only a local one may need creating.
      if (args.target === 'local') await ensureTable(raw, tableName);
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
        `seeded ${tableName} at ${where}: ${data.users.length} users, ${data.products.length} products, ${data.orders.length} orders = ${result.written} items in ${result.calls} BatchWriteItem calls (${result.retries} retries), ${seconds.toFixed(1)} s, ${Math.round(result.written / Math.max(seconds, 0.001))} items/s`,
      );
      if (target.seedFile && mint) {
        await writeSeedFile(target.seedFile.path, target.seedFile.appUrl, data, mint);
        console.log(`scenarios will use these users and products: ${target.seedFile.path}`);
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
    } catch (err) {
      throw clearError(err, where);
    } finally {
      raw.destroy();
    }
  },
};

/** AWS and DynamoDB errors (access denied, missing table, credentials) as one line naming the target. */
function clearError(err: unknown, where: string): Error {
  if (err instanceof RunFailed || err instanceof UsageError) return err;
  const e = err as { name?: string; message?: string };
  return new RunFailed(`seeding ${where}: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`, { cause: err });
}

interface SeedTarget {
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  where: string;
  /** Signs a token for a user, when something can (the running app, or the stack's secret). */
  mint: ((email: string) => Promise<string>) | undefined;
  seedFile?: { path: string; appUrl: string };
}

async function localTable(args: SeedArgs): Promise<SeedTarget> {
  const stack = await readStackFile(args.stateDir);
  const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
  if (!endpoint) {
    throw new RunFailed(
      'no DynamoDB to seed: start the stack with `loadtest up`, or pass --dynamodb-endpoint URL',
    );
  }
  const { raw, doc } = createDynamoClients({ endpoint });
  // Tokens come from the running app (its signing key never leaves that process).
  const mint = stack?.appUrl
    ? async (email: string) => {
        const res = await fetch(`${stack.appUrl}/api/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email }),
        });
        if (!res.ok)
          throw new RunFailed(`could not get a token for ${email} from ${stack.appUrl}: HTTP ${res.status}`);
        return ((await res.json()) as { token: string }).token;
      }
    : undefined;
  return {
    raw,
    doc,
    tableName: args.table ?? stack?.tableName ?? DEFAULT_TABLE_NAME,
    where: endpoint,
    mint,
    ...(stack?.appUrl && !args.dynamodbEndpoint
      ? { seedFile: { path: join(args.stateDir, 'seed.json'), appUrl: stack.appUrl } }
      : {}),
  };
}

/** The deployed stack's table, with the default credentials; tokens signed with the stack's secret. */
async function awsTable(args: SeedArgs): Promise<SeedTarget> {
  const region = awsRegion(args.awsRegion);
  const stack = args.stack ?? '';
  const outputs = await readDeployment(stack, region);
  const tokens = await deploymentTokens(stack, outputs, region);
  const { raw, doc } = createDynamoClients({ region });
  return {
    raw,
    doc,
    tableName: args.table ?? outputs.tableName,
    where: `stack ${stack} (${region})`,
    mint: (email) => tokens.sign(email),
  };
}
