import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import intCore from '@artilleryio/int-core';
import ssmsModule from '@artilleryio/int-core/lib/ssms.js';
import { IN_WORKER_BUNDLE } from './cheerio-deferred.js';
import { type ClientResult, ClientStats } from './client-stats.js';
import { type PayloadSpec, payloadRows, workerRows } from './payload.js';
import { processorFunctions } from './processor-functions.js';
import { requestName } from './request-name.js';

/**
 * The one module that touches Artillery's internals (`@artilleryio/int-core`, pinned): it runs a
 * script through Artillery's own engine in this process, no `artillery` CLI (whose telemetry call
 * stalls ~15 s with no network). Per-request-name latency comes from the HTTP engine's trace events,
 * which it emits for every request anyway, so we add no response processing to the hot path.
 */
const require = createRequire(import.meta.url);

type ScenarioFn = (context: unknown, callback: (err: unknown, context: unknown) => void) => void;
interface HttpEngineProto {
  createScenario(spec: unknown, ee: EventEmitter): ScenarioFn;
  __loadtestWrapped?: boolean;
}
interface IntCore {
  runner: {
    contextFuncs: Record<string, (...args: unknown[]) => unknown>;
    runner(
      script: unknown,
      payload: unknown,
      options: Record<string, unknown>,
    ): Promise<EventEmitter & { run(vars?: unknown): void; stop(): Promise<void> }>;
    runnerFuncs: {
      loadProcessor(script: unknown, options: { scriptPath: string }): Promise<unknown>;
      prepareScript(script: unknown, payload: unknown): unknown;
      handleScriptHook(
        hook: 'before' | 'after',
        script: unknown,
        events: EventEmitter,
        vars?: Record<string, unknown>,
      ): Promise<Record<string, unknown>>;
    };
  };
  engine_http: { prototype: HttpEngineProto };
}

const core = intCore as IntCore;
/**
 * Its http engine imports got (~0.15 s) only when a run makes the engine: loaded now instead, while
 * this process is warming up (a local worker is forked before it has work), the same module the
 * engine's own import will find: by the URL it resolves to from Artillery's folder, or in the worker's
 * bundle (bin/build.js), the one copy bundled.
 */
if (IN_WORKER_BUNDLE) await import('got');
else await import(pathToFileURL(createRequire(require.resolve('@artilleryio/int-core')).resolve('got')).href);

/** Artillery's metrics store: one per run, made inside its runner. */
interface Ssms {
  on(event: string, listener: (...args: unknown[]) => void): Ssms;
  aggregate(forceAll: boolean): void;
}
const { SSMS } = ssmsModule as { SSMS: { prototype: Ssms } };

/**
 * Ending a run when its last virtual user is done, not up to a second later: Artillery checks for
 * that once a second after its last phase. Each run's virtual users in flight are counted here (the
 * http engine's scenarios are wrapped anyway); when none is left after the last phase, the run's
 * metrics are flushed as Artillery's own check does (aggregate(true): the last period's counters) and
 * the run is done. Artillery's check still fires later, into a run nobody listens to any more.
 */
/** How long after a final ramp phase ends its last second's arrivals may still come (see below). */
const RAMP_GRACE_MS = 200;
interface Flight {
  pending: number;
  metrics: Ssms | undefined;
  onIdle: (() => void) | undefined;
}
const flights = new Map<number, Flight>();
/** The run whose metrics store is being wired up (synchronously, inside ee.run()). */
let wiring: Flight | undefined;
const ssmsOn = SSMS.prototype.on;
SSMS.prototype.on = function (event, listener) {
  if (event === 'metricData' && wiring) wiring.metrics = this;
  return ssmsOn.call(this, event, listener);
};

/** A parsed Artillery script: only the parts this module reads are typed. */
export interface ArtilleryScript {
  config: {
    target?: string;
    phases?: Record<string, unknown>[];
    processor?: unknown;
    payload?: PayloadSpec | PayloadSpec[];
    [k: string]: unknown;
  };
  scenarios: Record<string, unknown>[];
  [k: string]: unknown;
}

/**
 * The stats of each run in progress, by an id stamped on its scenarios (Artillery deep-clones the
 * script, so only a plain value survives). Artillery's stop() only stops its metrics: its phaser goes
 * on firing arrivals, and virtual users already in a flow finish it. Once a run is over its id is
 * gone, so late arrivals do nothing and late responses are counted nowhere: a reused process (a warm
 * Lambda) sends no new load and mixes no old responses into the next run's numbers.
 */
const RUN_KEY = '__loadtestRun';
const runs = new Map<number, ClientStats>();
let lastRun = 0;
const hooked = new WeakSet<EventEmitter>();

interface TracedResponse {
  statusCode: number;
  timings?: { phases?: { firstByte?: number } };
  on(event: 'data', listener: (chunk: Buffer) => void): void;
  on(event: 'end', listener: () => void): void;
}

/**
 * A beforeRequest hook put first on every scenario: it names each request by its id before it is
 * sent, so a request that never gets as far as a socket (ECONNREFUSED, a bad URL) is still counted
 * under its name, as Artillery's metrics-by-endpoint counts it.
 */
const NAME_HOOK = '__loadtestNameRequest';
const NAME_EVENT = 'loadtest:request';

function nameRequest(
  req: { uuid?: string; name?: unknown; method?: unknown; url?: unknown },
  _context: unknown,
  ee: EventEmitter,
  next: (err?: unknown) => void,
): void {
  if (req.uuid) ee.emit(NAME_EVENT, req.uuid, requestName(req));
  next();
}

/** An onError hook on every scenario: a request that failed before any answer (the .catch path emits no trace event). */
const ERROR_HOOK = '__loadtestRequestFailed';
const ERROR_EVENT = 'loadtest:failed';

function requestFailed(
  err: { name?: string; code?: string; message?: string },
  req: { uuid?: string },
  _context: unknown,
  ee: EventEmitter,
  next: (err?: unknown) => void,
): void {
  if (req?.uuid) ee.emit(ERROR_EVENT, req.uuid, err);
  next();
}

function listen(ee: EventEmitter, run: number): void {
  const inflight = new Map<string, string>();
  ee.on(NAME_EVENT, (uuid: string, name: string) => {
    runs.get(run)?.sent();
    inflight.set(uuid, name);
  });
  // Counted once: a request still in flight (no answer yet) that failed.
  const failed = (err: { name?: string; code?: string; message?: string }, uuid: string) => {
    const name = inflight.get(uuid);
    if (name === undefined || err?.name === 'HTTPError') return;
    inflight.delete(uuid);
    runs.get(run)?.failure(name, err.code ?? err.name ?? 'Error', err.message ?? err.code ?? 'error');
  };
  ee.on(ERROR_EVENT, (uuid: string, err: { name?: string; code?: string; message?: string }) =>
    failed(err, uuid),
  );
  ee.on('trace:http:request', (params: { name?: unknown; method?: unknown; url?: unknown }, uuid: string) => {
    inflight.set(uuid, requestName(params));
  });
  ee.on('trace:http:response', (res: TracedResponse, uuid: string) => {
    const name = inflight.get(uuid);
    if (name === undefined) return;
    inflight.delete(uuid);
    const stats = runs.get(run);
    // Artillery's http.response_time is time to first byte too: the same clock, per name.
    stats?.response(name, res.statusCode, res.timings?.phases?.firstByte ?? 0);
    // A failing answer's first bytes, for the report's samples: read only while samples are wanted,
    // so a successful request (the hot path) costs nothing more.
    const code = String(res.statusCode);
    if (stats && res.statusCode >= 400 && stats.wantsSample(name, code)) {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        if (body.length < 200) body += chunk.toString('utf8');
      });
      res.on('end', () => stats.sample(name, code, `HTTP ${code}${body ? `: ${body}` : ''}`));
    }
  });
  ee.on('trace:http:error', failed);
  // The expect plugin's verdict on an answer already counted: failed expectations make it an error.
  ee.on(
    'plugin:expect:expectations',
    (
      e: { results?: { ok: boolean; type: string; expected?: unknown; got?: unknown }[] },
      req: { name?: unknown; method?: unknown; url?: unknown },
      res: { statusCode?: number },
    ) => {
      const failedOnes = (e.results ?? []).filter((r) => !r.ok);
      if (failedOnes.length === 0) return;
      runs.get(run)?.expectationsFailed(
        requestName(req),
        res.statusCode ?? 0,
        failedOnes.map((r) => ({
          type: r.type,
          message: `expected ${r.type} ${JSON.stringify(r.expected)}, got ${JSON.stringify(r.got)}`,
        })),
      );
    },
  );
}

function interceptHttpEngine(): void {
  const proto = core.engine_http.prototype;
  if (proto.__loadtestWrapped) return;
  const original = proto.createScenario;
  proto.createScenario = function (spec, ee) {
    const scenario = original.call(this, spec, ee);
    const run = (spec as Record<string, unknown> | null)?.[RUN_KEY];
    // Hooks (before/after) carry no id: they run as they are and are not counted.
    if (typeof run !== 'number') return scenario;
    if (!hooked.has(ee)) {
      hooked.add(ee);
      listen(ee, run);
    }
    // An arrival after its run ended starts nothing (and, not started, is not pending either).
    return (context, callback) => {
      if (!runs.has(run)) return;
      const flight = flights.get(run);
      if (!flight) return scenario(context, callback);
      flight.pending += 1;
      scenario(context, (err, ctx) => {
        // Artillery's callback first: it counts the virtual user as completed or failed.
        callback(err, ctx);
        flight.pending -= 1;
        if (flight.pending === 0) flight.onIdle?.();
      });
    };
  };
  proto.__loadtestWrapped = true;
}

/** Reads CSV payloads the way the artillery CLI does, relative to the script. */
function loadPayload(script: ArtilleryScript, scriptPath: string): unknown {
  const specs = script.config.payload;
  if (!specs) return undefined;
  const list = Array.isArray(specs) ? specs : [specs];
  return list.map((spec) => {
    const rows = payloadRows(resolve(dirname(scriptPath), spec.path), spec);
    return { ...spec, data: spec.workerShare ? workerRows(rows, spec.workerShare) : rows };
  });
}

/** The script's processor file does not load (a syntax error, a throw at its top level, missing). */
export class ProcessorFailed extends Error {
  override name = 'ProcessorFailed';
}

/**
 * Loads the script's `config.processor` as Artillery's own runner does (the same function, so the
 * module is cached and not run again when the runner loads it), and says which file failed and where:
 * otherwise the failure surfaces as a worker's stack trace, as if the run had crashed. A function the
 * script names and the processor does not export is refused too: Artillery would skip it with a
 * warning (a hook) or count an "Undefined function" error (a step) on every virtual user.
 */
export async function loadProcessor(script: ArtilleryScript, scriptPath: string): Promise<void> {
  const processor = script.config.processor;
  if (typeof processor !== 'string') return;
  const file = resolve(dirname(resolve(scriptPath)), processor);
  const holder: { config: { processor: unknown } } = { config: { processor } };
  try {
    await core.runner.runnerFuncs.loadProcessor(holder, { scriptPath: resolve(scriptPath) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // Where in the file: a syntax error's stack starts with `file:line`; a throw has it in a frame.
    const at = (e.stack ?? '')
      .split('\n')
      .map((l) => /(\/[^\s()]+:\d+)/.exec(l)?.[1])
      .find((l) => l?.startsWith(`${file}:`));
    throw new ProcessorFailed(
      `config.processor ${processor}: failed to load${at ? ` (${at})` : ''}: ${e.name}: ${e.message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const exported = (holder.config.processor ?? {}) as Record<string, unknown>;
  const missing = processorFunctions(script).filter((f) => typeof exported[f.name] !== 'function');
  if (missing.length > 0) {
    const functions = Object.keys(exported).filter((k) => typeof exported[k] === 'function');
    throw new ProcessorFailed(
      `config.processor ${processor} has no function ${missing.map((f) => `"${f.name}" (${f.at})`).join(', ')}; it exports: ${functions.join(', ') || 'no function'}`,
    );
  }
}

/**
 * A script's `config` with its templates rendered once, as the artillery CLI renders it before any
 * worker starts (its resolveConfigTemplates): with Artillery's own template function and its context
 * functions (`$randomString`, `$randomNumber`), so `config.variables: { id: "{{ $randomString(5) }}" }`
 * is one value for the whole run and `-v` variables reach the phases. What a template names and the
 * run does not know renders as Artillery renders it (a whole-value template to nothing).
 */
export function renderConfigTemplates(
  config: Record<string, unknown>,
  vars: Record<string, unknown>,
): Record<string, unknown> {
  // int-core's import put Artillery's template function (int-commons' engine_util) on its global.
  const g = globalThis as unknown as {
    artillery: { util: { template(o: unknown, context: unknown): Record<string, unknown> } };
  };
  return g.artillery.util.template(config, { vars, funcs: core.runner.contextFuncs });
}

/**
 * The run's id as Artillery's flows see it (`{{ $testId }}`: its engine reads the global the artillery
 * CLI sets in each worker): the one the CLI gave the script (`_testId`), so a flow's and the config's
 * are the same in every worker.
 */
function asTestRun(script: ArtilleryScript): void {
  if (typeof script._testId !== 'string') return;
  const g = globalThis as { artillery?: { testRunId?: string } };
  g.artillery ??= {};
  g.artillery.testRunId = script._testId;
}

/** A script's `before` or `after` flow failed (a refused login, a capture that found nothing, ...). */
export class HookFailed extends Error {
  override name = 'HookFailed';
}

/**
 * Runs the script's top-level `before` or `after` flow once, as the artillery CLI does in its main
 * process before (after) the workers: a virtual user of its own, not counted in the results. Returns
 * the variables it captured, which every worker's virtual users then start with; Artillery's own
 * context variables (`$env`, `target`, ...) are left out: each worker has its own.
 */
export async function runHook(
  script: ArtilleryScript,
  scriptPath: string,
  hook: 'before' | 'after',
  vars: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  if (!script[hook]) return {};
  asTestRun(script);
  const absolute = resolve(scriptPath);
  const runnable = structuredClone(script);
  const prepared = core.runner.runnerFuncs.prepareScript(runnable, loadPayload(runnable, absolute));
  await core.runner.runnerFuncs.loadProcessor(prepared, { scriptPath: absolute });
  const events = new EventEmitter();
  const errors: string[] = [];
  events.on(`${hook}TestError`, (e: unknown) => errors.push(String((e as Error)?.message ?? e)));
  let out: Record<string, unknown>;
  try {
    out = await core.runner.runnerFuncs.handleScriptHook(hook, prepared, events, vars);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new HookFailed(
      // Artillery throws the error it also emitted: said once.
      `the script's ${hook} flow failed: ${[...new Set([message, ...errors].filter(Boolean))].join('; ')}`,
    );
  }
  if (errors.length > 0)
    throw new HookFailed(`the script's ${hook} flow failed: ${[...new Set(errors)].join('; ')}`);
  return Object.fromEntries(Object.entries(out).filter(([k]) => !k.startsWith('$') && k !== 'target'));
}

/**
 * Artillery's expect plugin (`config.plugins.expect`), the published package the artillery CLI
 * bundles: it adds its hooks to the script and reports each request's expectations on the scenario's
 * events, which listen() turns into errors of that request name. It prints through
 * `artillery.log`, which only the CLI defines: here that is silent (the report says what failed), and
 * it runs only "in a worker", which this process is.
 */
function attachExpectPlugin(script: ArtilleryScript): void {
  const plugins = (script.config.plugins ?? {}) as Record<string, unknown>;
  if (plugins.expect === undefined) return;
  asArtilleryWorker();
  script.config.processor ??= {};
  const { Plugin } = require('artillery-plugin-expect') as {
    Plugin: new (script: unknown, events: unknown) => unknown;
  };
  new Plugin(script, new EventEmitter());
}

/**
 * Artillery's metrics-by-endpoint plugin (`config.plugins.metrics-by-endpoint`), the published
 * package the artillery CLI bundles: its hooks emit each endpoint's counters and histograms
 * (`plugins.metrics-by-endpoint.<name>.codes.200`, `...response_time.<name>`, or under its
 * `metricsNamespace`), which `ensure` and the report's `artillery` section then see as Artillery's.
 * Without it, an ensure check on them failed as "no metric".
 */
async function attachMetricsByEndpoint(script: ArtilleryScript): Promise<void> {
  const plugins = (script.config.plugins ?? {}) as Record<string, unknown>;
  if (plugins['metrics-by-endpoint'] === undefined) return;
  asArtilleryWorker();
  script.config.processor ??= {};
  const { Plugin } = await import('artillery-plugin-metrics-by-endpoint');
  new Plugin(script, new EventEmitter());
}

/**
 * What Artillery's plugins look for to know they run in one of its workers (which this process is):
 * its global with a `log` (the CLI's printer: silent here, the report says what failed) and a
 * version, and LOCAL_WORKER_ID.
 */
function asArtilleryWorker(): void {
  const g = globalThis as { artillery?: { log?: (...args: unknown[]) => void; version?: string } };
  g.artillery ??= {};
  g.artillery.log ??= () => {};
  g.artillery.version ??= '2.0.0';
  process.env.LOCAL_WORKER_ID ??= String(process.env.LOADTEST_WORKER ?? '0');
}

export interface RunOptions {
  readonly onProgress?: (result: ClientResult) => void;
  /**
   * Given a function that reports progress now (off the interval): the run's timeline samples the
   * client and the DynamoDB side at one moment with it, not with progress up to a second old.
   */
  readonly onProgressRequest?: (reportNow: () => void) => void;
  readonly progressIntervalMs?: number;
  /** Stop generating load early (e.g. before a Lambda time limit); resolves with what was seen. */
  readonly signal?: AbortSignal;
  /** What the script's `before` flow captured: every virtual user starts with these variables. */
  readonly vars?: Record<string, unknown>;
}

/** Runs the whole script once in this process and resolves with what the client saw. */
export async function runScript(
  script: ArtilleryScript,
  scriptPath: string,
  options: RunOptions = {},
): Promise<ClientResult> {
  interceptHttpEngine();
  asTestRun(script);
  const absolute = resolve(scriptPath);
  const runnable = structuredClone(script);
  // The before/after flows run once for the whole run (runHook), never per worker.
  delete runnable.before;
  delete runnable.after;
  const payload = loadPayload(runnable, absolute);
  await core.runner.runnerFuncs.loadProcessor(runnable, { scriptPath: absolute });
  attachExpectPlugin(runnable);
  await attachMetricsByEndpoint(runnable);
  // A copy: the user's processor module (cached by require) stays as it was.
  runnable.config.processor = {
    ...((runnable.config.processor ?? {}) as object),
    [NAME_HOOK]: nameRequest,
    [ERROR_HOOK]: requestFailed,
  };
  const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  for (const sc of runnable.scenarios) {
    sc.beforeRequest = [NAME_HOOK, ...list(sc.beforeRequest)];
    sc.onError = [ERROR_HOOK, ...list(sc.onError)];
  }
  const stats = new ClientStats();
  const run = ++lastRun;
  runs.set(run, stats);
  for (const sc of runnable.scenarios) sc[RUN_KEY] = run;
  // Only the http engine's virtual users are counted (wrapped above): a script with others (ws,
  // socketio) waits for Artillery's own check.
  const allHttp = runnable.scenarios.every(
    (sc) => (sc.engine ?? runnable.config.engine ?? 'http') === 'http',
  );
  const flight: Flight | undefined = allHttp
    ? { pending: 0, metrics: undefined, onIdle: undefined }
    : undefined;
  if (flight) flights.set(run, flight);
  const startedAt = new Date();
  const ee = await core.runner.runner(runnable, payload, { scriptPath: absolute, periodicStats: 5 });
  const report = () => options.onProgress?.(stats.result(startedAt, new Date()));
  const timer = options.onProgress ? setInterval(report, options.progressIntervalMs ?? 1000) : undefined;
  options.onProgressRequest?.(report);
  try {
    await new Promise<void>((done) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        done();
      };
      // After the run is done, Artillery's own late check flushes the same periods again: not counted twice.
      ee.on(
        'stats',
        (period: { counters?: Record<string, number>; histograms?: Record<string, unknown> }) => {
          if (finished) return;
          stats.addCounters(period.counters ?? {});
          stats.addHistograms(period.histograms ?? {});
        },
      );
      ee.once('done', finish);
      if (options.signal?.aborted) return finish();
      options.signal?.addEventListener('abort', finish, { once: true });
      if (flight) {
        const list = runnable.config.phases ?? [];
        let completed = 0;
        // A ramp's last second fires its last arrival at ~1000 ms, racing the ramp's own 1 s sleep
        // that ends the phase: ended at once, a run ending on a ramp lost that arrival (6 or 7 of
        // Artillery's 8 for 1 -> 3 over 4 s). Its arrivals are given RAMP_GRACE_MS to come.
        let settled = typeof list.at(-1)?.rampTo !== 'number';
        flight.onIdle = () => {
          if (completed < list.length || !settled || flight.pending > 0 || !flight.metrics || finished)
            return;
          flight.metrics.aggregate(true);
          finish();
        };
        ee.on('phaseCompleted', () => {
          completed += 1;
          if (completed === list.length && !settled)
            setTimeout(() => {
              settled = true;
              flight.onIdle?.();
            }, RAMP_GRACE_MS);
          flight.onIdle?.();
        });
      }
      wiring = flight;
      try {
        ee.run(options.vars ?? {});
      } finally {
        wiring = undefined;
      }
    });
    await ee.stop();
  } finally {
    if (timer) clearInterval(timer);
    runs.delete(run);
    flights.delete(run);
  }
  return stats.result(startedAt, new Date());
}
