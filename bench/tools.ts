import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processTree, reapedChildrenCpuMs, signalProcesses } from './proc.js';

/**
 * Runs whole command-line tools (our `loadtest` CLI, the bare `artillery` CLI, helper servers) as
 * child processes, for the sections that time or price a tool end to end.
 *
 * Every child leads its own process group (detached), so a Ctrl-C in the terminal reaches the bench
 * only and the bench stops its children in order. Stopping one (timeout, abort, end of use) sends
 * SIGTERM to it, so it can stop what it started (our CLI stops DynamoDB Local), then SIGKILL after
 * a grace period, or as soon as it exits, to every process of its tree as seen before the SIGTERM
 * (found through /proc parent ids: DynamoDB Local's JVM runs in a process group of its own) and to
 * its group. A last-resort 'exit' hook SIGKILLs the trees still alive when the bench process ends
 * (second Ctrl-C, crash); only a SIGKILL of the bench itself can leave one behind.
 */

export const LOADTEST_BIN = fileURLToPath(new URL('../bin/loadtest.js', import.meta.url));
/** The artillery CLI as installed (devDependency), run with this Node like ours. */
export const ARTILLERY_BIN = fileURLToPath(new URL('../node_modules/.bin/artillery', import.meta.url));
/** tsx as an ESM loader, for helper processes written in TypeScript. */
export const TSX_LOADER = import.meta.resolve('tsx');

/** How long a child gets to end after SIGTERM before its whole tree is killed. */
const STOP_GRACE_MS = 10_000;

const live = new Set<ChildProcess>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then (after `graceMs` or at its exit) SIGKILL to its tree and group. Resolves at its exit. */
function terminate(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return Promise.resolve();
  const tree = processTree(pid);
  const finish = () => {
    signalProcesses(tree, 'SIGKILL');
    killGroup(pid, 'SIGKILL');
  };
  if (exited(child)) {
    finish();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(finish, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      finish();
      resolve();
    });
    child.kill('SIGTERM');
  });
}

process.on('exit', () => {
  for (const child of live) {
    if (child.pid === undefined) continue;
    signalProcesses(processTree(child.pid), 'SIGKILL');
    killGroup(child.pid, 'SIGKILL');
  }
});

/** Keeps the last `max` characters of a stream (for error messages), plus everything when asked. */
class Capture {
  text = '';
  constructor(private readonly max: number) {}
  add(chunk: Buffer | string): void {
    this.text += String(chunk);
    if (this.text.length > this.max) this.text = this.text.slice(-this.max);
  }
}

const TAIL_CHARS = 4000;

export function tail(text: string, lines = 6): string {
  return text.trimEnd().split('\n').slice(-lines).join(' | ');
}

function startChild(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => {
    live.delete(child);
    // The leader is gone; anything it left in its group goes too.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  });
  return child;
}

/**
 * An Artillery script with one steady phase and one flow of named GETs, as YAML: what the sections
 * that compare `loadtest run` with bare `artillery run` both feed the two tools.
 */
export function steadyGetsYaml(opts: {
  readonly comment: string;
  readonly target: string;
  readonly durationS: number;
  readonly rate: number;
  readonly scenario: string;
  readonly gets: readonly { url: string; name: string }[];
}): string {
  return [
    `# ${opts.comment}`,
    'config:',
    `  target: ${opts.target}`,
    '  phases:',
    `    - duration: ${opts.durationS}`,
    `      arrivalRate: ${opts.rate}`,
    'scenarios:',
    `  - name: ${opts.scenario}`,
    '    flow:',
    ...opts.gets.map((g) => `      - get: { url: ${g.url}, name: ${g.name} }`),
    '',
  ].join('\n');
}

export interface ToolOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (whole group) past this; the run then rejects. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Called once the process is spawned, with its id (to watch its tree while it runs). */
  readonly onStart?: (pid: number) => void;
}

export interface ToolRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** From just before spawn to the exit of the process, ms. */
  readonly wallMs: number;
  /**
   * User + system CPU of the process and every descendant it waited for, ms (undefined off Linux).
   * Valid only when no other child of the bench ends meanwhile: run tools one at a time.
   */
  readonly cpuMs: number | undefined;
  /** The last few KB of each stream. */
  readonly stdout: string;
  readonly stderr: string;
}

/** A tool that did not exit 0, as a problem line with the end of its output; none when it did. */
export function exitProblems(run: ToolRun): string[] {
  if (run.code === 0) return [];
  return [`exit ${run.code ?? run.signal}: ${tail(run.stderr || run.stdout, 3)}`];
}

/** Runs one tool to its end: wall time, CPU of its process tree, exit status, output tails. */
export function runTool(argv: readonly string[], opts: ToolOptions): Promise<ToolRun> {
  if (opts.signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolve, reject) => {
    const stdout = new Capture(TAIL_CHARS);
    const stderr = new Capture(TAIL_CHARS);
    const cpuBefore = reapedChildrenCpuMs();
    const started = performance.now();
    let child: ChildProcess;
    try {
      child = startChild(argv, opts.cwd, { ...process.env, ...opts.env });
    } catch (err) {
      reject(err);
      return;
    }
    child.stdin?.end();
    if (child.pid !== undefined) opts.onStart?.(child.pid);
    child.stdout?.on('data', (c: Buffer) => stdout.add(c));
    child.stderr?.on('data', (c: Buffer) => stderr.add(c));
    let failure: Error | undefined;
    const kill = (why: string) => {
      if (failure) return;
      failure = new Error(why);
      void terminate(child);
    };
    const timer = setTimeout(
      () => kill(`${argv.slice(1, 3).join(' ')}: still running after ${opts.timeoutMs} ms, stopped`),
      opts.timeoutMs,
    );
    const onAbort = () => kill('aborted');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    let wallMs = 0;
    let cpuMs: number | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
    child.once('error', (err) => {
      failure ??= err;
      // Could not start at all: no 'exit' will come.
      if (child.pid === undefined) {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        reject(err);
      }
    });
    child.once('exit', (code, signal) => {
      // Node has reaped the child by now: its tree's CPU is in this process's cutime/cstime.
      wallMs = performance.now() - started;
      const cpuAfter = reapedChildrenCpuMs();
      cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
      exit = { code, signal };
    });
    child.once('close', () => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ ...exit, wallMs, cpuMs, stdout: stdout.text, stderr: stderr.text });
    });
  });
}

/** A long-running helper process (an app, a target server) and what it announced on stdout. */
export interface Service<T> {
  readonly value: T;
  readonly pid: number | undefined;
  /** SIGTERM, up to `graceMs` for it to end, then SIGKILL to its whole tree; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a process that keeps running, and waits until `ready` finds what it needs in its stdout
 * (an URL, a port). Its stdin stays open: a helper that exits when stdin ends dies with the bench.
 */
export function startService<T>(
  argv: readonly string[],
  opts: ToolOptions & { readonly ready: (stdout: string) => T | undefined },
): Promise<Service<T>> {
  if (opts.signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = startChild(argv, opts.cwd, { ...process.env, ...opts.env });
    } catch (err) {
      reject(err);
      return;
    }
    const stdout = new Capture(TAIL_CHARS);
    const stderr = new Capture(TAIL_CHARS);
    const stop = (graceMs = STOP_GRACE_MS) => terminate(child, graceMs);
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      void terminate(child);
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`${argv.slice(1, 3).join(' ')}: not ready after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const onAbort = () => fail(new Error('aborted'));
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', fail);
    child.once('exit', (code, signal) =>
      fail(
        new Error(
          `${argv.slice(1, 3).join(' ')} exited before it was ready (code ${code}, signal ${signal}): ${tail(stderr.text || stdout.text)}`,
        ),
      ),
    );
    child.stderr?.on('data', (c: Buffer) => stderr.add(c));
    child.stdout?.on('data', (c: Buffer) => {
      stdout.add(c);
      if (settled) return;
      const value = opts.ready(stdout.text);
      if (value === undefined) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ value, pid: child.pid, stop });
    });
  });
}

const OK_SERVER = fileURLToPath(new URL('./ok-server.ts', import.meta.url));

/** bench/ok-server.ts, the trivial target, in its own process; its value is the port it listens on. */
export function startOkServer(cwd: string, signal: AbortSignal): Promise<Service<number>> {
  return startService([process.execPath, '--import', TSX_LOADER, OK_SERVER], {
    cwd,
    timeoutMs: 30_000,
    signal,
    ready: (out) => {
      const m = /^port (\d+)$/m.exec(out);
      return m ? Number(m[1]) : undefined;
    },
  });
}
