import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What `loadtest up` records about the running stack in <state-dir>/stack.json. */
export interface StackFile {
  appUrl: string;
  dynamodbEndpoint: string;
  tableName: string;
  pid: number;
}

export async function readStackFile(stateDir: string): Promise<StackFile | undefined> {
  try {
    const data = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as StackFile;
    // A stack.json whose process is gone is stale (a crash or SIGKILL left it behind).
    process.kill(data.pid, 0);
    return data;
  } catch {
    return undefined;
  }
}
