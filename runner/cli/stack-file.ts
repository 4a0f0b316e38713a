import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * What `loadtest up` records about the running stack in <state-dir>/stack.json, so `run --url`,
 * `seed`, `import`, `events` and `dashboard` use it from other processes.
 */
export interface StackFile {
  readonly version: 2;
  /** The project config the stack runs. */
  readonly project: string;
  readonly name: string;
  readonly region: string;
  /** The app's URL, when the stack runs one (or the project names one). */
  readonly appUrl: string | null;
  /** What apps use: the gate (or DynamoDB when there is none). */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  /** The capacity gate's admin endpoint (counters, reset), when it runs. */
  readonly gateAdminUrl: string | null;
  readonly tables: readonly string[];
  readonly fixtures: string | null;
  readonly pid: number;
  readonly dynamodbPid: number | null;
  readonly appPid: number | null;
  readonly startedAt: string;
}

export const STACK_FILE = 'stack.json';

/**
 * Why the capacity gate of `loadtest up` names this run's calls with other access patterns than the
 * run's project has: it runs another config, or the config changed after it started (the gate took
 * its rules then). Undefined when they are the same. `modifiedMs`: the project file's mtime.
 */
export function stackPatternsDiffer(
  stack: StackFile,
  projectFile: string,
  modifiedMs: number,
): string | undefined {
  const how = `the capacity gate of loadtest up (pid ${stack.pid}) names DynamoDB calls with the access patterns`;
  if (resolve(stack.project) !== resolve(projectFile))
    return `${how} of ${stack.project}, not of ${projectFile}: the rows follow those; restart loadtest up with --config ${projectFile} to measure with these`;
  const started = Date.parse(stack.startedAt);
  if (Number.isFinite(started) && modifiedMs > started)
    return `${how} of ${projectFile} as it was when loadtest up started (${stack.startedAt}); the file changed since: restart loadtest up to measure with its patterns as they are now`;
  return undefined;
}

export async function readStackFile(stateDir: string): Promise<StackFile | undefined> {
  try {
    const data = JSON.parse(await readFile(join(stateDir, STACK_FILE), 'utf8')) as StackFile;
    if (data.version !== 2) return undefined;
    // A stack.json whose process is gone is stale (a crash or SIGKILL left it behind).
    process.kill(data.pid, 0);
    return data;
  } catch {
    return undefined;
  }
}

export async function writeStackFile(stateDir: string, stack: StackFile): Promise<string> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, STACK_FILE);
  await writeFile(path, `${JSON.stringify(stack, null, 2)}\n`);
  return path;
}

export async function removeStackFile(stateDir: string): Promise<void> {
  await rm(join(stateDir, STACK_FILE), { force: true });
}
