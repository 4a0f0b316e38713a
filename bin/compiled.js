// Whether the CLI can run its compiled JavaScript (dist/, built by `npm run build`, which `npm install`
// runs as `prepare`) or must run its TypeScript sources through tsx: dist/ is used only when it was
// built from exactly the sources there are now (the same files, none changed since), so an edit, a
// `git pull` or a checkout falls back to the sources until the next build, never to stale code.
// Plain JavaScript: it runs before anything can load TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The folders compiled to dist/ (with tsconfig.build.json); infra/ for the one module the CLI imports;
 * app/ for the reference shop's app and data command, bundled into dist/app/.
 */
export const SOURCE_DIRS = ['runner', 'local', 'instrument', 'dashboards', 'infra', 'app'];
export const STAMP = 'dist/build.json';

/**
 * What the build depends on: how many .ts files, the hash of their paths, and the newest one's mtime.
 * @param {string} root the package's folder
 * @returns {{ files: number; paths: string; newestMs: number }}
 */
export function sourceState(root) {
  const files = [];
  let newestMs = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        files.push(relative(root, path));
        newestMs = Math.max(newestMs, statSync(path).mtimeMs);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  files.sort();
  return {
    files: files.length,
    paths: createHash('sha256').update(files.join('\n')).digest('hex'),
    newestMs,
  };
}

/**
 * Pure: a build stamp matches the sources when it names the same files and none is newer than it.
 * @param {unknown} stamp what the build wrote (anything: a missing or broken stamp never matches)
 * @param {{ files: number; paths: string; newestMs: number }} now
 */
export function stampMatches(stamp, now) {
  if (typeof stamp !== 'object' || stamp === null) return false;
  const s = /** @type {Record<string, unknown>} */ (stamp);
  return (
    s.files === now.files &&
    s.paths === now.paths &&
    typeof s.newestMs === 'number' &&
    now.newestMs <= s.newestMs
  );
}

/**
 * True when dist/ holds an up-to-date build of the sources under `root`.
 * @param {string} root
 */
export function compiledIsCurrent(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return false;
  }
  return stampMatches(stamp, sourceState(root));
}

/**
 * Whether the CLI under `root` runs its compiled JavaScript: dist/ is a build of the sources, and the
 * environment does not ask for the sources (LOADTEST_FROM_SOURCE=1). The one rule for bin/loadtest.js
 * and for the bench, which runs what the CLI would.
 * @param {string} root
 * @param {NodeJS.ProcessEnv} [env]
 */
export function runsCompiled(root, env = process.env) {
  return env.LOADTEST_FROM_SOURCE !== '1' && compiledIsCurrent(root);
}

/**
 * Each option of a command line as [flag, value]: `--x=v` split at its `=`, `--x v` paired with the
 * argument after it (which may be the next flag: the callers only read values of flags that take one).
 * @param {readonly string[]} argv the arguments after `loadtest <command>`
 * @returns {[string, string | undefined][]}
 */
function flagsOf(argv) {
  return argv.map((arg, i) => {
    const eq = arg.indexOf('=');
    return eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, argv[i + 1]];
  });
}

/**
 * Pure: whether a command line will start DynamoDB Local, so it can be spawned before the rest of the
 * CLI loads (its JVM takes seconds to start: the longest part of start-up). A wrong yes only costs a
 * JVM that is stopped unused; a wrong no only costs the head start.
 * @param {readonly string[]} argv the arguments after `loadtest`
 */
export function startsDynamoDBLocal(argv) {
  const command = argv[0];
  if (command !== 'run' && command !== 'up') return false;
  for (const [flag, value] of flagsOf(argv.slice(1))) {
    if (['--url', '--dynamodb-endpoint', '--persist', '--help', '-h', '--version'].includes(flag))
      return false;
    if (flag === '--target' && value !== 'local') return false;
  }
  return true;
}

/** Workers started ahead of a run at most: a bigger --workers starts the rest when the run begins. */
export const MAX_EARLY_WORKERS = 8;

/**
 * Pure: how many local load workers a command line will run, so their processes (Node, then
 * Artillery: most of a second) start while the CLI loads the rest; 0 for any command that runs none.
 * A wrong count only costs processes that exit unused with the CLI, or a later start.
 * @param {readonly string[]} argv the arguments after `loadtest`
 */
export function earlyWorkers(argv) {
  if (argv[0] !== 'run') return 0;
  let workers = 1;
  for (const [flag, value] of flagsOf(argv.slice(1))) {
    if (['--help', '-h', '--version'].includes(flag)) return 0;
    if (flag === '--target' && value !== 'local') return 0;
    if (flag === '--workers') {
      const n = Number(value);
      // A bad count is the CLI's to refuse, with its message: nothing starts for it.
      if (!Number.isInteger(n) || n < 1) return 0;
      workers = n;
    }
  }
  return Math.min(workers, MAX_EARLY_WORKERS);
}
