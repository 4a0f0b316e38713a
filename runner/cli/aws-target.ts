import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { EMF_NAMESPACE } from '../../instrument/index.js';
import { DataCommandFailed, describeCommand, PACKAGE_ROOT, runToEnd } from '../../local/index.js';
import {
  CloudWatchMetricsSource,
  dashboardConsoleUrl,
  LambdaInvoker,
  planRun,
  renderPlan,
  type StackOutputs,
} from '../aws/index.js';
import { type Project, patternIdsOf } from '../project/index.js';
import type { Report } from '../report/types.js';
import type { Scenario } from '../scenario/load.js';
import { awsRegion, readDeployment } from './aws-stack.js';
import { RunFailed, UsageError } from './errors.js';
import type { RunTarget } from './target.js';

/**
 * `loadtest run --target aws` and `loadtest seed --target aws`: the deployed stack's app, its runner
 * Lambda as the workers, CloudWatch for the server side, and the project's own data command to fill
 * the deployed tables and write the scenarios' fixtures. Every AWS client uses the default credential
 * chain; each honours AWS_ENDPOINT_URL_<SERVICE>, which is how the tests point them at local
 * stand-ins (the data command inherits those variables too).
 */
export interface AwsRunArgs {
  readonly stack: string;
  readonly awsRegion?: string;
  readonly url?: string;
  readonly allowTarget?: string;
  readonly workers: number;
  readonly yes: boolean;
  readonly stateDir: string;
  readonly metricsDelay: number;
}

const ROOT = PACKAGE_ROOT;
/** The runner stops this long before its Lambda time limit (at most 20 s, 10 % of it) so its result gets back. */
const stopBeforeLimitMs = (timeoutSec: number) => Math.min(20_000, timeoutSec * 100);

async function localReport(stateDir: string, scenario: string): Promise<Report | undefined> {
  try {
    const r = JSON.parse(await readFile(join(stateDir, 'report.json'), 'utf8')) as Report;
    return r.scenario === scenario && !r.target.startsWith('https://') ? r : undefined;
  } catch {
    return undefined;
  }
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } catch {
    return false; // Ctrl-C or end of input at the prompt: not confirmed
  } finally {
    rl.close();
  }
}

/** Lambda's limit on a synchronous invocation's request payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * The environment the project's data command runs with against a deployment (on top of its own
 * `env` and the CLI's): which stack, every output of it (LOADTEST_OUTPUT_<KEY>, e.g.
 * LOADTEST_OUTPUT_TABLENAME, LOADTEST_OUTPUT_AUTHSECRETARN), the app's URL, where to write the
 * fixtures and the seed parameters. No DynamoDB endpoint: the data command talks to AWS itself.
 */
export function deploymentDataEnvironment(
  outputs: StackOutputs,
  region: string,
  fixturesFile: string,
  params: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    LOADTEST_TARGET: 'aws',
    LOADTEST_STACK: outputs.stackName,
  };
  for (const [key, value] of Object.entries(outputs.outputs))
    env[`LOADTEST_OUTPUT_${key.toUpperCase()}`] = value;
  env.LOADTEST_APP_URL = outputs.appUrl;
  env.LOADTEST_FIXTURES = fixturesFile;
  env.LOADTEST_SEED = JSON.stringify(params);
  return env;
}

/** What the data command wrote to LOADTEST_FIXTURES: parsed JSON, or a RunFailed naming the file. */
async function readFixtures(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RunFailed(
      `${what} wrote no fixtures to LOADTEST_FIXTURES (${file}): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RunFailed(`${what}: the fixtures in ${file} are not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Runs the project's data command against the deployment whose outputs are given; returns its fixtures. */
async function runDeploymentData(
  project: Project,
  outputs: StackOutputs,
  region: string,
  params: Readonly<Record<string, unknown>>,
  log: (line: string) => void,
): Promise<unknown> {
  const command = project.data?.command;
  const where = `stack ${outputs.stackName} (${region})`;
  if (!command) {
    throw new UsageError(
      `project ${project.name} (${project.file}) has no data command: add data.command to it (a script that fills the tables) to seed ${where}`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'loadtest-aws-data-'));
  const file = join(dir, 'fixtures.json');
  const started = Date.now();
  try {
    try {
      await runToEnd(
        command,
        { ...command.env, ...deploymentDataEnvironment(outputs, region, file, params) },
        log,
      );
    } catch (err) {
      // Keep the data command's exit code: 2 means it refused its parameters (exit 2 for us too).
      if (err instanceof DataCommandFailed)
        throw new DataCommandFailed(`seeding ${where}: ${err.message}`, err.exitCode, { cause: err });
      throw new RunFailed(`seeding ${where}: \`${describeCommand(command)}\`: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const fixtures = await readFixtures(file, `seeding ${where}: \`${describeCommand(command)}\``);
    log(
      `seeded ${where} with the data command of project ${project.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return fixtures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `loadtest seed --target aws`: the project's data command against deployment `stack`, with its
 * outputs in the environment (see `deploymentDataEnvironment`). Returns the fixtures it wrote.
 */
export async function seedDeployment(
  project: Project,
  stack: string,
  region: string,
  params: Record<string, unknown>,
  log: (line: string) => void,
): Promise<unknown> {
  const outputs = await readDeployment(stack, region, project);
  return runDeploymentData(project, outputs, region, params, log);
}

/** How much longer than the function's timeout to wait for an invocation's answer. */
const INVOKE_GRACE_SEC = 60;

export async function prepareAwsRun(
  args: AwsRunArgs,
  project: Project,
  scenario: Scenario,
  log: (line: string) => void,
): Promise<RunTarget> {
  const region = await awsRegion(args.awsRegion);
  const outputs = await readDeployment(args.stack, region, project);
  // Load goes to the stack's own app only, unless the user names another target twice.
  const appUrl = (args.url ?? outputs.appUrl).replace(/\/$/, '');
  if (appUrl !== outputs.appUrl && args.allowTarget?.replace(/\/$/, '') !== appUrl) {
    throw new UsageError(
      `--url ${appUrl} is not the app of stack ${args.stack} (${outputs.appUrl}); to send load there anyway pass --allow-target ${appUrl}`,
    );
  }

  const lambda = new LambdaClient({
    region,
    // A load slice must never be sent twice: no SDK retries.
    maxAttempts: 1,
    // A backstop behind the invoker's own time limit: without throwOnRequestTimeout the handler's
    // requestTimeout only logs a warning and a dead connection hangs the run.
    requestHandler: {
      requestTimeout: 16 * 60_000,
      throwOnRequestTimeout: true,
      httpsAgent: { maxSockets: args.workers },
    },
  });
  let fixtures: unknown;
  let timeoutSec: number;
  try {
    const fn = await lambda
      .send(new GetFunctionConfigurationCommand({ FunctionName: outputs.runnerFunctionName }))
      .catch((err: Error) => {
        throw new RunFailed(`runner function ${outputs.runnerFunctionName}: ${err.name}: ${err.message}`);
      });
    const memoryMb = fn.MemorySize ?? 2048;
    timeoutSec = fn.Timeout ?? 900;
    // Invocations past the function's reserved concurrency fail at once (TooManyRequestsException).
    const reserved = (
      await lambda
        .send(new GetFunctionConcurrencyCommand({ FunctionName: outputs.runnerFunctionName }))
        .catch(() => undefined)
    )?.ReservedConcurrentExecutions;
    if (reserved !== undefined && args.workers > reserved) {
      throw new UsageError(
        `--workers ${args.workers}: the runner function's reserved concurrency is ${reserved}; use at most ${reserved} workers, or redeploy with -c runnerConcurrency=${args.workers}`,
      );
    }

    const plan = planRun(
      scenario.script,
      args.workers,
      memoryMb,
      await localReport(args.stateDir, scenario.name),
    );
    log(renderPlan(plan, outputs.runnerFunctionName, appUrl));
    if (plan.durationSec > timeoutSec - stopBeforeLimitMs(timeoutSec) / 1000) {
      log(
        `note: the scenario runs ${plan.durationSec} s but the runner's timeout is ${timeoutSec} s: workers will stop early and the report will be partial`,
      );
    }
    if (!args.yes) {
      if (!process.stdin.isTTY) {
        throw new UsageError('--target aws: not on a terminal to confirm the plan; pass --yes to start');
      }
      if (!(await confirm('start this run? [y/N] ')))
        throw new RunFailed('not started: the plan was not confirmed');
    }

    // The project's data command fills the stack's tables (its writes count in the run's first
    // minute of table-level capacity, unless it finds its data already there) and writes the
    // fixtures the scenarios read; they travel to every runner in its event.
    if (project.data?.command) {
      fixtures = await runDeploymentData(project, outputs, region, scenario.loadtest.seed ?? {}, log);
    } else if (project.data?.fixtures) {
      fixtures = await readFixtures(project.data.fixtures, `project ${project.name}`);
      log(
        `seed: project ${project.name} has no data command: nothing seeded; fixtures from ${project.data.fixtures}`,
      );
    } else {
      log(
        `seed: project ${project.name} has no data command: nothing seeded, and the scenarios get no fixtures`,
      );
    }

    const size = Buffer.byteLength(JSON.stringify({ script: scenario.script, fixtures }));
    if (size > MAX_PAYLOAD_BYTES * 0.95) {
      const fixturesSize = Buffer.byteLength(JSON.stringify(fixtures ?? null));
      throw new UsageError(
        `the runner event would be ${(size / 1048576).toFixed(1)} MB, over Lambda's 6 MB invoke limit: the fixtures are ${(fixturesSize / 1048576).toFixed(1)} MB; ask the data command for fewer (config.loadtest.seed)`,
      );
    }
  } catch (err) {
    lambda.destroy();
    throw err;
  }

  const cloudwatch = new CloudWatchClient({ region });
  // Contributor Insights' rule names for the hot keys (DescribeContributorInsights).
  const dynamodb = new DynamoDBClient({ region });
  const path = resolve(scenario.path);
  const inRepo = !relative(ROOT, path).startsWith('..');
  // A project's deployment names its tables with their GSIs (its Tables output); the shop's has one
  // table (its TableName output): the project's first table, by its GSIs.
  const tables = outputs.tables ?? [
    {
      name: outputs.tableName,
      indexes: (project.tables[0]?.globalSecondaryIndexes ?? []).map((i) => i.name),
    },
  ];
  return {
    appUrl,
    // Lambda answers by the function's timeout; a minute more covers the network and its own queueing.
    invoker: new LambdaInvoker(lambda, outputs.runnerFunctionName, {
      invokeTimeoutMs: (timeoutSec + INVOKE_GRACE_SEC) * 1000,
    }),
    workerKind: 'Lambda worker',
    abortNote:
      "Lambda invocations already started keep sending load until their scenario ends or their time limit; to stop them now, set the function's reserved concurrency to 0 in the Lambda console and back",
    live: false,
    ...(fixtures !== undefined ? { fixtures } : {}),
    stopBeforeLimitMs: stopBeforeLimitMs(timeoutSec),
    // The runner image holds this repository; a scenario from elsewhere travels in the event, and
    // its processor (if any) must be one of scenarios/lib.
    scriptPath: inRepo ? relative(ROOT, path) : join('scenarios', 'external.yml'),
    metrics: new CloudWatchMetricsSource(cloudwatch, {
      tables,
      patterns: patternIdsOf(project),
      service: project.name,
      dynamodb,
    }),
    // Said only when CloudWatch held none of the app's per-pattern metrics for the window.
    notMeasured: `DynamoDB side per pattern not measured: CloudWatch had no ${EMF_NAMESPACE} metrics with Service=${project.name} for the run's window (the app publishes them with dynamo-loadtest/instrument's EmfPublisher; CloudWatch may need longer: --metrics-delay)`,
    links: [`dashboard: ${dashboardConsoleUrl(region, outputs.dashboardName)}`],
    async settle() {
      if (args.metricsDelay > 0) {
        log(
          `waiting ${args.metricsDelay} s for CloudWatch to publish the run's metrics (--metrics-delay)...`,
        );
        await new Promise((r) => setTimeout(r, args.metricsDelay * 1000));
      }
    },
    async stop() {
      lambda.destroy();
      cloudwatch.destroy();
      dynamodb.destroy();
    },
  };
}
