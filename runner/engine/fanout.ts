import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ArtilleryScript } from './artillery.js';
import { type ClientResult, mergeClientResults } from './client-stats.js';
import type { WorkerMessage, WorkerRequest } from './worker.js';

/**
 * Fan-out: split a scenario's arrival rate over N workers, run them concurrently, merge exactly.
 * The `Invoker` is the seam where AWS Lambda plugs in; locally each worker is a child process.
 */
export interface SliceOutcome {
  readonly worker: number;
  readonly status: 'ok' | 'failed' | 'aborted';
  /** The final result, or the last progress seen when the worker failed or was stopped. */
  readonly result: ClientResult | undefined;
  readonly error?: string;
}

export interface Invoker {
  invoke(
    worker: number,
    script: ArtilleryScript,
    onProgress: (r: ClientResult) => void,
    scriptPath: string,
  ): Promise<SliceOutcome>;
  /** Stop every worker still running; their outcomes resolve as 'aborted'. */
  abort(): void;
}

const RATE_KEYS = ['arrivalRate', 'rampTo', 'maxVusers'] as const;

/** Worker `index` of `count` gets 1/count of every phase's rate; whole counts are dealt out. */
export function sliceScript(script: ArtilleryScript, index: number, count: number): ArtilleryScript {
  const slice = structuredClone(script);
  slice.config.phases = (script.config.phases ?? []).map((phase) => {
    const p: Record<string, unknown> = { ...phase };
    for (const key of RATE_KEYS) if (typeof p[key] === 'number') p[key] = (p[key] as number) / count;
    if (typeof p.arrivalCount === 'number') {
      const total = p.arrivalCount as number;
      p.arrivalCount = Math.floor(total / count) + (index < total % count ? 1 : 0);
    }
    return p;
  });
  return slice;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Runs each worker as a child process (with tsx, like the CLI itself). */
export class LocalProcessInvoker implements Invoker {
  private readonly children = new Set<ChildProcess>();
  private readonly warm = new Map<number, ChildProcess>();
  private aborted = false;

  constructor(private readonly env: Record<string, string> = {}) {}

  private spawn(worker: number): ChildProcess {
    const child = fork(WORKER, [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: { ...process.env, ...this.env, LOADTEST_WORKER: String(worker) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Start the worker processes now (loading Node, tsx and Artillery takes most of a second) so that
   * happens while the embedded stack starts, not after.
   */
  prestart(workers: number): void {
    for (let i = 0; i < workers; i += 1) if (!this.warm.has(i)) this.warm.set(i, this.spawn(i));
  }

  invoke(
    worker: number,
    script: ArtilleryScript,
    onProgress: (r: ClientResult) => void,
    scriptPath = '',
  ): Promise<SliceOutcome> {
    return new Promise((resolve) => {
      const child = this.warm.get(worker) ?? this.spawn(worker);
      this.warm.delete(worker);
      let last: ClientResult | undefined;
      let outcome: SliceOutcome | undefined;
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') {
          last = m.result;
          onProgress(m.result);
        } else if (m.type === 'done') {
          outcome = { worker, status: 'ok', result: m.result };
        } else if (m.type === 'failed') {
          outcome = { worker, status: 'failed', result: last, error: m.message };
        }
      });
      child.on('exit', (code, signal) => {
        resolve(
          outcome ??
            (this.aborted
              ? { worker, status: 'aborted', result: last }
              : {
                  worker,
                  status: 'failed',
                  result: last,
                  error: `worker exited (code ${code}, signal ${signal})`,
                }),
        );
      });
      const request: WorkerRequest = { type: 'run', script, scriptPath };
      child.send(request);
    });
  }

  abort(): void {
    this.aborted = true;
    for (const c of this.children) c.kill('SIGTERM');
  }

  /** Stop workers that were started but never used (the run failed before load began). */
  close(): void {
    for (const c of this.warm.values()) c.kill('SIGTERM');
    this.warm.clear();
  }
}

export interface FanOutResult {
  readonly merged: ClientResult;
  readonly slices: SliceOutcome[];
}

export async function fanOut(
  script: ArtilleryScript,
  scriptPath: string,
  workers: number,
  invoker: Invoker,
  onProgress?: (merged: ClientResult) => void,
): Promise<FanOutResult> {
  const latest: (ClientResult | undefined)[] = new Array(workers).fill(undefined);
  const progress = () =>
    onProgress?.(mergeClientResults(latest.filter((r): r is ClientResult => r !== undefined)));
  const slices = await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      invoker.invoke(
        i,
        sliceScript(script, i, workers),
        (r) => {
          latest[i] = r;
          progress();
        },
        scriptPath,
      ),
    ),
  );
  const results = slices.flatMap((s) => (s.result ? [s.result] : []));
  return { merged: mergeClientResults(results), slices };
}
