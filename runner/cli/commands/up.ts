import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { GateAdmin, mergeCapacity, portTaken, startEmbeddedStack } from '../../../local/index.js';
import { CAPACITY_OPTIONS, type CapacityArgs, capacityFromFlags, withUnits } from '../capacity-flags.js';
import { checkEndpointFlag, given, UsageError } from '../errors.js';
import { OutputLog, projectFor, stackProjectOf } from '../project.js';
import { importProjectData } from '../project-data.js';
import { seedParams } from '../seed-params.js';
import { readStackFile, removeStackFile, writeStackFile } from '../stack-file.js';

interface UpArgs extends CapacityArgs {
  config?: string;
  port: number;
  gatePort: number;
  adminPort: number;
  dynamodbEndpoint?: string;
  persist?: string;
  app: boolean;
  stateDir: string;
  [param: string]: unknown;
}

/** Find out before starting DynamoDB Local and seeding, not after. */
async function assertPortFree(port: number, flag: string): Promise<void> {
  if (await portTaken(port)) {
    throw new UsageError(
      `${flag}: 127.0.0.1:${port} is already in use (another loadtest up?); pick another with ${flag} N, or 0 for any`,
    );
  }
}

const OWN_OPTIONS = new Set([
  'config',
  'port',
  'gatePort',
  'adminPort',
  'dynamodbEndpoint',
  'persist',
  'app',
  'stateDir',
  ...Object.keys(CAPACITY_OPTIONS).map((k) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())),
]);

/** `loadtest up`: start the embedded stack for the project and keep it up until Ctrl-C or SIGTERM. */
export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe:
    "Start the embedded stack (DynamoDB Local, the capacity gate, the project's tables, data and app) and keep it running",
  builder: (y: Argv) =>
    y
      .option('port', {
        type: 'number',
        default: 8080,
        describe: "The app's port on 127.0.0.1, when the project starts it on any port (0 = any free port)",
      })
      .option('gate-port', {
        type: 'number',
        default: 8000,
        describe: 'The capacity gate: the DynamoDB endpoint apps use (0 = any free port)',
      })
      .option('admin-port', {
        type: 'number',
        default: 0,
        describe: "The gate's admin endpoint (counters, reset; 0 = any free port)",
      })
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'Use this DynamoDB-compatible endpoint instead of DynamoDB Local',
      })
      .option('persist', {
        type: 'string',
        describe: 'Keep DynamoDB Local data on disk in this folder (default .loadtest/data when given bare)',
      })
      .option('app', {
        type: 'boolean',
        default: true,
        describe: "Start the project's app (--no-app: only DynamoDB, the gate, tables and data)",
      })
      .option('state-dir', { type: 'string', default: '.loadtest', describe: 'Where stack.json is written' })
      .options(CAPACITY_OPTIONS)
      // Options it does not know are the data command's parameters, not mistakes.
      .strict(false)
      .epilogue(
        "Other --name value options go to the project's data command as its parameters (LOADTEST_SEED), e.g. --users 50 --products 200.",
      ) as unknown as Argv<UpArgs>,
  handler: async (args: ArgumentsCamelCase<UpArgs>) => {
    for (const [flag, port] of [
      ['--port', args.port],
      ['--gate-port', args.gatePort],
      ['--admin-port', args.adminPort],
    ] as const) {
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`${flag}: expected a port number 0-65535, got ${given(flag, port)}`);
      }
      // --port is the app's, and only when it is started here on a port left to us: checked below.
      if (port !== 0 && flag !== '--port') await assertPortFree(port, flag);
    }
    // Two stacks in one state folder would share stack.json, fixtures.json and app.log: `run --url`
    // would read the second's gate while measuring the first's app, and the first to stop removes both.
    const running = await readStackFile(args.stateDir);
    if (running)
      throw new UsageError(
        `a stack is already up in ${resolve(args.stateDir)} (loadtest up, pid ${running.pid}, since ${running.startedAt}, endpoint ${running.endpoint}): stop it (Ctrl-C where it runs, or kill ${running.pid}), or give this one its own --state-dir`,
      );
    checkEndpointFlag('--dynamodb-endpoint', args.dynamodbEndpoint);
    const project = await projectFor(args.config);
    if (args.port !== 0 && args.app && project.app?.start?.port === 'auto')
      await assertPortFree(args.port, '--port');
    const seed = seedParams(args, OWN_OPTIONS);
    const capacity = withUnits(mergeCapacity(project.capacity, capacityFromFlags(args)), args);
    const persistDir =
      args.persist === undefined
        ? undefined
        : resolve(args.persist === '' ? join(args.stateDir, 'data') : args.persist);
    if (persistDir) await mkdir(persistDir, { recursive: true });
    const fixtures = resolve(args.stateDir, 'fixtures.json');
    const stackProject = stackProjectOf(project);
    const start = stackProject.app?.start;
    const output = new OutputLog(join(args.stateDir, 'app.log'));
    console.log(`project: ${project.name} (${project.file}${project.isDefault ? ', the default' : ''})`);
    const stack = await startEmbeddedStack({
      project: {
        ...stackProject,
        ...(stackProject.app
          ? {
              app: {
                ...stackProject.app,
                // --port fixes a port the project leaves to us.
                ...(start
                  ? {
                      start: {
                        ...start,
                        port: start.port === 'auto' && args.port !== 0 ? args.port : start.port,
                      },
                    }
                  : {}),
              },
            }
          : {}),
      },
      ...(args.dynamodbEndpoint ? { dynamodbEndpoint: args.dynamodbEndpoint } : {}),
      ...(persistDir ? { persistDir } : {}),
      gatePort: args.gatePort,
      adminPort: args.adminPort,
      startApp: args.app,
      fixturesFile: fixtures,
      seed,
      // Only with files to load: without, the data command can start with the stack (stack.ts).
      ...(project.data?.imports?.length
        ? {
            beforeData: (endpoint: string) =>
              importProjectData(project, endpoint, args.stateDir, (l) => console.log(l)),
          }
        : {}),
      log: (line) => console.log(line),
      output: (source, line) => {
        output.write(source, line);
        // What the data command says (counts, a token to try) is for the user; the app's goes to the log.
        if (source === 'data') console.log(`  ${line}`);
      },
    });
    if (stack.gateAdminUrl) await new GateAdmin(stack.gateAdminUrl).reset(capacity);
    const stateFile = await writeStackFile(args.stateDir, {
      version: 2,
      project: project.file,
      name: project.name,
      region: project.region,
      appUrl: stack.appUrl ?? null,
      endpoint: stack.endpoint,
      dynamodbEndpoint: stack.dynamodbEndpoint,
      gateAdminUrl: stack.gateAdminUrl ?? null,
      tables: stack.tables.map((t) => t.name),
      fixtures,
      pid: process.pid,
      dynamodbPid: stack.dynamodbPid ?? null,
      appPid: stack.appPid ?? null,
      startedAt: new Date().toISOString(),
    });
    if (stack.appPid !== undefined) console.log(`app output: ${output.path}`);
    console.log(`endpoint: ${stack.endpoint}  (DynamoDB for apps: through the capacity gate)`);
    console.log('Point an app at it (any language, any AWS SDK or the AWS CLI):');
    for (const [k, v] of Object.entries(stack.env)) console.log(`  export ${k}=${v}`);
    console.log(
      stack.appUrl
        ? `Then: npx loadtest run <scenario> --url ${stack.appUrl}   (live view: npx loadtest dashboard)`
        : 'Then start your app with those variables and: npx loadtest run <scenario> --url <its URL>   (live view: npx loadtest dashboard)',
    );
    console.log(`stack: ${stateFile}`);
    console.log('Press Ctrl-C to stop.');

    await new Promise<void>((done) => {
      let stopping = false;
      const stop = async (why: string, code: number) => {
        if (stopping) return;
        stopping = true;
        console.log(`stopping (${why})...`);
        await stack.stop().catch((err) => console.error(err));
        await output.close();
        await removeStackFile(args.stateDir);
        await rm(fixtures, { force: true });
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
