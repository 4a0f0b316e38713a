import nodeModule from 'node:module';
import type { ClientResult } from './client-stats.js';
import type { RunnerEvent, RunnerResult } from './handler.js';

/**
 * A local load worker: a child process that runs the runner handler (the same function the Lambda
 * runner calls) on one slice, and reports over IPC. Keeping the load generator out of the process
 * that hosts the embedded app keeps the two from sharing one event loop.
 */
export type WorkerRequest =
  /** `env`: the invoker's variables, for a worker forked before the CLI knew them (startWorkersEarly). */
  | { type: 'run'; event: RunnerEvent; env?: Record<string, string> }
  | { type: 'stop' }
  /** Report progress now, not at the next interval (the CLI's timeline is sampling). */
  | { type: 'progress' };
export type WorkerMessage =
  | { type: 'progress'; result: ClientResult }
  | { type: 'done'; outcome: RunnerResult };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

// As bin/loadtest.js does: Node 22.1+ reuses the compiled code of Artillery's modules across starts.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// Load Artillery before the run request arrives: this process is started ahead of time.
// cheerio-deferred first: its stand-in must be in place before Artillery's modules load.
const handler = import('./cheerio-deferred.js').then(() => import('./handler.js'));
const stop = new AbortController();
let reportNow: (() => void) | undefined;

process.on('message', async (message: WorkerRequest) => {
  if (message.type === 'stop') return stop.abort();
  if (message.type === 'progress') return reportNow?.();
  if (message.type !== 'run') return;
  Object.assign(process.env, message.env);
  const { runSlice } = await handler;
  const outcome = await runSlice(message.event, {
    signal: stop.signal,
    onProgress: (r) => void send({ type: 'progress', result: r }),
    onProgressRequest: (f) => {
      reportNow = f;
    },
  });
  reportNow = undefined;
  await send({ type: 'done', outcome });
  process.exit(outcome.status === 'failed' ? 1 : 0);
});
// Orphaned (the CLI died): stop generating load.
process.on('disconnect', () => process.exit(1));
// A Ctrl-C in the terminal reaches the whole process group, this worker too. The CLI stops it (the
// 'stop' message above) and waits for its result, with what it measured up to that moment: dying on
// the signal lost everything since the last progress message (all of it in a run's first second).
process.on('SIGINT', () => {});
