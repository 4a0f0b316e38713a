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

export type LoadJob = HttpJob | SdkJob;

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
  /** Latency of the operations completed in the window, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly mean: number };
  readonly firstError?: string;
}

export type DriverMessage = { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

const driverPath = fileURLToPath(new URL('./load-driver.ts', import.meta.url));
const live = new Set<ChildProcess>();

/** Kills every running load driver (SIGINT/SIGTERM path); their jobs reject. */
export function killLoadDrivers(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** How long a driver may take beyond its window before it is killed. */
const GRACE_MS = 30_000;

export function runLoad(job: LoadJob, signal?: AbortSignal): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    // tsx as an ESM loader: the driver is TypeScript like the rest; its start-up is outside the window.
    const child = fork(driverPath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    let settled: { ok: true; result: LoadResult } | { ok: false; error: Error } | undefined;
    const timer = setTimeout(() => {
      settled ??= { ok: false, error: new Error(`load driver exceeded ${job.warmupMs + job.durationMs + GRACE_MS} ms: killed`) };
      child.kill('SIGKILL');
    }, job.warmupMs + job.durationMs + GRACE_MS);
    const onAbort = () => {
      settled ??= { ok: false, error: new Error('aborted') };
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (msg: DriverMessage) => {
      if (msg.type === 'result') settled ??= { ok: true, result: msg.result };
      else settled ??= { ok: false, error: new Error(`load driver failed: ${msg.message}`) };
    });
    child.on('error', (err) => {
      settled ??= { ok: false, error: err };
    });
    child.on('exit', (code, sig) => {
      live.delete(child);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const outcome = settled ?? { ok: false, error: new Error(`load driver exited (code ${code}, signal ${sig}) without a result`) };
      if (outcome.ok) resolve(outcome.result);
      else reject(outcome.error);
    });
    child.send(job);
  });
}
