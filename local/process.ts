import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The user's processes: the app the toolkit starts and stops (`app.start`), and the data command
 * that fills the tables (`data.command`). Each runs in its own process group, so stopping it stops
 * whatever it started (a shell, `npm start`, a JVM), and none outlives the CLI.
 */
export interface ProcessSpec {
  /** An argv list (run as it is), or one shell line (run by /bin/sh). */
  readonly command: readonly string[] | string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSec?: number;
}

/** How a process ended, for a message: "code 7" or "killed by SIGKILL" (never "signal null"). */
export function howItEnded(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `code ${code}`;
}

/** The app did not start, or did not become ready: exit code 3, with what it printed. */
export class AppFailed extends Error {
  override name = 'AppFailed';
}

/** The data command failed; `exitCode` 2 means it refused its input. */
export class DataCommandFailed extends Error {
  override name = 'DataCommandFailed';
  constructor(
    message: string,
    readonly exitCode: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const groups = new Set<number>();
let hooked = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of groups) killGroup(pid, 'SIGKILL');
  });
}

export function describeCommand(spec: ProcessSpec): string {
  return typeof spec.command === 'string' ? spec.command : spec.command.join(' ');
}

function launch(spec: ProcessSpec, env: Record<string, string>): ChildProcess {
  const base = {
    cwd: spec.cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
  };
  let child: ChildProcess;
  try {
    if (typeof spec.command === 'string') child = spawn(spec.command, { ...base, shell: true });
    else {
      const [file, ...args] = spec.command;
      if (!file) throw new AppFailed('an empty command');
      child = spawn(file, args, base);
    }
  } catch (err) {
    if (err instanceof AppFailed) throw err;
    // Some failures (a cwd that is a file: ENOTDIR) are thrown at once.
    throw new AppFailed(cannotStart(spec, base.env, err));
  }
  if (child.pid === undefined) {
    // Others (ENOENT, EACCES) come as an 'error' event a tick later: heard here, so it cannot crash
    // the CLI, and told now with what is wrong.
    child.once('error', () => {});
    throw new AppFailed(cannotStart(spec, base.env));
  }
  return child;
}

/** Why a command did not start, in the user's terms: its folder, or its program. */
function cannotStart(spec: ProcessSpec, env: NodeJS.ProcessEnv, err?: unknown): string {
  const start = `could not start \`${describeCommand(spec)}\` in ${spec.cwd}`;
  const folder = statSync(spec.cwd, { throwIfNoEntry: false });
  if (!folder) return `${start}: that folder (its cwd) does not exist`;
  if (!folder.isDirectory()) return `${start}: that is not a folder (its cwd)`;
  const file = typeof spec.command === 'string' ? undefined : spec.command[0];
  if (file !== undefined) {
    const onPath = !file.includes('/');
    const candidates = onPath
      ? (env.PATH ?? '').split(delimiter).map((d) => join(d, file))
      : [isAbsolute(file) ? file : resolve(spec.cwd, file)];
    const found = candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile());
    if (!found) {
      return `${start}: ${onPath ? `${file} is not on PATH` : `${candidates[0]} does not exist`} (a command given as a list runs its first item as a program, with no shell)`;
    }
    try {
      accessSync(found, constants.X_OK);
    } catch {
      return `${start}: ${found} is not executable (chmod +x it, or name its interpreter first, e.g. ["sh", "${file}"])`;
    }
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? `${start}: ${code}` : start;
}

/** Keeps the last lines a process printed, for error messages; forwards each line if asked. */
function tail(child: ChildProcess, onLine?: (line: string) => void): () => string {
  let kept: string[] = [];
  let partial = '';
  const take = (b: Buffer) => {
    const text = partial + b.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      onLine?.(l);
      kept.push(l);
    }
    if (kept.length > 60) kept = kept.slice(-40);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => [...kept, ...(partial ? [partial] : [])].slice(-40).join('\n');
}

export interface RunningProcess {
  readonly pid: number;
  /** What it printed last (up to 40 lines). */
  output(): string;
  /** Called once if it exits before `stop()`. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  spec: ProcessSpec,
  env: Record<string, string>,
  onLine?: (line: string) => void,
): RunningProcess {
  const child = launch(spec, env);
  const pid = child.pid as number;
  groups.add(pid);
  installExitHook();
  const output = tail(child, onLine);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopping = false;
  const listeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  const gone = new Promise<void>((resolve) => {
    child.once('error', () => {
      exited ??= { code: null, signal: null };
      groups.delete(pid);
      resolve();
    });
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      groups.delete(pid);
      if (!stopping) for (const l of listeners) l(code, signal);
      resolve();
    });
  });
  return {
    pid,
    output,
    onExit: (l) => {
      if (exited && !stopping) l(exited.code, exited.signal);
      else listeners.push(l);
    },
    async stop(graceMs = 5000) {
      if (exited) {
        // The leader is gone; what it started may not be.
        killGroup(pid, 'SIGKILL');
        return;
      }
      stopping = true;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
      killGroup(pid, 'SIGKILL');
    },
  };
}

export interface Readiness {
  readonly url: string;
  readonly path: string;
  /** Statuses that mean ready; default any HTTP answer. */
  readonly status?: readonly number[];
  readonly timeoutSec: number;
}

export interface WaitOptions {
  /** Stops the polling (the stack is going down): the wait rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * The readiness timeout counts from when this settles, not from the call: an app watched from
   * its launch, while DynamoDB Local still starts, gets its whole timeout after the tables exist.
   */
  readonly timeoutStarts?: Promise<unknown>;
  /** Said instead of the bare ECONNREFUSED when nothing listens at the URL (e.g. the app ignores its port). */
  readonly refused?: string;
}

/** The user-agent of the CLI's own checks (ready, reachable): an app's log, or a bench, tells them from load. */
export const CHECK_USER_AGENT = 'dynamo-loadtest-check';

/**
 * GET `url` and its status once the answer is read. Node's http client, not fetch: fetch refuses the
 * ports browsers block (6000, 6665-6669, 10080...: "bad port"), which an app may well listen on, and
 * Artillery's client sends to them as to any other.
 */
export async function httpStatus(url: string, timeoutMs: number): Promise<number> {
  // node:https (and TLS with it) is loaded only for an https URL: not on every start of the CLI.
  const send = url.startsWith('https:') ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': CHECK_USER_AGENT } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** Polls until the app answers as ready; fails early if the process exits. */
export async function waitReady(
  app: RunningProcess | undefined,
  ready: Readiness,
  what: string,
  options: WaitOptions = {},
): Promise<void> {
  let deadline = options.timeoutStarts ? Number.POSITIVE_INFINITY : Date.now() + ready.timeoutSec * 1000;
  options.timeoutStarts?.then(
    () => {
      deadline = Date.now() + ready.timeoutSec * 1000;
    },
    () => {},
  );
  let exited: string | undefined;
  app?.onExit((code, signal) => {
    exited = `exited (${howItEnded(code, signal)})`;
  });
  let last = 'no answer yet';
  for (;;) {
    options.signal?.throwIfAborted();
    if (exited)
      throw new AppFailed(
        `${what} ${exited} before it was ready${app ? `\n--- its output ---\n${app.output()}` : ''}`,
      );
    try {
      const status = await httpStatus(`${ready.url}${ready.path}`, 2000);
      if (!ready.status || ready.status.includes(status)) return;
      last = `GET ${ready.path} answered ${status}, want ${ready.status.join(' or ')}`;
    } catch (err) {
      const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' && options.refused;
      last = `GET ${ready.url}${ready.path}: ${refused ? options.refused : (err as Error).message}`;
    }
    if (Date.now() > deadline) {
      throw new AppFailed(
        `${what} was not ready after ${ready.timeoutSec} s (${last})${app ? `\n--- its output ---\n${app.output()}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a command to its end; rejects with its output when it fails or times out. */
export async function runToEnd(
  spec: ProcessSpec,
  env: Record<string, string>,
  onLine?: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  let p: RunningProcess;
  try {
    p = startProcess(spec, env, onLine);
  } catch (err) {
    throw new DataCommandFailed((err as Error).message, null, { cause: err });
  }
  const timeoutMs = (spec.timeoutSec ?? 600) * 1000;
  const result = await new Promise<
    { code: number | null; signal: NodeJS.Signals | null } | 'timeout' | 'aborted'
  >((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    const onAbort = () => resolve('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    p.onExit((code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal: sig });
    });
  });
  if (result === 'aborted') {
    await p.stop(1000);
    throw new DataCommandFailed(`\`${describeCommand(spec)}\` was stopped`, null);
  }
  if (result === 'timeout') {
    await p.stop(1000);
    throw new DataCommandFailed(
      `\`${describeCommand(spec)}\` did not finish in ${timeoutMs / 1000} s\n--- its output ---\n${p.output()}`,
      null,
    );
  }
  // The group may hold children the command left behind.
  await p.stop(0);
  if (result.code !== 0) {
    throw new DataCommandFailed(
      `\`${describeCommand(spec)}\` failed (${howItEnded(result.code, result.signal)})\n--- its output ---\n${p.output()}`,
      result.code,
    );
  }
}
