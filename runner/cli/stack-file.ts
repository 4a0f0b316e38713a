import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
