import yargs, { type Argv } from 'yargs';
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
import { EXIT, RunFailed, UsageError } from './errors.js';

/**
 * Each command's module, loaded only when it is the one asked for: a start pays for its own command's
 * dependencies only (the others' AWS clients, CDK helpers and report renderers are ~0.2 s to load).
 * `loadtest --help`, or anything not starting with a command's name, loads them all.
 */
type AddCommand = (parser: Argv) => Argv;
const COMMANDS: Readonly<Record<string, () => Promise<AddCommand>>> = {
  run: async () => {
    const { runCommand } = await import('./commands/run.js');
    return (p) => p.command(runCommand);
  },
  list: async () => {
    const { listCommand } = await import('./commands/list.js');
    return (p) => p.command(listCommand);
  },
  validate: async () => {
    const { validateCommand } = await import('./commands/validate.js');
    return (p) => p.command(validateCommand);
  },
  compare: async () => {
    const { compareCommand } = await import('./commands/compare.js');
    return (p) => p.command(compareCommand);
  },
  seed: async () => {
    const { seedCommand } = await import('./commands/seed.js');
    return (p) => p.command(seedCommand);
  },
  events: async () => {
    const { eventsCommand } = await import('./commands/events.js');
    return (p) => p.command(eventsCommand);
  },
  import: async () => {
    const { importCommand } = await import('./commands/import.js');
    return (p) => p.command(importCommand);
  },
  up: async () => {
    const { upCommand } = await import('./commands/up.js');
    return (p) => p.command(upCommand);
  },
  report: async () => {
    const { reportCommand } = await import('./commands/report.js');
    return (p) => p.command(reportCommand);
  },
  forecast: async () => {
    const { forecastCommand } = await import('./commands/forecast.js');
    return (p) => p.command(forecastCommand);
  },
  dashboard: async () => {
    const { dashboardCommand } = await import('./commands/dashboard.js');
    return (p) => p.command(dashboardCommand);
  },
};

/** The parser with the command asked for, or with every command. */
async function withCommands(parser: Argv, argv: readonly string[]): Promise<Argv> {
  const asked = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
  const adders = await Promise.all(asked ? [asked()] : Object.values(COMMANDS).map((load) => load()));
  return adders.reduce((p, add) => add(p), parser);
}

/** The `loadtest` CLI. Returns the exit code; each command lives in its own file under commands/. */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  const base = yargs(argv).scriptName('loadtest').option('config', {
    type: 'string',
    global: true,
    describe:
      'The project config (loadtest.config.{ts,mjs,js,json,yml}); default: the nearest to the scenario or the working directory, else the reference shop',
  });
  const parser = (await withCommands(base, argv))
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
  skipHelpPrerender(parser);
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

/**
 * yargs renders a command's whole --help text as the command starts, in case its handler fails later
 * and the help must be shown as it was (~0.1 s of string-width on every start, on the CLI's critical
 * path). Our fail handler never shows help, and --help renders its own: the pre-render is skipped.
 * Internal API, so only when it has the shape it has in yargs 17; otherwise yargs goes on as it is.
 */
function skipHelpPrerender(parser: unknown): void {
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => unknown } })
    .getInternalMethods?.()
    .getUsageInstance?.() as { cacheHelpMessage?: unknown } | undefined;
  if (internal && typeof internal.cacheHelpMessage === 'function') internal.cacheHelpMessage = () => {};
}
