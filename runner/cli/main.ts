import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  AppFailed,
  DataCommandFailed,
  DynamoDBLocalFailed,
  GateUnreachable,
  JavaMissing,
} from '../../local/index.js';
import { ProjectConfigError } from '../project/index.js';
import { ScenarioError } from '../scenario/load.js';
import { compareCommand } from './commands/compare.js';
import { dashboardCommand } from './commands/dashboard.js';
import { eventsCommand } from './commands/events.js';
import { forecastCommand } from './commands/forecast.js';
import { importCommand } from './commands/import.js';
import { listCommand } from './commands/list.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { seedCommand } from './commands/seed.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, RunFailed, UsageError } from './errors.js';

/** The `loadtest` CLI. Returns the exit code; each command lives in its own file under commands/. */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  const parser = yargs(argv)
    .scriptName('loadtest')
    .option('config', {
      type: 'string',
      global: true,
      describe:
        'The project config (loadtest.config.{ts,mjs,js,json,yml}); default: the nearest to the scenario or the working directory, else the reference shop',
    })
    .command(runCommand)
    .command(listCommand)
    .command(validateCommand)
    .command(compareCommand)
    .command(seedCommand)
    .command(eventsCommand)
    .command(importCommand)
    .command(upCommand)
    .command(reportCommand)
    .command(forecastCommand)
    .command(dashboardCommand)
    .demandCommand(1, 'Name a command: loadtest <command> (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    // Throwing here is what stops yargs: a fail handler that returns lets the command still run.
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg}\n(run loadtest --help for usage)`);
    });
  try {
    await parser.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ScenarioError || err instanceof ProjectConfigError) {
      console.error(`error: ${err.message}`);
      return EXIT.badInput;
    }
    if (err instanceof DataCommandFailed) {
      // Exit 2 from the data command: it refused its parameters (e.g. loadtest seed --users abc).
      console.error(`error: the project's data command: ${err.message}`);
      return err.exitCode === 2 ? EXIT.badInput : EXIT.runFailed;
    }
    if (
      err instanceof JavaMissing ||
      err instanceof DynamoDBLocalFailed ||
      err instanceof RunFailed ||
      err instanceof AppFailed ||
      err instanceof GateUnreachable
    ) {
      console.error(`error: ${err.message}`);
      return EXIT.runFailed;
    }
    console.error('error: unexpected failure:', err);
    return EXIT.runFailed;
  }
}
