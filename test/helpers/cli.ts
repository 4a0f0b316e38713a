import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/loadtest.js', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `pattern`, or rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the real CLI as a process, the way a user's shell would. */
export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    command?: string[];
    /** In a process group of its own, as a terminal runs a command: signal it all with kill(-pid). */
    group?: boolean;
  } = {},
): CliRun {
  const command = options.command ?? [process.execPath, BIN];
  const child = spawn(command[0] ?? process.execPath, [...command.slice(1), ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group === true,
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      // Set before the waiters run, so a waitFor still pending fails now instead of at its timeout.
      done = true;
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else if (done) {
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/**
 * Runs each command line (three at a time: each waits mostly on Node's start, not the CPU) and
 * returns them in order, exited, with their exit codes.
 */
export async function runEach(
  lines: readonly (readonly string[])[],
  options: Parameters<typeof runCli>[1] = {},
): Promise<{ run: CliRun; code: number | null }[]> {
  const out: { run: CliRun; code: number | null }[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const batch = lines.slice(i, i + 3).map((args) => runCli([...args], options));
    for (const run of batch) out.push({ run, code: (await run.exited).code });
  }
  return out;
}
