import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { bulkWrite, createDynamoClients, generateSeed } from '../../app/index.js';
import { type SeedFile, seedFileData } from '../../local/index.js';
import {
  CloudWatchMetricsSource,
  dashboardConsoleUrl,
  LambdaInvoker,
  planRun,
  renderPlan,
} from '../aws/index.js';
import type { Report } from '../report/types.js';
import type { Scenario } from '../scenario/load.js';
import { awsRegion, deploymentTokens, readDeployment } from './aws-stack.js';
import { RunFailed, UsageError } from './errors.js';
import type { RunTarget } from './target.js';

/**
 * `loadtest run --target aws`: the deployed stack's app, its runner Lambda as the workers, and
 * CloudWatch for the server side. Every AWS client uses the default credential chain; each honours
 * AWS_ENDPOINT_URL_<SERVICE>, which is how the tests point them at local stand-ins.
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

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
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

export async function prepareAwsRun(
  args: AwsRunArgs,
  scenario: Scenario,
  log: (line: string) => void,
): Promise<RunTarget> {
  const region = awsRegion(args.awsRegion);
  const outputs = await readDeployment(args.stack, region);
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
    requestHandler: { requestTimeout: 16 * 60_000, httpsAgent: { maxSockets: args.workers } },
  });
  const fn = await lambda
    .send(new GetFunctionConfigurationCommand({ FunctionName: outputs.runnerFunctionName }))
    .catch((err: Error) => {
      lambda.destroy();
      throw new RunFailed(`runner function ${outputs.runnerFunctionName}: ${err.name}: ${err.message}`);
    });
  const memoryMb = fn.MemorySize ?? 2048;
  const timeoutSec = fn.Timeout ?? 900;
  // Invocations past the function's reserved concurrency fail at once (TooManyRequestsException).
  const reserved = (
    await lambda
      .send(new GetFunctionConcurrencyCommand({ FunctionName: outputs.runnerFunctionName }))
      .catch(() => undefined)
  )?.ReservedConcurrentExecutions;
  if (reserved !== undefined && args.workers > reserved) {
    lambda.destroy();
    throw new UsageError(
      `--workers ${args.workers}: the runner function's reserved concurrency is ${reserved}; use at most ${reserved} workers, or redeploy with -c runnerReservedConcurrency=${args.workers}`,
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
      lambda.destroy();
      throw new UsageError('--target aws: not on a terminal to confirm the plan; pass --yes to start');
    }
    if (!(await confirm('start this run? [y/N] '))) {
      lambda.destroy();
      throw new RunFailed('not started: the plan was not confirmed');
    }
  }

  // The same deterministic seed as the embedded stack, written idempotently to the stack's table;
  // tokens are signed with the stack's secret, as the deployed app verifies them.
  const { raw, doc } = createDynamoClients({ region });
  let seedFile: SeedFile;
  try {
    const started = Date.now();
    const seeded = generateSeed({
      users: scenario.loadtest.seed?.users ?? 100,
      products: scenario.loadtest.seed?.products ?? 60,
    });
    // The seed is deterministic: when its last item is there, so is the rest, and writing it again
    // would only add the seed's writes to the run's first minute of table-level capacity.
    const last = seeded.items[seeded.items.length - 1] ?? {};
    const present = await doc.send(
      new GetCommand({ TableName: outputs.tableName, Key: { PK: last.PK, SK: last.SK } }),
    );
    const what = `${seeded.products.length} products, ${seeded.users.length} users`;
    if (present.Item) {
      log(`seed: already in ${outputs.tableName} (${what})`);
    } else {
      await bulkWrite(doc, outputs.tableName, seeded.items);
      log(
        `seed: ${what} written to ${outputs.tableName} in ${Date.now() - started} ms (their writes count in the run's first minute of table-level capacity)`,
      );
    }
    const tokens = await deploymentTokens(args.stack, outputs, region);
    seedFile = await seedFileData(appUrl, seeded, (email) => tokens.sign(email));
  } catch (err) {
    lambda.destroy();
    const e = err as Error;
    throw new RunFailed(`seeding stack ${args.stack}: ${e.name}: ${e.message}`);
  } finally {
    raw.destroy();
  }

  const size = Buffer.byteLength(JSON.stringify({ script: scenario.script, seed: seedFile }));
  if (size > MAX_PAYLOAD_BYTES * 0.95) {
    lambda.destroy();
    throw new UsageError(
      `the runner event would be ${(size / 1048576).toFixed(1)} MB, over Lambda's 6 MB invoke limit: lower config.loadtest.seed.users/products (${seedFile.users.length} users, ${seedFile.products.length} products)`,
    );
  }
  const cloudwatch = new CloudWatchClient({ region });
  const path = resolve(scenario.path);
  const inRepo = !relative(ROOT, path).startsWith('..');
  return {
    appUrl,
    invoker: new LambdaInvoker(lambda, outputs.runnerFunctionName),
    workerKind: 'Lambda worker',
    abortNote:
      "Lambda invocations already started keep sending load until their scenario ends or their time limit; to stop them now, set the function's reserved concurrency to 0 in the Lambda console and back",
    live: false,
    seed: seedFile,
    stopBeforeLimitMs: stopBeforeLimitMs(timeoutSec),
    // The runner image holds this repository; a scenario from elsewhere travels in the event, and
    // its processor (if any) must be one of scenarios/lib.
    scriptPath: inRepo ? relative(ROOT, path) : join('scenarios', 'external.yml'),
    tableName: outputs.tableName,
    metrics: new CloudWatchMetricsSource(cloudwatch, { tableName: outputs.tableName }),
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
    },
  };
}
