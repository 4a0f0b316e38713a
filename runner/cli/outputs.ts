import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** A file a command writes, by the flag that named it (`--junit`), or undefined when not asked for. */
export type Output = readonly [flag: string, path: string | undefined];

const why = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * Before any work: each output can be written (its folder made, not a folder itself, writable), or
 * exit 2 naming the flag. Found only after the load, the same mistake cost the whole run's report.
 */
export async function checkOutputs(outputs: readonly Output[]): Promise<void> {
  for (const [flag, path] of outputs) {
    if (path === undefined) continue;
    const full = resolve(path);
    const found = await stat(full).catch(() => undefined);
    if (found?.isDirectory()) throw new UsageError(`${flag} ${path}: that is a folder; name a file (in it)`);
    try {
      await mkdir(dirname(full), { recursive: true });
      await access(found ? full : dirname(full), constants.W_OK);
    } catch (err) {
      throw new UsageError(`${flag} ${path}: cannot be written here (${why(err)})`);
    }
  }
}

/**
 * Writes one output, its folder made. A failure (the disk filled, a path the check could not judge)
 * is said naming the flag and returned, so the other outputs and the verdict still come.
 */
export async function writeOutput(flag: string, path: string, text: string): Promise<boolean> {
  try {
    await mkdir(dirname(resolve(path)), { recursive: true });
    await writeFile(path, text);
    return true;
  } catch (err) {
    console.error(`error: ${flag} ${path}: could not be written (${why(err)})`);
    return false;
  }
}
