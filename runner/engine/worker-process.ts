import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from './typescript.js';

/**
 * How a local load worker process is started, apart from the fan-out that gives it work: bin/loadtest.js
 * imports this module before anything else of the CLI, so it must stay free of heavy imports (the
 * fan-out's result merging pulls in sketches and protobuf, ~0.2 s that every early fork used to wait).
 */

/**
 * The worker is this module's neighbour: compiled, plain Node runs it (tsx is registered in it only if
 * a scenario's processor is TypeScript), from its bundle in dist/worker/ when the build made one (it
 * loads Artillery in ~0.2 s less CPU than from node_modules' hundreds of files); from the sources,
 * through tsx like the CLI itself.
 */
export function workerCommand(fromSource: boolean): { file: string; execArgv: string[] } {
  const bundle = fileURLToPath(new URL('../../worker/worker.js', import.meta.url));
  return {
    file: fromSource
      ? fileURLToPath(new URL('./worker.ts', import.meta.url))
      : existsSync(bundle)
        ? bundle
        : fileURLToPath(new URL('./worker.js', import.meta.url)),
    execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
  };
}

const WORKER = workerCommand(FROM_SOURCE);

export function forkWorker(env: Record<string, string>): ChildProcess {
  return fork(WORKER.file, [], {
    execArgv: WORKER.execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Workers forked before the CLI knew what for (startWorkersEarly), for the first invoker to take. */
const early: ChildProcess[] = [];

/**
 * Forks `count` workers now, in the CLI's first moments: each loads Node and Artillery (most of a
 * second) while the CLI loads the rest and reads the project. The run's invoker takes them over and
 * hands them its environment with the run; one nobody takes exits with the CLI (its IPC channel
 * closes) or at process exit.
 */
export function startWorkersEarly(count: number): void {
  for (let i = early.length; i < count; i += 1) {
    const child = forkWorker({});
    // Unclaimed, a worker must not keep the CLI alive, nor outlive it.
    child.unref();
    child.channel?.unref();
    early.push(child);
  }
  if (early.length > 0)
    process.once('exit', () => {
      for (const c of early) c.kill('SIGKILL');
    });
}

/** A worker started early, now the caller's (it keeps the CLI alive again), or a new one. */
export function takeWorker(env: Record<string, string>): ChildProcess {
  const taken = early.shift();
  if (!taken) return forkWorker(env);
  taken.ref();
  taken.channel?.ref();
  return taken;
}

/** The early workers nobody took, now the caller's to stop. */
export function dropEarlyWorkers(): ChildProcess[] {
  return early.splice(0);
}
