import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DynamoDBLocalFailed, JavaMissing } from '../../local/index.js';
import { upCommand } from './commands/up.js';
import { EXIT, RunFailed, UsageError } from './errors.js';

/** The `loadtest` CLI. Returns the exit code; each command lives in its own file under commands/. */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let usageFailure: string | undefined;
  const parser = yargs(argv)
    .scriptName('loadtest')
    .command(upCommand)
    .demandCommand(1, 'Name a command: loadtest <command> (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      if (err) throw err;
      usageFailure = msg;
    });
  try {
    await parser.parseAsync();
    if (usageFailure !== undefined) {
      console.error(`error: ${usageFailure}\n(run loadtest --help for usage)`);
      return EXIT.badInput;
    }
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return EXIT.badInput;
    }
    if (err instanceof JavaMissing || err instanceof DynamoDBLocalFailed || err instanceof RunFailed) {
      console.error(`error: ${err.message}`);
      return EXIT.runFailed;
    }
    console.error('error: unexpected failure:', err);
    return EXIT.runFailed;
  }
}
