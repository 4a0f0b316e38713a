import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  DataCommandFailed,
  describeCommand,
  ensureTables,
  localDynamoClient,
  runToEnd,
  sdkEnvironment,
} from '../../../local/index.js';
import { awsRegion } from '../aws-stack.js';
import { checkEndpointFlag, RunFailed, UsageError } from '../errors.js';
import { projectFor } from '../project.js';
import { importProjectData } from '../project-data.js';
import { seedParams } from '../seed-params.js';
import { readStackFile } from '../stack-file.js';

interface SeedArgs {
  config?: string;
  target: string;
  dynamodbEndpoint?: string;
  stateDir: string;
  stack?: string;
  awsRegion?: string;
  [param: string]: unknown;
}

const OWN_OPTIONS = new Set(['config', 'target', 'dynamodbEndpoint', 'stateDir', 'stack', 'awsRegion']);

/**
 * `loadtest seed`: runs the project's data command against the running stack (`loadtest up`), any
 * DynamoDB endpoint, or a deployed stack. Options it does not know are the data command's parameters
 * (LOADTEST_SEED): for the shop, `--users 100 --products 200 --orders 50 --seed 7 --csv users.csv`.
 */
export const seedCommand: CommandModule<object, SeedArgs> = {
  command: 'seed',
  describe:
    "Fill the project's tables with its data command (into the running stack, an endpoint, or a deployed stack); other options are its parameters",
  builder: (y: Argv) =>
    y
      .option('target', {
        type: 'string',
        default: 'local',
        describe:
          'local: the stack from `loadtest up`, or --dynamodb-endpoint; aws: the tables of a deployed --stack',
      })
      .option('stack', {
        type: 'string',
        describe: 'With --target aws: the deployed CDK app (its stackName)',
      })
      .option('aws-region', {
        type: 'string',
        describe: 'With --target aws: its region (default AWS_REGION)',
      })
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'Write to this DynamoDB-compatible endpoint (its tables are created first if missing)',
      })
      .option('state-dir', { type: 'string', default: '.loadtest' })
      // Options it does not know are the data command's parameters, not mistakes.
      .strict(false)
      .epilogue(
        "Other --name value options go to the project's data command (LOADTEST_SEED); the shop's: --users N --products N --orders N --seed S --csv FILE.",
      ) as unknown as Argv<SeedArgs>,
  handler: async (args: ArgumentsCamelCase<SeedArgs>) => {
    if (args.target !== 'local' && args.target !== 'aws')
      throw new UsageError(`--target: expected local or aws, got "${args.target}"`);
    if (args.target === 'aws' && !args.stack) throw new UsageError('--target aws needs --stack <name>');
    checkEndpointFlag('--dynamodb-endpoint', args.dynamodbEndpoint);
    const project = await projectFor(args.config);
    const command = project.data?.command;
    if (!command && !project.data?.imports?.length) {
      throw new UsageError(
        `project ${project.name} (${project.file}) has no data to seed: add data.command (a script that fills the tables) or data.import (export files) to it`,
      );
    }
    const params = seedParams(args, OWN_OPTIONS);
    if (args.target === 'aws') {
      const { seedDeployment } = await import('../aws-target.js');
      await seedDeployment(project, args.stack ?? '', await awsRegion(args.awsRegion), params, (l) =>
        console.log(l),
      );
      return;
    }
    const stack = args.dynamodbEndpoint ? undefined : await readStackFile(args.stateDir);
    // Straight to DynamoDB, past the gate: filling tables is nobody's load.
    const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
    if (!endpoint) {
      throw new RunFailed(
        'no DynamoDB to seed: start the stack with `loadtest up`, or pass --dynamodb-endpoint URL',
      );
    }
    if (project.tables.length > 0) {
      const client = await localDynamoClient(endpoint, project.region);
      try {
        const { created } = await ensureTables(client, project.tables);
        if (created.length > 0) console.log(`tables created: ${created.join(', ')}`);
      } catch (err) {
        const e = err as Error;
        throw new RunFailed(`seeding ${endpoint}: ${e.name}: ${e.message}`, { cause: err });
      } finally {
        client.destroy();
      }
    }
    await importProjectData(project, endpoint, args.stateDir, (l) => console.log(l));
    if (!command) return;
    const fixtures = stack?.fixtures ?? resolve(args.stateDir, 'fixtures.json');
    const started = Date.now();
    try {
      await runToEnd(
        command,
        {
          ...command.env,
          ...sdkEnvironment(endpoint, project.region),
          LOADTEST_TABLES: JSON.stringify(stack?.tables ?? project.tables.map((t) => t.name)),
          LOADTEST_FIXTURES: fixtures,
          ...(stack?.appUrl ? { LOADTEST_APP_URL: stack.appUrl } : {}),
          LOADTEST_SEED: JSON.stringify(params),
        },
        (line) => console.log(line),
      );
    } catch (err) {
      if (err instanceof DataCommandFailed) throw err;
      throw new RunFailed(`\`${describeCommand(command)}\`: ${(err as Error).message}`, { cause: err });
    }
    console.log(
      `seeded ${endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s; fixtures: ${fixtures}`,
    );
  },
};
