import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of other processes, from Linux /proc. Best effort: elsewhere (or if /proc is not
 * readable) every function answers undefined and callers leave the figure out.
 */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function stat(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split what follows its closing parenthesis.
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU time the process has used so far, ms. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const f = stat(pid);
  // utime and stime are fields 14 and 15 of stat: indexes 11 and 12 after the name.
  const utime = Number(f?.[11]);
  const stime = Number(f?.[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / clockTicks();
}

/**
 * User + system CPU time of this process's children that have ended and been waited for, ms
 * (cutime + cstime). The kernel adds a child's own total (its descendants it waited for included)
 * when the child is reaped, so the difference across one child's run prices its whole process tree.
 * Node reaps a child before it emits 'exit'.
 */
export function reapedChildrenCpuMs(): number | undefined {
  const f = stat(process.pid);
  // cutime and cstime are fields 16 and 17 of stat: indexes 13 and 14 after the name.
  const cutime = Number(f?.[13]);
  const cstime = Number(f?.[14]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) return undefined;
  return ((cutime + cstime) * 1000) / clockTicks();
}

/** A process as seen in /proc: its id plus its start time, so a reused id is not mistaken for it. */
export interface ProcessId {
  readonly pid: number;
  readonly startTicks: string;
}

/**
 * `root` and all its live descendants, following parent ids in /proc (so processes that moved to
 * their own process group, like DynamoDB Local's JVM, are included). Empty off Linux.
 */
export function processTree(root: number): ProcessId[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, ProcessId[]>();
  let self: ProcessId | undefined;
  for (const e of entries) {
    const pid = Number(e);
    const f = stat(pid);
    // ppid is field 4 (index 1 after the name), starttime field 22 (index 19).
    const ppid = Number(f?.[1]);
    const startTicks = f?.[19];
    if (!Number.isFinite(ppid) || startTicks === undefined) continue;
    const p = { pid, startTicks };
    if (pid === root) self = p;
    const list = children.get(ppid) ?? [];
    list.push(p);
    children.set(ppid, list);
  }
  if (!self) return [];
  const out: ProcessId[] = [];
  const queue: ProcessId[] = [self];
  for (let p = queue.shift(); p; p = queue.shift()) {
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** Sends `signal` to each process still alive under the same id and start time. */
export function signalProcesses(procs: readonly ProcessId[], signal: NodeJS.Signals): void {
  for (const p of procs) {
    if (stat(p.pid)?.[19] !== p.startTicks) continue;
    try {
      process.kill(p.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** The process's command line, arguments joined by spaces (undefined once it is gone). */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** The process's peak resident set size so far (VmHWM), bytes; undefined off Linux or once gone. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
