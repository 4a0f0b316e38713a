import { type ArtilleryScript, runScript } from './artillery.js';
import type { ClientResult } from './client-stats.js';

/**
 * A load worker: a child process that runs one slice of a scenario through Artillery's engine and
 * reports back over IPC. Keeping the load generator out of the process that hosts the embedded app
 * keeps the two from sharing one event loop.
 */
export type WorkerRequest = {
  type: 'run';
  script: ArtilleryScript;
  scriptPath: string;
  env?: Record<string, string>;
};
export type WorkerMessage =
  | { type: 'progress'; result: ClientResult }
  | { type: 'done'; result: ClientResult }
  | { type: 'failed'; message: string };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

// Load Artillery before the run request arrives: this process is started ahead of time.
void import('./artillery.js');

process.on('message', async (message: WorkerRequest) => {
  if (message.type !== 'run') return;
  try {
    Object.assign(process.env, message.env ?? {});
    const result = await runScript(message.script, message.scriptPath, {
      onProgress: (r) => void send({ type: 'progress', result: r }),
    });
    await send({ type: 'done', result });
    process.exit(0);
  } catch (err) {
    await send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
});
// Orphaned (the CLI died): stop generating load.
process.on('disconnect', () => process.exit(1));
