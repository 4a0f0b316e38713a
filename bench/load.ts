import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Closed-loop load, run in a separate Node process (bench/load-driver.ts) so the load generator
 * never shares an event loop with the system under test. Both kinds of job use the same window
 * semantics: `concurrency` operations in flight at all times for `warmupMs + durationMs`; the
 * figures count only operations that complete inside the last `durationMs` (the warm-up keeps
 * the same connections and just is not counted). Every failure, in the warm-up too, is counted.
 */
export interface LoadWindow {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** HTTP requests (cycled in order, shared by all connections) fired with autocannon. */
export interface HttpJob extends LoadWindow {
  readonly kind: 'http';
  /** http://127.0.0.1:port */
  readonly baseUrl: string;
  readonly requests: readonly { readonly method: 'GET'; readonly path: string }[];
}

/**
 * DynamoDB DocumentClient commands (inputs cycled in order) sent with the app's own client factory.
 * `expect` says what a correct answer holds, so an empty answer counts as an error.
 */
export interface SdkJob extends LoadWindow {
  readonly kind: 'sdk';
  readonly endpoint: string;
  readonly command: 'Get' | 'Query';
  readonly inputs: readonly Record<string, unknown>[];
  readonly expect: 'item' | 'items';
}

/**
 * Latency at concurrency 1: `warmupCalls` (not counted) then `calls` DocumentClient commands sent one
 * after another, never two in flight, inputs cycled in order like SdkJob. The result's window is the
 * measured calls: ops = calls, seconds = their wall time, latencies of those calls only; errors and
 * totalOps cover the warm-up too.
 */
export interface SdkSequenceJob {
  readonly kind: 'sdk-sequence';
  readonly endpoint: string;
  readonly command: 'Get' | 'Query';
  readonly inputs: readonly Record<string, unknown>[];
  readonly expect: 'item' | 'items';
  readonly warmupCalls: number;
  readonly calls: number;
  /**
   * 'sdk' (the default): the app's DocumentClient. 'raw': the same requests as prepared HTTP POSTs
   * of DynamoDB's JSON protocol on one undici connection (a fixed Authorization header, which
   * DynamoDB Local does not verify): almost no client work per call, so what a hop adds is not
   * mixed with the SDK's own CPU on a small machine.
   */
  readonly client?: 'sdk' | 'raw';
  /** Wall time the job may take; past it (plus the grace period) the driver is killed. */
  readonly timeoutMs: number;
}

export type LoadJob = HttpJob | SdkJob | SdkSequenceJob;

export interface LoadResult {
  /** Operations completed inside the measured window (successful or not). */
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  /** Over the whole run (warm-up included): failed SDK calls, HTTP connection errors and timeouts. */
  readonly errors: number;
  /** Over the whole run: HTTP answers outside 2xx (always 0 for SDK jobs). */
  readonly non2xx: number;
  /** Over the whole run: HTTP answers per status code (empty for SDK jobs). */
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Over the whole run (warm-up included): operations completed, and CPU time the driver used. */
  readonly totalOps: number;
  readonly driverCpuMs: number;
  /** Latency of the operations completed in the window, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly mean: number };
  readonly firstError?: string;
}

export type DriverRequest = { readonly id: number; readonly job: LoadJob };
export type DriverMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: LoadResult }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

const driverPath = fileURLToPath(new URL('./load-driver.ts', import.meta.url));
// Resolved here, not by the child from its cwd, so the bench runs from any directory.
const tsxLoader = import.meta.resolve('tsx');
const live = new Set<ChildProcess>();

/** Kills every load driver process (SIGINT/SIGTERM path); their jobs reject. */
export function killLoadDrivers(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** How long a job may run beyond its window, and a driver may take to start, before it is killed. */
const GRACE_MS = 30_000;

/**
 * One long-lived load-generator process running one job at a time. It lives as long as the section
 * that opened it, so its JIT and connection pools warm up over the runs the way the app's do (a
 * fresh process per run would handicap whichever side it generates load for).
 */
export class LoadDriver {
  private next = 1;
  private pending:
    | { id: number; resolve: (r: LoadResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
    | undefined;
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: DriverMessage) => {
      const p = this.pending;
      if (msg.type === 'ready' || !p || msg.id !== p.id) return;
      this.settle(
        msg.type === 'result'
          ? { result: msg.result }
          : { error: new Error(`load driver failed: ${msg.message}`) },
      );
    });
    child.on('exit', (code, sig) => {
      live.delete(child);
      this.exited = `load driver exited (code ${code}, signal ${sig})`;
      this.settle({ error: new Error(this.exited) });
    });
  }

  /** Starts a driver process and waits until it can take jobs. */
  static start(signal?: AbortSignal): Promise<LoadDriver> {
    return new Promise((resolve, reject) => {
      // tsx as an ESM loader: the driver is TypeScript like the rest.
      const child = fork(driverPath, [], {
        execArgv: ['--import', tsxLoader],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      live.add(child);
      const fail = (err: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.kill('SIGKILL');
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`load driver did not start in ${GRACE_MS} ms`)),
        GRACE_MS,
      );
      const onAbort = () => fail(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', fail);
      child.once('exit', (code, sig) =>
        fail(new Error(`load driver exited during start (code ${code}, signal ${sig})`)),
      );
      child.once('message', (msg: DriverMessage) => {
        if (msg.type !== 'ready') return fail(new Error(`load driver said ${msg.type} before ready`));
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.removeAllListeners('error');
        child.removeAllListeners('exit');
        resolve(new LoadDriver(child));
      });
    });
  }

  run(job: LoadJob, signal?: AbortSignal): Promise<LoadResult> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    if (this.pending) return Promise.reject(new Error('load driver is busy'));
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    return new Promise((resolve, reject) => {
      const id = this.next++;
      const limit = (job.kind === 'sdk-sequence' ? job.timeoutMs : job.warmupMs + job.durationMs) + GRACE_MS;
      const timer = setTimeout(() => {
        this.settle({ error: new Error(`load job exceeded ${limit} ms: driver killed`) });
        this.child.kill('SIGKILL');
      }, limit);
      const onAbort = () => {
        this.settle({ error: new Error('aborted') });
        this.child.kill('SIGKILL');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        id,
        timer,
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const request: DriverRequest = { id, job };
      this.child.send(request);
    });
  }

  /** Ends the process (it holds no state worth a graceful goodbye). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }

  private settle(outcome: { result: LoadResult } | { error: Error }): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if ('result' in outcome) p.resolve(outcome.result);
    else p.reject(outcome.error);
  }
}
