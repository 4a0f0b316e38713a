import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { type ClientResult, ClientStats } from './client-stats.js';

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
    runner(
      script: unknown,
      payload: unknown,
      options: Record<string, unknown>,
    ): Promise<EventEmitter & { run(vars?: unknown): void; stop(): Promise<void> }>;
    runnerFuncs: { loadProcessor(script: unknown, options: { scriptPath: string }): Promise<unknown> };
  };
  engine_http: { prototype: HttpEngineProto };
}

const core = require('@artilleryio/int-core') as IntCore;

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

interface PayloadSpec {
  path: string;
  fields?: string[];
  skipHeader?: boolean;
  delimiter?: string;
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

function requestName(params: { name?: unknown; method?: unknown; url?: unknown }): string {
  if (typeof params.name === 'string' && params.name !== '') return params.name;
  let path = String(params.url ?? '');
  try {
    path = new URL(path).pathname;
  } catch {}
  return `${String(params.method ?? 'GET').toUpperCase()} ${path}`;
}

function listen(ee: EventEmitter, run: number): void {
  const inflight = new Map<string, string>();
  ee.on('trace:http:request', (params: { name?: unknown; method?: unknown; url?: unknown }, uuid: string) => {
    inflight.set(uuid, requestName(params));
  });
  ee.on(
    'trace:http:response',
    (res: { statusCode: number; timings?: { phases?: { firstByte?: number } } }, uuid: string) => {
      const name = inflight.get(uuid);
      if (name === undefined) return;
      inflight.delete(uuid);
      // Artillery's http.response_time is time to first byte too: the same clock, per name.
      runs.get(run)?.response(name, res.statusCode, res.timings?.phases?.firstByte ?? 0);
    },
  );
  ee.on('trace:http:error', (err: { name?: string; code?: string }, uuid: string) => {
    const name = inflight.get(uuid);
    if (name === undefined || err.name === 'HTTPError') return;
    inflight.delete(uuid);
    runs.get(run)?.failure(name, err.code ?? err.name ?? 'Error');
  });
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
      if (runs.has(run)) scenario(context, callback);
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
    const file = resolve(dirname(scriptPath), spec.path);
    const rows = parseCsv(readFileSync(file, 'utf8'), {
      delimiter: spec.delimiter ?? ',',
      from_line: spec.skipHeader ? 2 : 1,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as string[][];
    return { ...spec, data: rows };
  });
}

export interface RunOptions {
  readonly onProgress?: (result: ClientResult) => void;
  readonly progressIntervalMs?: number;
  /** Stop generating load early (e.g. before a Lambda time limit); resolves with what was seen. */
  readonly signal?: AbortSignal;
}

/** Runs the whole script once in this process and resolves with what the client saw. */
export async function runScript(
  script: ArtilleryScript,
  scriptPath: string,
  options: RunOptions = {},
): Promise<ClientResult> {
  interceptHttpEngine();
  const absolute = resolve(scriptPath);
  const runnable = structuredClone(script);
  const payload = loadPayload(runnable, absolute);
  await core.runner.runnerFuncs.loadProcessor(runnable, { scriptPath: absolute });
  const stats = new ClientStats();
  const run = ++lastRun;
  runs.set(run, stats);
  for (const sc of runnable.scenarios) sc[RUN_KEY] = run;
  const startedAt = new Date();
  const ee = await core.runner.runner(runnable, payload, { scriptPath: absolute, periodicStats: 5 });
  const timer = options.onProgress
    ? setInterval(
        () => options.onProgress?.(stats.result(startedAt, new Date())),
        options.progressIntervalMs ?? 1000,
      )
    : undefined;
  try {
    await new Promise<void>((done) => {
      ee.on('stats', (period: { counters?: Record<string, number> }) =>
        stats.addCounters(period.counters ?? {}),
      );
      ee.once('done', () => done());
      if (options.signal?.aborted) return done();
      options.signal?.addEventListener('abort', () => done(), { once: true });
      ee.run();
    });
    await ee.stop();
  } finally {
    if (timer) clearInterval(timer);
    runs.delete(run);
  }
  return stats.result(startedAt, new Date());
}
