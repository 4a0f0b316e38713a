import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackFile } from '../../runner/cli/stack-file.js';
import { type CliRun, ROOT, runCli } from './cli.js';

/**
 * The orders example (examples/orders) run by the real CLI, as its README says: `loadtest up` with its
 * YAML config in a temporary state folder, on ports the system picks. Nothing here knows the example's
 * code; the tests talk to it over HTTP and to DynamoDB with their own SDK client.
 */
export const EXAMPLE_DIR = join(ROOT, 'examples/orders');
export const EXAMPLE_CONFIG = join(EXAMPLE_DIR, 'loadtest.config.yml');

export interface UpStack {
  readonly run: CliRun;
  readonly state: string;
  readonly stack: StackFile;
  /** SIGTERM, then wait for `up` to stop everything it started (SIGKILL if it has not in 20 s). */
  stop(): Promise<void>;
}

/** `loadtest up --config <the example> --gate-port 0 --port 0 --state-dir <tmp>` plus `args`. */
export async function upExample(args: readonly string[] = [], timeoutMs = 100_000): Promise<UpStack> {
  const state = await mkdtemp(join(tmpdir(), 'loadtest-example-'));
  const run = runCli([
    'up',
    '--config',
    EXAMPLE_CONFIG,
    '--gate-port',
    '0',
    '--port',
    '0',
    '--state-dir',
    state,
    ...args,
  ]);
  const stop = async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      await run.exited;
      clearTimeout(timer);
    }
    await rm(state, { recursive: true, force: true });
  };
  try {
    // (CliRun.waitFor notices an exit only at its timeout: race it with the exit.)
    const [, file = ''] = await Promise.race([
      run.waitFor(/^stack: (.+)$/m, timeoutMs),
      run.exited.then(({ code, signal }) => {
        throw new Error(
          `loadtest up exited (code ${code}, signal ${signal}) before it was up:\n${run.stderr()}`,
        );
      }),
    ]);
    const stack = JSON.parse(await readFile(file.trim(), 'utf8')) as StackFile;
    return { run, state, stack, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the example answers JSON of several shapes.
  body: any;
}

/** One HTTP request to the example app, JSON in and out. */
export async function call(appUrl: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${appUrl}${path}`, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed };
}

/** The SDK's variables for a non-Node client of the stack: the gate, the region, dummy keys, no profile. */
export function clientEnv(stack: StackFile): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing of a real AWS account reaches the client.
    if (!k.startsWith('AWS_')) env[k] = v;
  }
  return {
    ...env,
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoint,
    AWS_REGION: stack.region,
    AWS_DEFAULT_REGION: stack.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}
