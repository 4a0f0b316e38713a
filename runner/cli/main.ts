import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  AppFailed,
  DataCommandFailed,
  DynamoDBLocalFailed,
  GateUnreachable,
  JavaMissing,
  TablesFailed,
} from '../../local/index.js';
import { ProjectConfigError } from '../project/index.js';
import { ScenarioError } from '../scenario/load.js';
import { EXIT, RunFailed, UsageError } from './errors.js';

type AddCommand = (parser: Argv) => Argv;
/** A command module as a step that adds it to the parser (generic, so each keeps its own types). */
const add =
  <U>(command: CommandModule<object, U>): AddCommand =>
  (parser) =>
    parser.command(command);
/**
 * Each command's module, loaded only when it is the one asked for: a start pays for its own command's
 * dependencies only (the others' AWS clients, CDK helpers and report renderers are ~0.2 s to load).
 * `loadtest --help`, or anything not starting with a command's name, loads them all.
 */
const COMMANDS: Readonly<Record<string, () => Promise<AddCommand>>> = {
  run: () => import('./commands/run.js').then((m) => add(m.runCommand)),
  list: () => import('./commands/list.js').then((m) => add(m.listCommand)),
  validate: () => import('./commands/validate.js').then((m) => add(m.validateCommand)),
  compare: () => import('./commands/compare.js').then((m) => add(m.compareCommand)),
  seed: () => import('./commands/seed.js').then((m) => add(m.seedCommand)),
  events: () => import('./commands/events.js').then((m) => add(m.eventsCommand)),
  import: () => import('./commands/import.js').then((m) => add(m.importCommand)),
  up: () => import('./commands/up.js').then((m) => add(m.upCommand)),
  report: () => import('./commands/report.js').then((m) => add(m.reportCommand)),
  forecast: () => import('./commands/forecast.js').then((m) => add(m.forecastCommand)),
  dashboard: () => import('./commands/dashboard.js').then((m) => add(m.dashboardCommand)),
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
      'The project config (loadtest.config.{ts,mjs,js,cjs,json,yml}) or its folder; default: the nearest to the scenario or the working directory, else the reference shop',
  });
  const parser = (await withCommands(base, argv))
    .demandCommand(1, 'Name a command: loadtest <command> (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    // A flag of one value given twice reaches a command as a list (`--output a --output b`), which
    // it would crash on: refused, naming it. The Action adds its own --output/--junit/... after the
    // user's args, so this is what a clash there says.
    .middleware((args) => {
      // getOptions is yargs' own record of the declared types (not in its typings).
      const declared = (
        parser as unknown as { getOptions(): { string: string[]; number: string[]; array: string[] } }
      ).getOptions();
      for (const key of [...declared.string, ...declared.number]) {
        const value = args[key];
        if (declared.array.includes(key) || !Array.isArray(value)) continue;
        throw new UsageError(`--${key}: given ${value.length} times (${value.join(', ')}); give it once`);
      }
      // yargs reads an empty value as 0 for a number flag (`--rate ""`, an Action input left empty):
      // a 0 nobody asked for, or a range error quoting a 0 that was never typed.
      for (const key of declared.number) {
        const flag = `--${key}`;
        if (argv.some((a, i) => a === `${flag}=` || (a === flag && argv[i + 1] === '')))
          throw new UsageError(`${flag}: expected a number, got an empty value`);
      }
    }, true)
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
      err instanceof GateUnreachable ||
      err instanceof TablesFailed
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
