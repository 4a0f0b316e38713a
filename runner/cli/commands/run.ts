import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  discardEarlyDynamoDBLocal,
  type EmbeddedStack,
  GateAdmin,
  type GateCapacity,
  httpStatus,
  mergeCapacity,
  startEmbeddedStack,
} from '../../../local/index.js';
import { fanOut, LocalProcessInvoker } from '../../engine/fanout.js';
import { forecastOptions, MissingPrices, missingPrices, PRICE_FLAGS } from '../../forecast/index.js';
import { GateMetricsSource, NoDynamoSource } from '../../metrics/index.js';
import { Progress, phasesSeconds } from '../../progress.js';
import { configBundleFallbacks, type Project, patternIdsOf } from '../../project/index.js';
import { buildReport, DEFAULT_PRICING } from '../../report/build.js';
import { renderHtml } from '../../report/html.js';
import { renderConsole, renderJUnit, renderMarkdown } from '../../report/render.js';
import { LIVE_FILE, RunTimeline } from '../../report/timeline.js';
import type { Report } from '../../report/types.js';
import {
  DEFAULT_THRESHOLDS,
  isTemplate,
  loadScenario,
  mergeObjects,
  phasesProblem,
  regate,
  renderedPhases,
  type Scenario,
  ScenarioError,
  scriptProblem,
} from '../../scenario/load.js';
import { renderTimings, StartupTimings } from '../../timings.js';
import {
  CAPACITY_OPTIONS,
  type CapacityArgs,
  capacityFlags,
  capacityFromFlags,
  withUnits,
} from '../capacity-flags.js';
import { checkEndpointFlag, EXIT, given, RunFailed, UsageError } from '../errors.js';
import { appendStepSummary, checkOutputs, writeOutput } from '../outputs.js';
import { OutputLog, projectFor, stackProjectOf } from '../project.js';
import { readStackFile, stackPatternsDiffer } from '../stack-file.js';
import type { RunTarget } from '../target.js';

interface RunArgs extends CapacityArgs {
  scenario: string;
  config?: string;
  target: string;
  url?: string;
  duration?: number;
  rate?: number;
  workers: number;
  output?: string;
  junit?: string;
  markdown?: string;
  html?: string;
  quiet: boolean;
  dynamodbEndpoint?: string;
  priceRead?: number;
  priceWrite?: number;
  region?: string;
  stateDir: string;
  capacityGate: boolean;
  stack?: string;
  awsRegion?: string;
  allowTarget?: string;
  allowPartial: boolean;
  yes: boolean;
  metricsDelay: number;
  defaultThresholds: boolean;
  environment?: string;
  variables?: string;
  overrides?: string;
  timings: boolean;
}

function checkArgs(args: RunArgs): void {
  if (args.target !== 'local' && args.target !== 'aws') {
    throw new UsageError(
      `--target: expected local or aws, got "${args.target}"${
        // artillery run's --target is the app's URL: here that is --url.
        /^https?:\/\//.test(args.target) ? `; to run against an app already up, use --url ${args.target}` : ''
      }`,
    );
  }
  if (args.target === 'aws' && !args.stack) {
    throw new UsageError('--target aws needs --stack <name> (the stackName the CDK app was deployed with)');
  }
  if (args.target === 'local' && (args.stack || args.allowTarget)) {
    throw new UsageError(`${args.stack ? '--stack' : '--allow-target'} is for --target aws only`);
  }
  if (!(args.metricsDelay >= 0 && args.metricsDelay <= 900)) {
    throw new UsageError(
      `--metrics-delay: expected seconds 0-900, got ${given('--metrics-delay', args.metricsDelay)}`,
    );
  }
  if (
    args.duration !== undefined &&
    !(Number.isInteger(args.duration) && args.duration > 0 && args.duration <= 86_400)
  ) {
    throw new UsageError(
      `--duration: expected whole seconds, 0 < d <= 86400, got ${given('--duration', args.duration)}`,
    );
  }
  checkEndpointFlag('--dynamodb-endpoint', args.dynamodbEndpoint);
  if (args.rate !== undefined && !(args.rate > 0 && args.rate <= 100_000)) {
    throw new UsageError(
      `--rate: expected arrivals per second, 0 < r <= 100000, got ${given('--rate', args.rate)}`,
    );
  }
  const maxWorkers = args.target === 'aws' ? 1000 : 64;
  if (!Number.isInteger(args.workers) || args.workers < 1 || args.workers > maxWorkers) {
    throw new UsageError(
      `--workers: expected a whole number 1-${maxWorkers}, got ${given('--workers', args.workers)}`,
    );
  }
  if (args.url !== undefined && args.target === 'local') {
    let u: URL;
    try {
      u = new URL(args.url);
    } catch {
      throw new UsageError(`--url: not a URL: "${args.url}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new UsageError(`--url: expected an http:// or https:// URL, got "${args.url}"`);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
      throw new UsageError(
        `--url: ${u.hostname} is not this machine; local runs only target 127.0.0.1, localhost or [::1]`,
      );
    }
  }
  for (const [flag, v] of [
    ['--price-read', args.priceRead],
    ['--price-write', args.priceWrite],
  ] as const) {
    if (v !== undefined && !(v >= 0))
      throw new UsageError(`${flag}: expected USD per million units >= 0, got ${given(flag, v)}`);
  }
}

/**
 * The capacity the gate enforces: the project's, the scenario's over it, the flags over both (for
 * every table); what none of them sets is each table's own billing. `overrides` is the scenario's
 * and the flags' part alone, for a gate that already runs with the project's (loadtest up).
 */
export function capacityFor(
  project: Project,
  scenario: Scenario,
  args: RunArgs,
): { full: GateCapacity; overrides: GateCapacity } {
  const flags = capacityFromFlags(args);
  const full = withUnits(
    mergeCapacity(mergeCapacity(project.capacity, scenario.loadtest.capacity), flags),
    args,
  );
  const overrides = withUnits(mergeCapacity(scenario.loadtest.capacity ?? {}, flags), args);
  return { full, overrides };
}

function jsonObject(flag: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`${flag}: expected a JSON object, got ${text.slice(0, 80)}`);
  return value as Record<string, unknown>;
}

/**
 * An environment over the config as the artillery CLI merges it (lodash's merge, on a copy). Loaded
 * here, with -e only: lodash's merge is ~80 modules, 0.1 s of every CLI start otherwise.
 */
function mergeEnvironment(base: unknown, over: unknown): unknown {
  const merge = createRequire(import.meta.url)('lodash/merge.js') as (a: unknown, b: unknown) => unknown;
  return merge(structuredClone(base), over);
}

/**
 * What the artillery CLI applies to a script before it runs: environment, variables, overrides. An
 * environment or override that brings `config.ensure` or `config.loadtest` gets the scenario judged
 * by the merged gate (checked against `project`'s patterns), as the file's would be.
 */
export function applyScriptFlags(
  scenario: Scenario,
  args: Pick<RunArgs, 'environment' | 'variables' | 'overrides' | 'defaultThresholds'>,
  project?: Project,
): void {
  const script = scenario.script;
  const gateOf = () =>
    JSON.stringify([script.config.ensure, (script.config as { loadtest?: unknown }).loadtest]);
  const regateIfBrought = (
    label: string,
    before: string,
    merge: (base: unknown, over: unknown) => unknown,
  ) => {
    if (gateOf() === before) return;
    if (!project)
      throw new Error(`${label} brought thresholds or ensure checks, and no project to judge them by`);
    try {
      regate(scenario, project, label, merge);
    } catch (err) {
      throw err instanceof ScenarioError ? new UsageError(err.message) : err;
    }
  };
  if (args.environment !== undefined) {
    const envs = (script.config.environments ?? {}) as Record<string, unknown>;
    const env = envs[args.environment];
    if (env === undefined)
      throw new UsageError(
        `--environment: no environment "${args.environment}" in ${scenario.path} (config.environments: ${Object.keys(envs).join(', ') || 'none'})`,
      );
    const before = gateOf();
    // As the artillery CLI merges an environment: lodash's merge, lists item by item (an environment
    // with one phase over a file's two changes the first and keeps the second).
    script.config = mergeEnvironment(script.config, env) as typeof script.config;
    regateIfBrought(`--environment ${args.environment}`, before, mergeEnvironment);
    // Artillery exposes the name as {{ $environment }}.
    script._environment = args.environment;
    // Its plugins and engines are checked as the file's are.
    const problem = scriptProblem(script, `--environment ${args.environment}`, scenario.path);
    if (problem) throw new UsageError(problem);
  }
  // Overrides before variables, as the artillery CLI applies them: -v wins over an override of the
  // same variable.
  if (args.overrides !== undefined) {
    const before = gateOf();
    const merged = mergeObjects(script, jsonObject('--overrides', args.overrides)) as typeof script;
    Object.assign(script, merged);
    regateIfBrought('--overrides', before, mergeObjects);
    // Checked as the file's are: a negative duration would run until Ctrl-C, a plugin or an unknown
    // step would be dropped or sent wrong.
    const problem = scriptProblem(script, '--overrides', scenario.path);
    if (problem) throw new UsageError(problem);
  }
  if (args.variables !== undefined) {
    const vars = jsonObject('--variables', args.variables);
    script.config.variables = { ...((script.config.variables ?? {}) as object), ...vars };
  }
  // Phases that came with a flag as the file's are once loaded: numbers ("2" or {{ $env.RATE }} rendered).
  script.config.phases = renderedPhases(script.config.phases) ?? script.config.phases;
  if (args.defaultThresholds === false && scenario.defaultThresholds) {
    scenario.thresholds.length = 0;
    scenario.ensure.length = 0;
  }
}

/**
 * The script's `config` as the artillery CLI runs it: its templates rendered once at start, with the
 * variables Artillery gives them (`-v`'s, `$env`, `$processEnvironment`, `$environment`, `$dirname`,
 * `$scenarioFile`, `$testId`) and its functions, so every worker gets the same values; then its
 * phases checked, now that they are values. Artillery's engine loads into the CLI only for a config
 * with a template (~0.3 s).
 */
export async function renderScriptTemplates(
  scenario: Scenario,
  args: Pick<RunArgs, 'environment' | 'variables'> & { duration?: number; rate?: number },
): Promise<void> {
  const script = scenario.script;
  // The run's id, `{{ $testId }}` in the config here and in the flows in every worker (runScript).
  script._testId ??= `t${randomBytes(6).toString('hex')}`;
  // --duration and --rate together replace the phases: theirs are not checked (applyOverrides).
  const replaced = args.duration !== undefined && args.rate !== undefined;
  if (JSON.stringify(script.config).includes('{{')) {
    const written = structuredClone(script.config.phases ?? []);
    const { renderConfigTemplates } = await import('../../engine/artillery.js');
    try {
      script.config = renderConfigTemplates(script.config, {
        $scenarioFile: scenario.path,
        $dirname: dirname(scenario.path),
        $testId: script._testId,
        $processEnvironment: process.env,
        $env: process.env,
        $environment: args.environment,
        ...(args.variables === undefined ? {} : jsonObject('--variables', args.variables)),
      }) as typeof script.config;
    } catch (err) {
      // A function template Artillery cannot parse (`{{ $randomString(a b) }}`): the script's fault.
      throw new UsageError(
        `${scenario.path}: config: a template Artillery cannot render: ${(err as Error).message}`,
      );
    }
    // A phase number whose template named nothing the run knows: Artillery's engine would stop on it.
    for (const [i, phase] of replaced ? [] : written.entries()) {
      for (const [key, value] of Object.entries(phase)) {
        const now = script.config.phases?.[i]?.[key];
        if (key === 'name' || !isTemplate(value)) continue;
        if (now !== undefined && now !== '' && !isTemplate(now)) continue;
        const name = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/.exec(value)?.[1];
        throw new UsageError(
          `${scenario.path}: config.phases.${i}.${key}: "${value}" rendered to ${now === undefined || now === '' ? 'nothing' : JSON.stringify(now)}${name ? `: give ${name} with -v '{"${name}": ...}' (or the phases with --overrides, or --duration and --rate)` : ''}`,
        );
      }
    }
  }
  if (replaced) return;
  const problem = phasesProblem(script.config.phases);
  if (problem) throw new UsageError(`${scenario.path}: ${problem}`);
  script.config.phases = renderedPhases(script.config.phases) ?? script.config.phases;
}

/** The script's flags, then --duration / --rate: one steady phase in place of the scenario's. */
async function applyOverrides(scenario: Scenario, args: RunArgs, project: Project): Promise<void> {
  applyScriptFlags(scenario, args, project);
  await renderScriptTemplates(scenario, args);
  if (args.duration === undefined && args.rate === undefined) return;
  const phases = scenario.script.config.phases ?? [];
  const firstRate = phases.map((p) => p.arrivalRate).find((r): r is number => typeof r === 'number') ?? 1;
  scenario.script.config.phases = [
    {
      name: 'override',
      duration: args.duration ?? phasesSeconds(phases),
      arrivalRate: args.rate ?? firstRate,
    },
  ];
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <scenario>',
  describe:
    'Run a scenario and report per access pattern; exit 0 passed, 1 threshold failed, 2 bad input, 3 incomplete',
  builder: (y: Argv) =>
    y
      .positional('scenario', {
        type: 'string',
        describe: "A name from the project's scenarios (see loadtest list) or a path to a YAML file",
      })
      .option('target', {
        type: 'string',
        default: 'local',
        describe: 'Where to run: local (the embedded stack) or aws (Lambda runners of a deployed stack)',
      })
      .option('stack', {
        type: 'string',
        describe: 'With --target aws: the deployed CDK app (its stackName, e.g. DynamoLoadtest)',
      })
      .option('aws-region', {
        type: 'string',
        describe: 'With --target aws: the region of the stack (default AWS_REGION)',
      })
      .option('allow-target', {
        type: 'string',
        describe: "With --target aws: allow this --url although it is not the stack's own app",
      })
      .option('allow-partial', {
        type: 'boolean',
        default: false,
        describe:
          'Exit by the thresholds even when a worker failed or timed out (the report still says partial)',
      })
      .option('yes', {
        type: 'boolean',
        default: false,
        describe: 'With --target aws: start without asking (needed when not on a TTY)',
      })
      .option('metrics-delay', {
        type: 'number',
        default: 120,
        describe: 'With --target aws: seconds to wait for CloudWatch metrics after the run',
      })
      .option('url', {
        type: 'string',
        describe:
          "Use an app already running here instead of starting one (with loadtest up running, its gate measures the DynamoDB side); with --target aws, the stack's app unless --allow-target",
      })
      .option('duration', { type: 'number', describe: 'Override: run one steady phase of this many seconds' })
      .option('rate', { type: 'number', describe: 'Override: arrivals per second for that phase' })
      .option('workers', {
        type: 'number',
        default: 1,
        describe: 'Load workers (local processes or Lambda invocations); the rate is split between them',
      })
      .option('output', {
        // As `artillery run -o`.
        alias: 'o',
        type: 'string',
        describe:
          'Write the JSON report here (default <state-dir>/report.json, report-aws.json for --target aws)',
      })
      .option('junit', { type: 'string', describe: 'Write thresholds as JUnit XML here' })
      .option('markdown', {
        type: 'string',
        describe:
          'Write a Markdown summary here ($GITHUB_STEP_SUMMARY, when set, gets it with or without this flag)',
      })
      .option('html', {
        type: 'string',
        describe: 'Write a self-contained HTML report here (charts over time, thresholds, hot keys)',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'Print only the verdict' })
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'Use this DynamoDB-compatible endpoint instead of DynamoDB Local',
      })
      .option('price-read', {
        type: 'number',
        describe: `USD per million read request units (default ${DEFAULT_PRICING.readPerMillionUsd})`,
      })
      .option('price-write', {
        type: 'number',
        describe: `USD per million write request units (default ${DEFAULT_PRICING.writePerMillionUsd})`,
      })
      .option('region', {
        type: 'string',
        describe: `Region the prices are for (default ${DEFAULT_PRICING.region})`,
      })
      .option('state-dir', {
        type: 'string',
        default: '.loadtest',
        describe: 'Where stack.json, fixtures.json and the default report live',
      })
      .option('capacity-gate', {
        type: 'boolean',
        default: true,
        describe:
          "Throttle like DynamoDB at the scenario's capacity (config.loadtest.capacity); --no-capacity-gate turns it off",
      })
      .option('default-thresholds', {
        type: 'boolean',
        default: true,
        describe: `A scenario with no thresholds (nor ensure) of its own is held to "*": ${JSON.stringify(DEFAULT_THRESHOLDS)}; --no-default-thresholds turns that off`,
      })
      .option('environment', {
        alias: 'e',
        type: 'string',
        describe: "Use the script's config.environments.<name> over its config (as artillery run -e)",
      })
      .option('variables', {
        alias: 'v',
        type: 'string',
        describe: 'JSON object of variables over config.variables (as artillery run --variables)',
      })
      .option('overrides', {
        type: 'string',
        describe: 'JSON object merged over the whole script (as artillery run --overrides)',
      })
      .option('timings', {
        type: 'boolean',
        default: false,
        describe:
          'Print where the start-up time went (CLI loaded, DynamoDB Local ready, tables, seed, app ready, first request, last response, report); always in the JSON report as "timings"',
      })
      .options(CAPACITY_OPTIONS)
      .strict() as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const timings = new StartupTimings();
    timings.mark('cli');
    checkArgs(args);
    const project = await projectFor(args.config, args.scenario);
    const scenario = loadScenario(args.scenario, project);
    await applyOverrides(scenario, args, project);
    // After the flags: an environment or override may bring config.loadtest.capacity.
    const capacity = capacityFor(project, scenario, args);
    // An AWS run keeps its own default file: report.json stays the last local run, whose cost per
    // request the next AWS plan prices DynamoDB with.
    const outputPath =
      args.output ?? join(args.stateDir, args.target === 'aws' ? 'report-aws.json' : 'report.json');
    const outputs = [
      ['--output', outputPath],
      ['--html', args.html],
      ['--junit', args.junit],
      ['--markdown', args.markdown],
    ] as const;
    await checkOutputs(outputs);
    const log = (line: string) => {
      if (!args.quiet) console.error(line);
    };
    const pricing = runPricing(args, scenario.loadtest.pricing);
    // The run's on-demand prices are the forecast's unless its own config names others.
    let expected: ReturnType<typeof forecastOptions> | undefined;
    try {
      expected = scenario.forecast
        ? forecastOptions(
            {
              ...scenario.forecast,
              prices: {
                readPerMillion: pricing.readPerMillionUsd,
                writePerMillion: pricing.writePerMillionUsd,
                ...scenario.forecast.prices,
              },
            },
            pricing.region,
          )
        : undefined;
    } catch (err) {
      if (err instanceof MissingPrices)
        throw new UsageError(
          `${err.message}: the forecast's provisioned prices are set in config.loadtest.forecast.prices (or the project's forecast.prices), as ${err.missing.join(' and ')}`,
        );
      throw err;
    }
    /** Writes every file asked for; false when one could not be written (said on stderr). */
    const writeOutputs = async (report: Report): Promise<boolean> => {
      // Everything but the files' own writing: the report cannot hold the moment it was written.
      timings.mark('report');
      report.timings = timings.list();
      const markdown = renderMarkdown(report);
      const render = {
        '--output': () => `${JSON.stringify(report, null, 2)}\n`,
        '--html': () => renderHtml(report),
        '--junit': () => renderJUnit(report),
        '--markdown': () => markdown,
      };
      let written = true;
      for (const [flag, path] of outputs) {
        if (path !== undefined) written = (await writeOutput(flag, path, render[flag]())) && written;
      }
      await appendStepSummary(markdown);
      return written;
    };
    const startedAt = new Date().toISOString();
    let target: RunTarget;
    try {
      target =
        args.target === 'aws'
          ? // Loaded only for AWS runs: the SDK clients it needs cost local runs ~0.4 s at start-up.
            await (await import('../aws-target.js')).prepareAwsRun(
              { ...args, stack: args.stack ?? '' },
              project,
              scenario,
              log,
            )
          : await prepareLocalRun(args, project, scenario, capacity, log, timings);
    } catch (err) {
      // A run that could not start (an app that dies, a data command that fails, no DynamoDB) still
      // leaves its report, JUnit file and summary, saying why: CI shows a failed run, not a missing file.
      if (!(err instanceof UsageError)) {
        const why = (err as Error).message?.split('\n')[0] ?? String(err);
        await writeOutputs(
          buildReport({
            scenario: scenario.name,
            target: args.url ?? project.app?.url ?? '',
            client: { startedAt, endedAt: new Date().toISOString(), byName: {}, counters: {} },
            server: undefined,
            declared: patternIdsOf(project),
            project: { name: project.name, file: project.file },
            notMeasured: 'DynamoDB side not measured: the run did not start',
            thresholds: scenario.thresholds,
            ensure: scenario.ensure,
            pricing,
            partial: true,
            error: `the run did not start: ${why}`,
            workers: [],
          }),
        ).catch(() => false);
      }
      throw err;
    }

    let failure: string | undefined;
    let interrupted = false;
    // The script cannot run (its processor does not load): exit 2 once the partial report is written.
    let badScript: string | undefined;
    const abort = (reason: string) => {
      if (failure) return;
      failure = reason;
      log(`\nstopping: ${reason}`);
      if (target.abortNote) log(`note: ${target.abortNote}`);
      target.invoker.abort();
    };
    const onSigint = () => {
      if (interrupted) {
        // A second Ctrl-C: the user will not wait for the partial report.
        console.error('interrupted again: exiting without a report');
        process.exit(EXIT.runFailed);
      }
      interrupted = true;
      abort('interrupted (SIGINT)');
    };
    const onSigterm = () => {
      interrupted = true;
      abort('terminated (SIGTERM)');
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    target.onFailure?.((reason) => abort(reason));

    let report: Report;
    try {
      scenario.script.config.target = target.appUrl;
      const total = phasesSeconds(scenario.script.config.phases ?? []);
      log(
        `running ${scenario.name} (${total} s, ${args.workers} ${target.workerKind}${args.workers > 1 ? 's' : ''})...`,
      );
      const progress = new Progress(total);
      if (!args.quiet) progress.start();
      // The run over time: for --html, and live.json for `loadtest dashboard`.
      const timeline = new RunTimeline({
        scenario: scenario.name,
        target: target.appUrl,
        plannedSec: total,
        thresholds: scenario.thresholds,
        project: project.name,
        declared: project.patterns.map((p) => ({
          id: p.id,
          ...(p.description ? { description: p.description } : {}),
        })),
        ...(target.live ? { liveFile: join(args.stateDir, LIVE_FILE) } : {}),
      });
      const poll = target.live
        ? setInterval(async () => {
            const view = await target.metrics
              .read({ start: new Date(), end: new Date() }, { keys: false })
              .catch(() => ({ patterns: undefined, dynamodb: undefined }));
            // The client side as of now too: with progress up to a second old, the first interval
            // showed about half the rate and the last one the rest.
            await target.invoker.progress?.();
            await timeline.poll(view);
            const m = view.patterns;
            if (m)
              progress.setThrottles(
                Object.values(m.patterns).reduce((s, p) => s + (p?.throttleEvents ?? 0), 0),
              );
          }, 2000)
        : undefined;
      poll?.unref();
      let loadStarted = new Date();
      const result = await fanOut(
        scenario.script,
        target.scriptPath ?? scenario.path,
        args.workers,
        target.invoker,
        {
          ...(target.fixtures !== undefined ? { fixtures: target.fixtures } : {}),
          ...(target.stopBeforeLimitMs !== undefined ? { stopBeforeLimitMs: target.stopBeforeLimitMs } : {}),
          onProgress: (merged) => {
            progress.update(merged);
            timeline.client(merged);
          },
          // What the before flow did (a login, a fixture written) is not the run's load.
          afterBefore: async () => {
            loadStarted = new Date();
            await target.beginLoad?.();
          },
        },
      ).finally(() => {
        clearInterval(poll);
        progress.stop();
      });
      if (result.merged.firstRequestAt)
        timings.mark('firstRequest', Date.parse(result.merged.firstRequestAt));
      if (result.merged.lastResponseAt)
        timings.mark('lastResponse', Date.parse(result.merged.lastResponseAt));
      badScript = result.badScript;
      // One cause, said once: not "worker 0 failed" as well (every worker fails the same way).
      if (!failure && badScript) failure = `the script cannot run: ${badScript}`;
      if (!failure && result.beforeFailed) failure = `no load sent: ${result.beforeFailed}`;
      if (result.afterFailed) log(`warning: ${result.afterFailed}`);
      const failed = result.slices.filter((s) => s.status !== 'ok');
      if (!failure && failed.length > 0) {
        failure = `${failed.length} of ${args.workers} worker(s) did not complete: ${failed
          .map((s) => `worker ${s.worker} ${s.status}: ${s.error?.split('\n')[0] ?? 'unknown error'}`)
          .join('; ')}`;
      }
      // The fan-out's own clock: it holds even when no worker returned a result.
      const window = { start: loadStarted, end: new Date() };
      if (!interrupted) await target.settle?.(window);
      let unreadable: string | undefined;
      let server = await target.metrics.read(window).catch((err: Error) => {
        unreadable = `DynamoDB side not measured: could not read ${target.metrics.describe}: ${err.message}`;
        log(`note: ${unreadable}`);
        return { patterns: undefined, dynamodb: undefined };
      });
      const calls = Object.values(server.patterns?.patterns ?? {}).reduce((n, p) => n + (p?.count ?? 0), 0);
      const requests = Object.values(result.merged.byName).reduce((n, c) => n + c.requests, 0);
      if (target.sharedGate && server.patterns && calls === 0 && requests > 0) {
        // Zero calls is not zero capacity: the gate cannot tell an app that bypasses it from a
        // scenario whose requests touch no DynamoDB, so the note names both.
        unreadable = `DynamoDB side not measured: the capacity gate of loadtest up saw no DynamoDB call during the run: either the scenario's requests touch no DynamoDB, or the app at ${target.appUrl} does not send its calls to the gate (is it using AWS_ENDPOINT_URL_DYNAMODB=${target.sharedGate}?)`;
        log(`note: ${unreadable}`);
        server = { patterns: undefined, dynamodb: undefined };
      }
      const points = await timeline.finish(result.merged, server, outputPath);
      const notMeasured = unreadable ?? target.notMeasured;
      report = buildReport({
        timeline: points,
        scenario: scenario.name,
        target: target.appUrl,
        client: result.merged,
        server: server.patterns,
        dynamodb: server.dynamodb,
        declared: patternIdsOf(project),
        project: { name: project.name, file: project.file },
        sources: { dynamodb: target.metrics.describe },
        ...(notMeasured ? { notMeasured } : {}),
        thresholds: scenario.thresholds,
        ensure: scenario.ensure,
        pricing,
        ...(expected ? { forecast: expected } : {}),
        partial: failure !== undefined,
        ...(failure ? { error: failure } : {}),
        workers: result.slices.map((s) => ({
          worker: s.worker,
          status: s.status,
          ...(s.error ? { error: s.error } : {}),
        })),
      });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      await target.stop().catch(() => {});
    }

    const written = await writeOutputs(report);
    if (badScript) {
      // Bad input (exit 2), not a run that failed: no empty table and no INCOMPLETE verdict (exit 3's).
      console.error(`error: ${scenario.path}: ${badScript}`);
      console.log(`report (partial, no load sent): ${outputPath}`);
      process.exitCode = EXIT.badInput;
      return;
    }
    const text = renderConsole(report);
    console.log(args.quiet ? (text.split('\n').pop() ?? '') : text);
    console.log(`report: ${outputPath}`);
    if (args.html) console.log(`html: ${args.html}`);
    for (const link of target.links ?? []) console.log(link);
    if (args.timings) {
      const slow = configBundleFallbacks().map(
        (f) => `${f.file} was loaded through tsx (~0.6 s more), its bundle failed: ${f.reason}`,
      );
      console.error(renderTimings(report.timings ?? [], slow));
    }
    // A run in which every request failed never passes, whatever its thresholds say.
    const thresholdsPassed =
      report.allFailed === undefined &&
      report.thresholds.every((t) => t.passed) &&
      report.ensure.every((e) => e.passed || !e.strict);
    // --allow-partial forgives failed workers, never an interrupted run. An output not written (said
    // above) is a run that could not complete what was asked.
    process.exitCode =
      !written || (report.partial && (interrupted || !args.allowPartial))
        ? EXIT.runFailed
        : thresholdsPassed
          ? EXIT.ok
          : EXIT.thresholdFailed;
  },
};

/**
 * The embedded stack (DynamoDB Local, the gate, the project's tables, data and app), or an app that is
 * already up (--url, or the project's app.url) measured through the gate of a running `loadtest up`
 * when there is one; and local worker processes.
 */
async function prepareLocalRun(
  args: RunArgs,
  project: Project,
  scenario: Scenario,
  capacity: { full: GateCapacity; overrides: GateCapacity },
  log: (line: string) => void,
  timings: StartupTimings,
): Promise<RunTarget> {
  const scratch = await mkdtemp(join(tmpdir(), 'loadtest-run-'));
  const existing = args.url ?? (project.app?.start ? undefined : project.app?.url);
  // An app already up needs no DynamoDB Local of ours: the one the CLI may have started early goes.
  if (existing) void discardEarlyDynamoDBLocal();
  const running = existing ? await readStackFile(args.stateDir) : undefined;
  // The processor reads the fixtures lazily, at the first virtual user: after they are written below.
  const fixtures = existing
    ? (running?.fixtures ?? resolve(args.stateDir, 'fixtures.json'))
    : join(scratch, 'fixtures.json');
  const invoker = new LocalProcessInvoker({ LOADTEST_FIXTURES: fixtures });
  // One per worker, and one for each of the script's before/after flows (each runs in its own).
  invoker.prestart(args.workers + (scenario.script.before ? 1 : 0) + (scenario.script.after ? 1 : 0));
  let stack: EmbeddedStack | undefined;
  let appUrl: string;
  let gateAdminUrl: string | undefined;
  let notMeasured: string | undefined;
  // Only when this run starts the app: `loadtest up` may be writing app.log for its own.
  let output: OutputLog | undefined;
  let restoreGate: (() => Promise<void>) | undefined;
  try {
    if (existing) {
      appUrl = existing.replace(/\/$/, '');
      // Any HTTP answer will do: the app is someone's, with whatever routes it has.
      const answered = await httpStatus(`${appUrl}/`, 5000).then(
        () => undefined,
        (err: Error) => err.message,
      );
      if (answered !== undefined)
        throw new RunFailed(`the app at ${appUrl} does not answer HTTP: ${answered}`);
      timings.mark('app');
      gateAdminUrl = args.capacityGate ? (running?.gateAdminUrl ?? undefined) : undefined;
      if (!gateAdminUrl) {
        const flags = capacityFlags(args);
        if (flags.length > 0) {
          throw new UsageError(
            `${flags.join(', ')}: capacity is enforced by the capacity gate, and there is none here: start the stack with \`loadtest up\` and point the app at its endpoint (AWS_ENDPOINT_URL_DYNAMODB), or drop --url to let \`loadtest run\` start everything`,
          );
        }
        notMeasured = running
          ? 'DynamoDB side not measured: --no-capacity-gate'
          : `DynamoDB side not measured: no capacity gate in front of the app at ${appUrl} (start \`loadtest up\` and point the app's AWS_ENDPOINT_URL_DYNAMODB at its gate)`;
      } else {
        log(`capacity gate: ${gateAdminUrl} (loadtest up, pid ${running?.pid})`);
        const differ =
          running &&
          stackPatternsDiffer(
            running,
            project.file,
            statSync(project.file, { throwIfNoEntry: false })?.mtimeMs ?? 0,
          );
        if (differ) log(`warning: ${differ}`);
      }
    } else {
      if (!project.app?.start) {
        throw new UsageError(
          `project ${project.name} (${project.file}) has no app to start: add app.start (or app.url) to it, or pass --url`,
        );
      }
      // A `loadtest up` in the same folder writes app.log for its own app: this run's goes beside it.
      const upHere = await readStackFile(args.stateDir);
      output = new OutputLog(join(args.stateDir, upHere ? 'app-run.log' : 'app.log'));
      if (upHere) log(`app output: ${output.path} (loadtest up, pid ${upHere.pid}, writes app.log here)`);
      stack = await startEmbeddedStack({
        project: stackProjectOf(project),
        ...(args.dynamodbEndpoint ? { dynamodbEndpoint: args.dynamodbEndpoint } : {}),
        capacityGate: args.capacityGate,
        fixturesFile: fixtures,
        ...(scenario.loadtest.seed ? { seed: scenario.loadtest.seed } : {}),
        // Only with files to load: without, the data command can start with the stack (stack.ts).
        ...(project.data?.imports?.length
          ? {
              // Loaded only for a project with imports: the import pipeline brings the AWS SDK and bson.
              beforeData: async (endpoint: string) =>
                (await import('../project-data.js')).importProjectData(project, endpoint, scratch, log),
            }
          : {}),
        log,
        onPhase: (phase) => timings.mark(phase),
        output: output.write,
      });
      appUrl = stack.appUrl ?? '';
      gateAdminUrl = stack.gateAdminUrl;
      if (!gateAdminUrl) notMeasured = 'DynamoDB side not measured: --no-capacity-gate';
    }
    // Fresh buckets (full burst) at the run's capacity, and counters for this run only. A gate of
    // `loadtest up` keeps the capacity it was started with, under what the scenario and flags set
    // for this run: it gets its own back when the run ends, so no later run or app call inherits it.
    if (gateAdminUrl) {
      const admin = new GateAdmin(gateAdminUrl);
      if (stack) await admin.reset(capacity.full);
      else if (Object.keys(capacity.overrides).length === 0) await admin.reset();
      else {
        const own = await admin.reset();
        await admin.reset(capacity.overrides, { merge: true });
        restoreGate = () => admin.reset(own).then(() => undefined);
      }
    }
  } catch (err) {
    invoker.close();
    await stack?.stop().catch(() => {});
    await output?.close();
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  const started = stack;
  return {
    appUrl,
    invoker,
    workerKind: 'worker',
    live: true,
    metrics: gateAdminUrl
      ? new GateMetricsSource(gateAdminUrl)
      : new NoDynamoSource('nothing (no capacity gate)'),
    ...(notMeasured ? { notMeasured } : {}),
    ...(!stack && gateAdminUrl && running ? { sharedGate: running.endpoint } : {}),
    // Counters only: the gate keeps the capacity the run set.
    ...(gateAdminUrl ? { beginLoad: () => new GateAdmin(gateAdminUrl).reset().then(() => undefined) } : {}),
    onFailure: (listener) => started?.onFailure(listener),
    async stop() {
      invoker.close();
      await restoreGate?.().catch((err: Error) =>
        log(`warning: could not give the capacity gate of loadtest up its own capacity back: ${err.message}`),
      );
      await started?.stop();
      await output?.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * The run's on-demand prices: flags over `config.loadtest.pricing` over the built-in us-east-1 list
 * prices. A region other than us-east-1 must come with its own prices: filled in from the list, they
 * would be us-east-1's under its name.
 */
function runPricing(
  args: { region?: string | undefined; priceRead?: number | undefined; priceWrite?: number | undefined },
  config: {
    region?: string | undefined;
    readPerMillion?: number | undefined;
    writePerMillion?: number | undefined;
  } = {},
): { region: string; readPerMillionUsd: number; writePerMillionUsd: number } {
  const region = args.region ?? config.region ?? DEFAULT_PRICING.region;
  const read = args.priceRead ?? config.readPerMillion;
  const write = args.priceWrite ?? config.writePerMillion;
  const missing = missingPrices(region, { readPerMillion: read, writePerMillion: write }, [
    'readPerMillion',
    'writePerMillion',
  ]);
  if (missing.length > 0) {
    const named =
      args.region !== undefined ? `--region ${region}` : `config.loadtest.pricing.region ${region}`;
    const how = missing.map((k) => PRICE_FLAGS[k]).join(' and ');
    throw new UsageError(
      `${named}: the built-in prices are ${DEFAULT_PRICING.region}'s; give ${region}'s ${how} (USD per million request units), or config.loadtest.pricing.${missing.join(' and ')}`,
    );
  }
  return {
    region,
    readPerMillionUsd: read ?? DEFAULT_PRICING.readPerMillionUsd,
    writePerMillionUsd: write ?? DEFAULT_PRICING.writePerMillionUsd,
  };
}
