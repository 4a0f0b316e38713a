import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Amazon's DynamoDB Local (the Java emulator) as a child process: in memory (or on disk with
 * `dbPath`), one database for every access key (`-sharedDb`, so an app, a seed script and the AWS CLI
 * with different dummy keys all see the same tables), listening on 127.0.0.1 only, killed with its
 * parent so no Java process outlives the CLI.
 */
export class JavaMissing extends Error {
  override name = 'JavaMissing';
  constructor(options?: { cause?: unknown }) {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`), ' +
        'or point at any DynamoDB-compatible endpoint with --dynamodb-endpoint URL.',
      options,
    );
  }
}

export class DynamoDBLocalFailed extends Error {
  override name = 'DynamoDBLocalFailed';
  constructor(
    message: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(output ? `${message}\n--- DynamoDB Local output ---\n${output.trim()}` : message, options);
  }
}

export interface DynamoDBLocalOptions {
  readonly port?: number;
  /** One database for every access key (default true); false gives each key its own tables. */
  readonly sharedDb?: boolean;
  /** Keep data in this folder instead of memory. */
  readonly dbPath?: string;
  readonly startTimeoutMs?: number;
  readonly java?: string;
}

export interface DynamoDBLocal {
  readonly endpoint: string;
  /** False when it could not be bound to loopback and listens on every interface (see `note`). */
  readonly loopbackOnly: boolean;
  /** Said once when something is not as asked (e.g. why it is not loopback-only). */
  readonly note?: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process is gone. */
  stop(): Promise<void>;
  /** Called once if the process dies without `stop()`. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export function javaVersion(java = 'java'): string {
  try {
    // `java -version` writes to stderr.
    const out = execFileSync(java, ['-version'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return out;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (e.code === 'ENOENT') throw new JavaMissing({ cause: err });
    if (typeof e.stderr === 'string' && e.status === 0) return e.stderr;
    if (typeof e.stderr === 'string' && e.stderr.includes('version')) return e.stderr;
    throw new JavaMissing({ cause: err });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last line of defence: whatever way this process ends, its emulators go with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  // A signal that no command handles yet (say, Ctrl-C while the stack is still starting) would end
  // Node without 'exit': take the emulators down, then die of the same signal.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      killAll();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    // Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is listening.
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const LAUNCHER = fileURLToPath(new URL('./java/LoopbackDynamoDBLocal.java', import.meta.url));

/**
 * The loopback launcher, compiled once per launcher source, emulator and Java version into a cache
 * folder (the JRE's compiler module does it in source-file mode; about 3 s, the first time only).
 * Undefined, with the reason, when it cannot be compiled: DynamoDB Local then listens on every
 * interface as it does by itself.
 */
async function loopbackLauncher(java: string, jar: string): Promise<{ dir?: string; problem?: string }> {
  const version = javaVersion(java);
  const hash = createHash('sha256')
    .update(readFileSync(LAUNCHER))
    .update(jar)
    .update(version)
    .digest('hex')
    .slice(0, 16);
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {}
  const dir = join(tmpdir(), `dynamo-loadtest-${user}`, `launcher-${hash}`);
  if (existsSync(join(dir, 'LoopbackDynamoDBLocal.class'))) return { dir };
  // Compile next to it and rename: concurrent starts (parallel test files) never see half a class.
  const scratch = `${dir}.${process.pid}.${Date.now()}`;
  await mkdir(scratch, { recursive: true });
  const problem = await new Promise<string | undefined>((resolve) =>
    execFile(
      java,
      ['-cp', jar, LAUNCHER, '--compile-to', scratch, LAUNCHER, jar],
      { timeout: 60_000 },
      (err, _out, stderr) => resolve(err ? `${err.message} ${stderr}`.trim() : undefined),
    ),
  );
  if (problem) {
    await rm(scratch, { recursive: true, force: true });
    return { problem };
  }
  await rename(scratch, dir).catch(async () => {
    // Another process won the race: its copy is the same class.
    await rm(scratch, { recursive: true, force: true });
  });
  return existsSync(join(dir, 'LoopbackDynamoDBLocal.class')) ? { dir } : { problem: `no class in ${dir}` };
}

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocal> {
  const java = options.java ?? 'java';
  javaVersion(java);
  const dir = emulatorDir();
  const jar = join(dir, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    throw new DynamoDBLocalFailed(`DynamoDB Local jar not found at ${jar}: run npm install`, '');
  }
  const port = options.port ?? (await freePort());
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const shared = options.sharedDb === false ? [] : ['-sharedDb'];
  const launcher = await loopbackLauncher(java, jar);
  const main = launcher.dir
    ? ['-cp', `${launcher.dir}${delimiter}${jar}`, 'LoopbackDynamoDBLocal']
    : ['-jar', jar];
  const child = spawn(
    java,
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      ...main,
      ...storage,
      ...shared,
      '-port',
      String(port),
    ],
    // Own process group, so a Ctrl-C in the terminal reaches us first and we stop it in order. Its
    // stdin is a pipe we never write: the launcher exits when it closes, i.e. when we die, however.
    {
      cwd: dir,
      stdio: [launcher.dir ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, LOADTEST_WATCH_PARENT: '1' },
    },
  );
  live.add(child);
  installExitHook();
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopping = false;
  const exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      if (!stopping) for (const l of exitListeners) l(code, signal);
      resolve();
    });
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await answers(endpoint))) {
    if (exited) {
      throw new DynamoDBLocalFailed(
        `DynamoDB Local exited during start (code ${exited.code}, signal ${exited.signal})`,
        output,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new DynamoDBLocalFailed(`DynamoDB Local did not answer on ${endpoint} in time`, output);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    port,
    loopbackOnly: launcher.dir !== undefined,
    ...(launcher.problem
      ? {
          note: `DynamoDB Local listens on every interface (port ${port}): the loopback launcher did not compile (${launcher.problem.split('\n')[0]}); keep that port firewalled`,
        }
      : {}),
    pid: child.pid ?? -1,
    onExit: (l) => exitListeners.push(l),
    async stop() {
      if (exited) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
