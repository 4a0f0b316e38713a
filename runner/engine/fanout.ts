import type { ChildProcess } from 'node:child_process';
import type { ArtilleryScript } from './artillery.js';
import { type ClientResult, mergeClientResults } from './client-stats.js';
import type { RunnerEvent, RunnerResult } from './handler.js';
import type { PayloadSpec } from './payload.js';
import type { WorkerMessage, WorkerRequest } from './worker.js';
import { dropEarlyWorkers, takeWorker } from './worker-process.js';

/**
 * Fan-out: split a scenario's arrival rate over N workers, run them concurrently, merge exactly.
 * The `Invoker` is the seam: locally each worker is a child process running the runner handler;
 * on AWS each is a Lambda invocation of the same handler.
 */
export interface SliceOutcome {
  readonly worker: number;
  /** ok: ran to the end; stopped: cut short (time limit, Ctrl-C); failed: error, crash or time-out. */
  readonly status: 'ok' | 'stopped' | 'failed';
  /** The final result, or the last progress seen when the worker failed or was stopped. */
  readonly result: ClientResult | undefined;
  /** What went wrong, or why it stopped early. */
  readonly error?: string;
  /** A hook invocation's captured variables. */
  readonly vars?: Record<string, unknown>;
  /** The script is at fault (its processor does not load), not the run. */
  readonly badScript?: boolean;
}

export interface Invoker {
  invoke(event: RunnerEvent, onProgress: (r: ClientResult) => void): Promise<SliceOutcome>;
  /**
   * Has every running worker report its progress now (through onProgress), and resolves once they
   * have: a sample of the run then sees the client side as of now, not up to a second ago. Optional:
   * a Lambda invocation reports only at its end.
   */
  progress?(): Promise<void>;
  /** Stop every worker still running; they resolve with what they saw so far. */
  abort(): void;
}

/** A runner handler's result as a fan-out outcome. */
export function outcomeOf(r: RunnerResult): SliceOutcome {
  const error = r.status === 'stopped' ? r.stoppedEarly : r.error;
  return {
    worker: r.worker,
    status: r.status,
    result: r.result,
    ...(error ? { error } : {}),
    ...(r.vars ? { vars: r.vars } : {}),
    ...(r.badScript ? { badScript: true } : {}),
  };
}

const RATE_KEYS = ['arrivalRate', 'rampTo'] as const;

/** Worker `index` of `count` gets 1/count of every phase's rate; whole counts are dealt out. */
export function sliceScript(script: ArtilleryScript, index: number, count: number): ArtilleryScript {
  const slice = structuredClone(script);
  slice.config.phases = (script.config.phases ?? []).map((phase) => {
    const p: Record<string, unknown> = { ...phase };
    // A cap on virtual users is whole: shared by at most that many workers (each a whole part of it),
    // the others pause through the phase. A fraction of it let each worker run one: maxVusers 1 over
    // 2 workers ran 2.
    const cap = typeof p.maxVusers === 'number' ? Math.max(1, Math.floor(p.maxVusers)) : undefined;
    const sharing = cap === undefined ? count : Math.min(count, cap);
    if (index >= sharing)
      return { ...(p.name !== undefined ? { name: p.name } : {}), pause: p.duration ?? 1 };
    for (const key of RATE_KEYS) if (typeof p[key] === 'number') p[key] = (p[key] as number) / sharing;
    if (cap !== undefined) p.maxVusers = Math.floor(cap / sharing) + (index < cap % sharing ? 1 : 0);
    if (typeof p.arrivalCount === 'number') {
      const total = p.arrivalCount as number;
      p.arrivalCount = Math.floor(total / sharing) + (index < total % sharing ? 1 : 0);
    }
    // Artillery's ramp takes each second's whole arrivals and gives the fractions left over to the
    // first workers by these (1-based, as its own distributed runs number them); without them every
    // worker floored its share: 2 workers ramping 1 -> 5 over 3 s sent 4 arrivals of 9. The artillery
    // CLI sets them for one worker too (1 of 1: a second's fraction of .5 or more is an arrival):
    // without them one worker ramping 1 -> 3 over 4 s sent 7, not Artillery's 8.
    Object.assign(p, { worker: index + 1, totalWorkers: sharing });
    return p;
  });
  // Each worker reads its own rows of a payload file, as Artillery's distributed runs deal them: with
  // every worker reading all of them, `order: sequence` sent each row once per worker.
  const payload = script.config.payload;
  if (count > 1 && payload) {
    const share = (spec: PayloadSpec): PayloadSpec => ({ ...spec, workerShare: [index, count] });
    slice.config.payload = Array.isArray(payload) ? payload.map(share) : share(payload);
  }
  return slice;
}

/** Runs each worker as a child process. */
export class LocalProcessInvoker implements Invoker {
  private readonly children = new Set<ChildProcess>();
  /** Started, not yet given work: any invocation takes one (a hook's as well as a slice's). */
  private readonly warm: ChildProcess[] = [];
  /** Given a slice or a hook to run, and not yet exited: with what progress() waits on each for. */
  private readonly running = new Map<ChildProcess, (() => void)[]>();
  private aborted = false;

  /** @param env what the workers need beyond this process's environment (sent with each run). */
  constructor(private readonly env: Record<string, string> = {}) {}

  private spawn(): ChildProcess {
    const child = takeWorker(this.env);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Have `count` worker processes started (loading Node and Artillery takes most of a second) so that
   * happens while the embedded stack starts, not after; workers started early are taken first. A run
   * with `before`/`after` flows wants one more for each: they run in a worker of their own.
   */
  prestart(count: number): void {
    while (this.warm.length < count) this.warm.push(this.spawn());
  }

  invoke(event: RunnerEvent, onProgress: (r: ClientResult) => void): Promise<SliceOutcome> {
    const { worker } = event;
    return new Promise((resolve) => {
      const child = this.warm.shift() ?? this.spawn();
      let last: ClientResult | undefined;
      let outcome: SliceOutcome | undefined;
      const waiting: (() => void)[] = [];
      this.running.set(child, waiting);
      const answered = () => {
        for (const done of waiting.splice(0)) done();
      };
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') {
          last = m.result;
          onProgress(m.result);
          answered();
        } else if (m.type === 'done') {
          outcome = outcomeOf(m.outcome);
        }
      });
      child.on('exit', (code, signal) => {
        this.running.delete(child);
        answered();
        resolve(
          outcome ?? {
            worker,
            status: this.aborted ? 'stopped' : 'failed',
            result: last,
            error: `worker process exited (${signal ? `killed by ${signal}` : `code ${code}`}) before returning its result`,
          },
        );
      });
      const request: WorkerRequest = { type: 'run', event, env: this.env };
      child.send(request);
    });
  }

  progress(timeoutMs = 250): Promise<void> {
    const asked: Promise<void>[] = [];
    for (const [child, waiting] of this.running) {
      if (!child.connected) continue;
      asked.push(new Promise<void>((done) => waiting.push(done)));
      const request: WorkerRequest = { type: 'progress' };
      child.send(request, (err) => {
        if (err) for (const done of waiting.splice(0)) done();
      });
    }
    if (asked.length === 0) return Promise.resolve();
    // A worker running a hook, or busy, does not hold the sample up for long.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((done) => {
      timer = setTimeout(done, timeoutMs);
    });
    return Promise.race([Promise.all(asked).then(() => {}), late]).finally(() => clearTimeout(timer));
  }

  abort(): void {
    this.aborted = true;
    for (const c of this.children) {
      const stop: WorkerRequest = { type: 'stop' };
      if (c.connected) c.send(stop);
      // A worker that does not return its result in time is killed; its last progress stands.
      setTimeout(() => c.kill('SIGTERM'), 5000).unref();
    }
  }

  /** Stop workers that were started but never used (the run failed before load began). */
  close(): void {
    for (const c of [...this.warm.splice(0), ...dropEarlyWorkers()]) c.kill('SIGTERM');
  }
}

export interface FanOutResult {
  readonly merged: ClientResult;
  readonly slices: SliceOutcome[];
  /** The script's `before` flow failed: no load was sent. */
  readonly beforeFailed?: string;
  /** The script's `after` flow failed (the load's results stand). */
  readonly afterFailed?: string;
  /** Why the script itself cannot run (its processor does not load): a bad input, not a failed run. */
  readonly badScript?: string;
}

export interface FanOutOptions {
  /** Fixtures carried in each event (AWS); local workers read the LOADTEST_FIXTURES file instead. */
  readonly fixtures?: unknown;
  readonly stopBeforeLimitMs?: number;
  readonly onProgress?: (merged: ClientResult) => void;
  /** Called once the script's before flow has run, before any worker starts (none without one). */
  readonly afterBefore?: () => Promise<void>;
}

/** The events for N workers: each gets its slice of the arrival rate and its index. */
export function workerEvents(
  script: ArtilleryScript,
  scriptPath: string,
  workers: number,
  options: Omit<FanOutOptions, 'onProgress' | 'afterBefore'> = {},
): RunnerEvent[] {
  return Array.from({ length: workers }, (_, worker) => ({
    worker,
    workers,
    script: sliceScript(script, worker, workers),
    scriptPath,
    ...(options.fixtures !== undefined ? { fixtures: options.fixtures } : {}),
    ...(options.stopBeforeLimitMs !== undefined ? { stopBeforeLimitMs: options.stopBeforeLimitMs } : {}),
  }));
}

export async function fanOut(
  script: ArtilleryScript,
  scriptPath: string,
  workers: number,
  invoker: Invoker,
  options: FanOutOptions = {},
): Promise<FanOutResult> {
  // The script's before flow runs once, in a worker of its own (local process or Lambda, so with
  // the workers' environment), and what it captures reaches every worker's virtual users, as the
  // artillery CLI does; its after flow runs once at the end with the same variables.
  const hook = async (which: 'before' | 'after', vars?: Record<string, unknown>) => {
    const [event] = workerEvents(script, scriptPath, 1, options);
    if (!event) return { worker: 0, status: 'failed' as const, result: undefined, error: 'no event' };
    return invoker.invoke({ ...event, workers, hook: which, ...(vars ? { vars } : {}) }, () => {});
  };
  let vars: Record<string, unknown> | undefined;
  if (script.before) {
    const out = await hook('before');
    if (out.status !== 'ok') {
      const why = (out.error ?? `the script's before flow ${out.status}`).split('\n')[0] ?? '';
      return {
        merged: mergeClientResults([]),
        slices: [],
        beforeFailed: why,
        ...(out.badScript ? { badScript: why } : {}),
      };
    }
    vars = out.vars ?? {};
    await options.afterBefore?.();
  }
  const latest: (ClientResult | undefined)[] = new Array(workers).fill(undefined);
  const progress = () =>
    options.onProgress?.(mergeClientResults(latest.filter((r): r is ClientResult => r !== undefined)));
  const slices = await Promise.all(
    workerEvents(script, scriptPath, workers, options).map((event) =>
      invoker.invoke(vars ? { ...event, vars } : event, (r) => {
        latest[event.worker] = r;
        progress();
      }),
    ),
  );
  const results = slices.flatMap((s) => (s.result ? [s.result] : []));
  let afterFailed: string | undefined;
  if (script.after) {
    const out = await hook('after', vars);
    if (out.status !== 'ok')
      afterFailed = (out.error ?? `the script's after flow ${out.status}`).split('\n')[0];
  }
  // Every worker loads the same processor: the first one's message says it for all.
  const bad = slices.find((s) => s.badScript)?.error;
  return {
    merged: mergeClientResults(results),
    slices,
    ...(afterFailed ? { afterFailed } : {}),
    ...(bad ? { badScript: bad } : {}),
  };
}
