import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type DynamoDBLocal,
  discardEarlyDynamoDBLocal,
  freePort,
  portTaken,
  startDynamoDBLocal,
} from './dynamodb-local.js';
import { CapacityGate, type PatternRule } from './gate/index.js';
import {
  AppFailed,
  howItEnded,
  type ProcessSpec,
  type RunningProcess,
  runToEnd,
  startProcess,
  waitReady,
} from './process.js';
import { describeTableSpec, dynamoSdk, ensureTables, localDynamoClient, type TableSpec } from './tables.js';

/**
 * The embedded stack: DynamoDB Local (or any endpoint given), the capacity gate in front of it, the
 * project's tables, its data, and its app, started with the environment that points its AWS SDK at
 * the gate. Everything a `loadtest` command needs with no AWS account, for any app in any language.
 */
export interface StackProject {
  readonly name: string;
  readonly region: string;
  readonly tables: readonly TableSpec[];
  readonly describeTables?: true | readonly string[];
  readonly rules: readonly PatternRule[];
  readonly app?: {
    readonly url?: string;
    readonly start?: ProcessSpec & { readonly port: number | 'auto'; readonly portEnv: string };
    readonly ready: {
      readonly path: string;
      readonly status?: readonly number[];
      readonly timeoutSec: number;
    };
  };
  readonly data?: { readonly command?: ProcessSpec; readonly fixtures?: string };
}

/** The project's tables could not be made or read at the DynamoDB endpoint (down, refused, invalid). */
export class TablesFailed extends Error {
  override name = 'TablesFailed';
}

export interface StackOptions {
  readonly project: StackProject;
  /** Use this DynamoDB-compatible endpoint instead of starting DynamoDB Local. */
  readonly dynamodbEndpoint?: string;
  /** Keep DynamoDB Local's data in this folder (its -dbPath) instead of memory. */
  readonly persistDir?: string;
  /**
   * Put the capacity gate between the app and DynamoDB (default true). It starts on-demand, so the
   * data command is never throttled; a run sets its capacity with a reset.
   */
  readonly capacityGate?: boolean;
  /** The gate's port for apps (default any free one) and its admin port. */
  readonly gatePort?: number;
  readonly adminPort?: number;
  /** Start the project's app (default true when it has `app.start`). */
  readonly startApp?: boolean;
  /** Run the project's data command (default true). */
  readonly runData?: boolean;
  /** Where the data command writes the fixtures scenarios read (LOADTEST_FIXTURES). */
  readonly fixturesFile?: string;
  /** Parameters for the data command (LOADTEST_SEED, JSON). */
  readonly seed?: Readonly<Record<string, unknown>>;
  /** Runs once the tables exist, before the data command (e.g. loading export files), with DynamoDB's endpoint. */
  readonly beforeData?: (dynamodbEndpoint: string) => Promise<void>;
  readonly log?: (line: string) => void;
  /** Told as each part of the stack is ready (loadtest run --timings). */
  readonly onPhase?: (phase: StackPhase) => void;
  /** Each line the app and the data command print (default: dropped; the last lines are kept for errors). */
  readonly output?: (source: 'app' | 'data', line: string) => void;
}

/** The moments startEmbeddedStack reports: DynamoDB answers, tables exist, the app is ready, the data command is done. */
export type StackPhase = 'dynamodb' | 'tables' | 'app' | 'seed';

export interface EmbeddedStack {
  /** The app's URL, when the stack started one or the project names one. */
  readonly appUrl: string | undefined;
  /** DynamoDB Local's own endpoint (or the one given). */
  readonly dynamodbEndpoint: string;
  /** What apps must use: the gate's endpoint, or DynamoDB's when there is no gate. */
  readonly endpoint: string;
  readonly gate: CapacityGate | undefined;
  /** The gate's admin endpoint (counters, reset), for other processes. */
  readonly gateAdminUrl: string | undefined;
  /** The DynamoDB Local process this stack started, if it started one. */
  readonly dynamodbPid: number | undefined;
  readonly appPid: number | undefined;
  /** The tables, as created or described. */
  readonly tables: readonly TableSpec[];
  /** The environment an app needs to use the stack (endpoint, region, dummy keys). */
  readonly env: Readonly<Record<string, string>>;
  readonly fixturesFile: string | undefined;
  /** Called if a component (DynamoDB Local, the app) dies while the stack runs: at once for one that died before. */
  onFailure(listener: (reason: string) => void): void;
  /** Stops the app, the gate and DynamoDB Local, together. */
  stop(): Promise<void>;
}

/** The variables that point any AWS SDK (JS, Python, Java, Go, the CLI) at an endpoint. */
export function sdkEnvironment(endpoint: string, region: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // Any key will do: DynamoDB Local runs with -sharedDb, so every key sees the same tables.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

export async function startEmbeddedStack(options: StackOptions): Promise<EmbeddedStack> {
  const log = options.log ?? (() => {});
  const phase = options.onPhase ?? (() => {});
  const project = options.project;
  let ddb: DynamoDBLocal | undefined;
  let gate: CapacityGate | undefined;
  let app: RunningProcess | undefined;
  const failureListeners: ((reason: string) => void)[] = [];
  const stopping = new AbortController();
  // Kept for a listener that comes later: the app, watched from its launch, can die between being
  // ready and the stack being handed over.
  let failure: string | undefined;
  const fail = (reason: string) => {
    failure ??= reason;
    for (const l of failureListeners) l(reason);
  };
  // All at once (one after the other took ~0.4 s at the end of every run): the app may log a
  // failed call as DynamoDB goes, but nothing is measured any more.
  const stopAll = async () => {
    stopping.abort();
    await Promise.all([app?.stop(), gate?.close(), ddb?.stop()].map((p) => p?.catch(() => {})));
  };
  // The AWS SDK (~0.1-0.25 s to load here) is needed once DynamoDB Local answers, to create the
  // tables: loaded now, while its JVM starts, it is off the critical path.
  dynamoSdk().catch(() => {});
  try {
    // The gate listens first and holds calls until DynamoDB and the tables are there, so the app
    // (which knows only the gate's address) starts while DynamoDB Local does.
    let endpoint: string | undefined;
    let gateAdminUrl: string | undefined;
    if (options.capacityGate !== false) {
      gate = new CapacityGate({
        capacity: { mode: 'on-demand' },
        rules: project.rules,
        region: project.region,
      });
      endpoint = await gate.listen(options.gatePort ?? 0);
      gateAdminUrl = await gate.listenAdmin(options.adminPort ?? 0);
    } else endpoint = options.dynamodbEndpoint;

    const start = options.startApp === false ? undefined : project.app?.start;
    const port = start ? (start.port === 'auto' ? await freePort() : start.port) : undefined;
    // Its ready check would be answered by whatever holds the port, and the app itself die on it.
    if (start && start.port !== 'auto' && (await portTaken(start.port))) {
      throw new AppFailed(
        `the app's port ${start.port} (app.start.port) is taken by another process on 127.0.0.1: stop that one, or use port: auto (the app is then given a free port in $${start.portEnv})`,
      );
    }
    const appUrl = start ? (project.app?.url ?? `http://127.0.0.1:${port}`) : project.app?.url;
    const appStarted = Date.now();
    const launchApp = (at: string) => {
      if (!start) return;
      try {
        app = startProcess(
          start,
          { ...start.env, ...sdkEnvironment(at, project.region), [start.portEnv]: String(port) },
          (l) => options.output?.('app', l),
        );
      } catch (err) {
        throw err instanceof AppFailed
          ? new AppFailed(`the app (app.start): ${err.message}`, { cause: err })
          : err;
      }
    };
    // Watched from its launch, so its `app` moment is when it answered, not when the tables were done;
    // its readiness timeout counts from then, as it did when it was watched only from then.
    let tablesExist = () => {};
    const tablesDone = new Promise<void>((resolve) => {
      tablesExist = resolve;
    });
    const readyApp = async () => {
      if (!start || !appUrl) return;
      const command = typeof start.command === 'string' ? start.command : start.command.join(' ');
      await waitReady(
        app,
        { url: appUrl, ...(project.app?.ready ?? { path: '/', timeoutSec: 60 }) },
        `the app (\`${command}\`)`,
        {
          signal: stopping.signal,
          timeoutStarts: tablesDone,
          refused: `nothing listens on ${appUrl}: the app must listen on 127.0.0.1:${port}, the port it is given in $${start.portEnv}`,
        },
      );
      phase('app');
      log(`app: ${appUrl} (pid ${app?.pid}, answering ${Date.now() - appStarted} ms after it was started)`);
      app?.onExit((code, signal) =>
        fail(`the app exited unexpectedly (${howItEnded(code, signal)})\n${app?.output() ?? ''}`),
      );
    };
    let appReady: Promise<void> | undefined;
    const launchAndWatch = (at: string) => {
      launchApp(at);
      appReady = readyApp();
      // Its failure is awaited below; until then it must not count as unhandled.
      appReady.catch(() => {});
    };
    if (endpoint) launchAndWatch(endpoint);

    const fixturesFile = options.fixturesFile;
    const runData = async (env: Record<string, string>, tables: readonly TableSpec[]) => {
      if (fixturesFile) {
        await mkdir(dirname(fixturesFile), { recursive: true });
        if (project.data?.fixtures) await copyFile(project.data.fixtures, fixturesFile);
      }
      const command = options.runData === false ? undefined : project.data?.command;
      if (!command) return;
      // Marked only when there is a data command: a seed that did not happen is not a 0 ms one.
      const started = Date.now();
      await runToEnd(
        command,
        {
          ...command.env,
          ...env,
          LOADTEST_TABLES: JSON.stringify(tables.map((t) => t.name)),
          ...(fixturesFile ? { LOADTEST_FIXTURES: fixturesFile } : {}),
          ...(appUrl ? { LOADTEST_APP_URL: appUrl } : {}),
          LOADTEST_SEED: JSON.stringify(options.seed ?? {}),
        },
        (l) => options.output?.('data', l),
        stopping.signal,
      );
      phase('seed');
      log(`data: done in ${Date.now() - started} ms`);
    };
    // With the gate in front, the data command starts now too, alongside the app: its calls wait in
    // the gate until DynamoDB Local and the tables are there, so its own start-up (a Node or Python
    // process, an SDK to load: ~1 s) is not on the critical path. Not when it needs what is known only
    // later: tables described from DynamoDB, or files loaded before it (beforeData).
    const dataEarly =
      gate && endpoint && !project.describeTables && !options.beforeData
        ? runData(sdkEnvironment(endpoint, project.region), project.tables)
        : undefined;
    // Its failure is awaited below; until then it must not count as unhandled.
    dataEarly?.catch(() => {});

    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      ddb = await startDynamoDBLocal(options.persistDir ? { dbPath: options.persistDir } : {});
      dynamodbEndpoint = ddb.endpoint;
      phase('dynamodb');
      log(
        `dynamodb: ${dynamodbEndpoint} (DynamoDB Local, ${options.persistDir ? `data in ${options.persistDir}` : 'in memory'}, started in ${ddb.startMs} ms${ddb.classDataArchive ? ' from its class-data archive' : ''})`,
      );
      if (ddb.note) log(`note: ${ddb.note}`);
      ddb.onExit((code, signal) => fail(`DynamoDB Local exited unexpectedly (${howItEnded(code, signal)})`));
    } else {
      void discardEarlyDynamoDBLocal();
      log(`dynamodb: ${dynamodbEndpoint} (given)`);
    }
    if (!endpoint) {
      endpoint = dynamodbEndpoint;
      launchAndWatch(endpoint);
    }

    // Tables straight on DynamoDB: creating them is nobody's load.
    const direct = await localDynamoClient(dynamodbEndpoint, project.region);
    let tables: TableSpec[] = [...project.tables];
    const at = `${dynamodbEndpoint}${options.dynamodbEndpoint ? ' (the endpoint given)' : ''}`;
    try {
      if (tables.length > 0) {
        const { created, existed, differs } = await ensureTables(direct, tables);
        log(
          `tables: ${[...created.map((n) => `${n} (created)`), ...existed.map((n) => `${n} (existed)`)].join(', ')}`,
        );
        // Kept data (--persist) outlives a change to the config: the table is not what it says.
        for (const d of differs)
          log(
            `warning: table ${d.table} existed, not as the project declares it: ${d.what.join('; ')}; calls on what is missing fail${options.persistDir ? `: delete ${options.persistDir} (or the table) to have it made again` : ''}`,
          );
      }
      if (project.describeTables) {
        const { ListTablesCommand } = await dynamoSdk();
        const names =
          project.describeTables === true
            ? ((await direct.send(new ListTablesCommand({}))).TableNames ?? [])
            : project.describeTables;
        const described = await Promise.all(names.map((n) => describeTableSpec(direct, n)));
        tables = [...tables, ...described];
        log(`tables (described): ${names.join(', ') || '(none)'}`);
      }
    } catch (err) {
      // An SDK error carries its whole response: one line says what the user can act on.
      throw new TablesFailed(
        `cannot make or read the project's tables at DynamoDB ${at}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    } finally {
      direct.destroy();
    }
    phase('tables');
    tablesExist();
    if (gate) {
      gate.open(dynamodbEndpoint);
      await gate.learnAll();
      log(`capacity gate: ${endpoint} -> ${dynamodbEndpoint} (admin ${gateAdminUrl})`);
    }
    const env = sdkEnvironment(endpoint, project.region);
    await options.beforeData?.(dynamodbEndpoint);

    // The data command runs while the app gets ready; should either fail, the stack stops both.
    await Promise.all([appReady, dataEarly ?? runData(env, tables)]);
    const running = app as RunningProcess | undefined;
    return {
      appUrl,
      dynamodbEndpoint,
      endpoint,
      gate,
      gateAdminUrl,
      dynamodbPid: ddb?.pid,
      appPid: running?.pid,
      tables,
      env,
      fixturesFile,
      onFailure: (l) => {
        failureListeners.push(l);
        if (failure !== undefined) l(failure);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
