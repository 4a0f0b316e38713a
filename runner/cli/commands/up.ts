import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { seedUserEmail } from '../../../app/index.js';
import { startEmbeddedStack, writeStackSeedFile } from '../../../local/index.js';
import { UsageError } from '../errors.js';

interface UpArgs {
  port: number;
  dynamodbEndpoint?: string;
  persist?: string;
  products: number;
  users: number;
  stateDir: string;
}

export const STACK_FILE = 'stack.json';

/** Find out before starting DynamoDB Local and seeding, not after. */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(
              `--port: 127.0.0.1:${port} is already in use (another loadtest up?); pick another with --port N, or 0 for any`,
            )
          : err,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** `loadtest up`: start the embedded stack and keep it up until Ctrl-C or SIGTERM. */
export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'Start the embedded stack (DynamoDB Local + seeded shop app) and keep it running',
  builder: (y: Argv) =>
    y
      .option('port', {
        type: 'number',
        default: 8080,
        describe: 'App port on 127.0.0.1 (0 = any free port)',
      })
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'Use this DynamoDB-compatible endpoint instead of DynamoDB Local',
      })
      .option('persist', {
        type: 'string',
        describe: 'Keep DynamoDB Local data on disk in this folder (default .loadtest/data when given bare)',
      })
      .option('products', { type: 'number', default: 60, describe: 'Products to seed' })
      .option('users', { type: 'number', default: 20, describe: 'Users to seed' })
      .option('state-dir', { type: 'string', default: '.loadtest', describe: 'Where stack.json is written' })
      .strict() as unknown as Argv<UpArgs>,
  handler: async (args: ArgumentsCamelCase<UpArgs>) => {
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
      throw new UsageError(`--port: expected a port number 0-65535, got ${args.port}`);
    }
    for (const flag of ['products', 'users'] as const) {
      if (!Number.isInteger(args[flag]) || args[flag] < 0 || args[flag] > 100_000) {
        throw new UsageError(`--${flag}: expected a whole number 0-100000, got ${args[flag]}`);
      }
    }
    if (args.dynamodbEndpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(args.dynamodbEndpoint)) {
      throw new UsageError(`--dynamodb-endpoint: expected an http(s) URL, got "${args.dynamodbEndpoint}"`);
    }
    if (args.port !== 0) await assertPortFree(args.port);
    const persistDir =
      args.persist === undefined
        ? undefined
        : resolve(args.persist === '' ? join(args.stateDir, 'data') : args.persist);
    if (persistDir) await mkdir(persistDir, { recursive: true });
    const stack = await startEmbeddedStack({
      port: args.port,
      ...(args.dynamodbEndpoint ? { dynamodbEndpoint: args.dynamodbEndpoint } : {}),
      ...(persistDir ? { persistDir } : {}),
      seed: { products: args.products, users: args.users },
      log: (line) => console.log(line),
    });
    const stateFile = join(args.stateDir, STACK_FILE);
    await mkdir(args.stateDir, { recursive: true });
    await writeFile(
      stateFile,
      `${JSON.stringify(
        {
          appUrl: stack.appUrl,
          dynamodbEndpoint: stack.dynamodbEndpoint,
          dynamodbPid: stack.dynamodbPid ?? null,
          tableName: stack.tableName,
          pid: process.pid,
          startedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    // Scenarios' processor reads users, tokens and products from here (plain `artillery run` too).
    const seedFile = join(args.stateDir, 'seed.json');
    await writeStackSeedFile(stack, seedFile);
    const email = stack.seeded?.users[0]?.email ?? seedUserEmail(0);
    console.log(`app: ${stack.appUrl}`);
    console.log(`token (${email}): ${await stack.tokens.sign(email)}`);
    console.log(`try: curl ${stack.appUrl}/api/products?limit=3`);
    console.log('Press Ctrl-C to stop.');

    await new Promise<void>((done) => {
      let stopping = false;
      const stop = async (why: string, code: number) => {
        if (stopping) return;
        stopping = true;
        console.log(`stopping (${why})...`);
        await stack.stop().catch((err) => console.error(err));
        await rm(stateFile, { force: true });
        await rm(seedFile, { force: true });
        process.exitCode = code;
        done();
      };
      process.once('SIGINT', () => void stop('SIGINT', 0));
      process.once('SIGTERM', () => void stop('SIGTERM', 0));
      stack.onFailure((reason) => {
        console.error(`error: ${reason}`);
        void stop(reason, 3);
      });
    });
  },
};
