import { constants } from 'node:fs';
import { access, appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** A file a command writes, by the flag that named it (`--junit`), or undefined when not asked for. */
export type Output = readonly [flag: string, path: string | undefined];

const why = (err: unknown) =>
  err instanceof NotAFolder ? err.message : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);

/** A path's folder part names a file. */
class NotAFolder extends Error {
  constructor(readonly path: string) {
    super(`${path} is a file, not a folder`);
    this.name = 'NotAFolder';
  }
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(..., { recursive: true })` loops for ever under a
 * folder that refuses new entries with ENOENT (`/proc/x/y` on Node 20), and says EEXIST when the
 * folder part is a file, which names the wrong cause.
 */
async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const found = await stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (found) {
      if (!found.isDirectory()) throw new NotAFolder(at);
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing) {
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

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
      await makeFolder(dirname(full));
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
    await makeFolder(dirname(resolve(path)));
    await writeFile(path, text);
    return true;
  } catch (err) {
    console.error(`error: ${flag} ${path}: could not be written (${why(err)})`);
    return false;
  }
}

/**
 * Appends the Markdown summary to GitHub's $GITHUB_STEP_SUMMARY when it is set. A file that cannot
 * be written (the variable passed into a container where its path does not exist) is a warning: the
 * run's verdict and exit code stand.
 */
export async function appendStepSummary(markdown: string): Promise<void> {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return;
  await appendFile(path, markdown).catch((err: unknown) =>
    console.error(`warning: $GITHUB_STEP_SUMMARY ${path}: could not be appended to (${why(err)})`),
  );
}
