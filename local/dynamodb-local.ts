import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { howItEnded } from './process.js';
import { PACKAGE_ROOT } from './runtime.js';

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
  /** The class-data archive it started with (see classDataArchive), if any. */
  readonly classDataArchive?: string;
  /** Without one: where the archive being trained in the background will be. */
  readonly classDataTraining?: string;
  readonly port: number;
  readonly pid: number;
  /** From its spawn to its first answer (an early start's spawn was before anyone asked for it). */
  readonly startMs: number;
  /** Resolves when the process is gone. */
  stop(): Promise<void>;
  /** Called once if the process dies without `stop()`. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

/**
 * What `java -version` said (it writes to stderr), from how it ended: JavaMissing when there is no
 * such executable, or when it failed without saying a version (not a JVM).
 */
function javaVersionText(err: (Error & { code?: unknown }) | null, stdout: string, stderr: string): string {
  if (!err) return stderr || stdout;
  if (err.code === 'ENOENT' || !stderr.includes('version')) throw new JavaMissing({ cause: err });
  return stderr;
}

/** `java -version`'s text, synchronously (javaVersionKept keeps it between processes and does not block). */
export function javaVersion(java = 'java'): string {
  const r = spawnSync(java, ['-version'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const err: (Error & { code?: unknown }) | null =
    r.error ?? (r.status === 0 ? null : new Error(`${java} -version exited with ${r.status ?? r.signal}`));
  return javaVersionText(err, r.stdout ?? '', r.stderr ?? '');
}

export async function freePort(): Promise<number> {
  return bindAndRelease(0);
}

/** Whether another process holds `port` on 127.0.0.1 now (a fixed port given to an app). */
export async function portTaken(port: number): Promise<boolean> {
  return bindAndRelease(port).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
  );
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(bound));
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

const versions = new Map<string, Promise<string>>();

/**
 * This user's folder for what the launcher keeps between runs (the compiled launcher, archives, the
 * Java version): LOADTEST_CACHE_DIR when set (say, a folder a CI job caches), else in the temp folder.
 */
export function cacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.LOADTEST_CACHE_DIR) return env.LOADTEST_CACHE_DIR;
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {}
  return join(tmpdir(), `dynamo-loadtest-${user}`);
}

/**
 * The Java executable a command name runs (as the shell finds it on PATH, symbolic links followed,
 * Debian's alternatives included), with its size and modification time: what tells one Java
 * installation from the next. Undefined when it is not found (then `java -version` says why).
 */
function javaIdentity(java: string): string | undefined {
  const candidates = java.includes('/')
    ? [java]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d || '.', java));
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      const s = statSync(real);
      if (s.isFile()) return `${real}\0${s.size}\0${s.mtimeMs}`;
    } catch {}
  }
  return undefined;
}

/**
 * `java -version`, asked once per Java installation and kept in the cache folder: it is a JVM start
 * of its own (~0.25 s and ~0.14 s of CPU here) that stood between the CLI's start and DynamoDB
 * Local's spawn, the longest part of an embedded run's start-up. Asked again when the executable
 * changes (an upgrade). Never blocks the process.
 */
export async function javaVersionKept(java: string): Promise<string> {
  const identity = javaIdentity(java);
  const kept = identity
    ? join(cacheRoot(), `java-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}.version`)
    : undefined;
  if (kept) {
    const text = await readFile(kept, 'utf8').catch(() => undefined);
    if (text) return text;
  }
  const text = await new Promise<string>((resolve, reject) =>
    execFile(java, ['-version'], { encoding: 'utf8' }, (err, stdout, stderr) => {
      try {
        resolve(javaVersionText(err, stdout, stderr));
      } catch (missing) {
        reject(missing);
      }
    }),
  );
  if (kept) await keepFile(kept, text);
  return text;
}

/** javaVersionKept, once per process. */
function javaVersionOnce(java: string): Promise<string> {
  let version = versions.get(java);
  if (!version) {
    version = javaVersionKept(java);
    versions.set(java, version);
  }
  return version;
}

/** Writes next to the file and renames, so a concurrent reader never sees half of it; best effort. */
async function keepFile(file: string, text: string): Promise<void> {
  const scratch = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(scratch, text);
    await rename(scratch, file);
  } catch {
    await rm(scratch, { force: true }).catch(() => {});
  }
}

const LAUNCHER = join(PACKAGE_ROOT, 'local', 'java', 'LoopbackDynamoDBLocal.java');

/**
 * The loopback launcher, compiled once per launcher source, emulator and Java version into a cache
 * folder (the JRE's compiler module does it in source-file mode; about 3 s, the first time only).
 * Undefined, with the reason, when it cannot be compiled: DynamoDB Local then listens on every
 * interface as it does by itself.
 */
async function loopbackLauncher(java: string, jar: string): Promise<{ dir?: string; problem?: string }> {
  const version = await javaVersionOnce(java);
  const hash = createHash('sha256')
    .update(readFileSync(LAUNCHER))
    .update(jar)
    .update(version)
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheRoot(), `launcher-${hash}`);
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

/**
 * Class-data sharing for DynamoDB Local (AppCDS): its JVM maps the classes a run loads from an archive
 * instead of reading and verifying them from 165 jars, which measured 2.25 s -> 1.25-1.5 s to ready and
 * 2.9 -> 1.7 s of CPU per start here. The archive is trained once per launcher folder (launcher source,
 * emulator, Java version) and JVM flags, in the background, by a start of its own that makes the calls
 * a run makes and exits (the launcher's --train); until it exists, starts are as before. The class
 * path must be exactly the one trained with, and jars only (see the launcher's comment), so it lists
 * the launcher folder's two jars and the emulator's library jars in a fixed order.
 */
function classDataArchive(
  java: string,
  launcherDir: string,
  emulator: string,
  flags: readonly string[],
  wait: boolean,
): { file: string; classPath: string; trained: boolean; training?: Promise<void> } | undefined {
  const own = ['launcher.jar', 'DynamoDBLocal.jar'].map((f) => join(launcherDir, f));
  if (!own.every((f) => existsSync(f))) return undefined;
  const lib = join(emulator, 'DynamoDBLocal_lib');
  let jars: string[];
  try {
    jars = readdirSync(lib)
      .filter((f) => f.endsWith('.jar'))
      .sort()
      .map((f) => join(lib, f));
  } catch {
    return undefined;
  }
  const classPath = [...own, ...jars].join(delimiter);
  const file = join(
    launcherDir,
    `classes-${createHash('sha256').update(flags.join(' ')).digest('hex').slice(0, 12)}.jsa`,
  );
  if (existsSync(file)) return { file, classPath, trained: true };
  const training = trainInBackground(
    java,
    [...flags, ...emulatorProperties(emulator, launcherDir), '-cp', classPath],
    emulator,
    file,
    wait,
  );
  return { file, classPath, trained: false, training };
}

/** The archives this process has set off training (one training per archive and process). */
const training = new Set<string>();

/**
 * Trains the archive in a detached process that outlives this one if need be (training takes ~7 s, a
 * short run less): a Node one-liner runs the training JVM and renames its archive into place once
 * it exited cleanly, so no start ever sees half an archive. One at a time per archive (a lock file;
 * a stale one, from a machine that went down mid-training, is taken over after 2 minutes). Resolves
 * when that process has exited (at once when none was started); with `wait` it also keeps this
 * process alive until then.
 */
function trainInBackground(
  java: string,
  jvmArgs: readonly string[],
  cwd: string,
  file: string,
  wait: boolean,
): Promise<void> {
  const none = Promise.resolve();
  if (training.has(file)) return none;
  training.add(file);
  // A training that failed (an old JVM, a broken emulator) is not retried at every start: once a day.
  try {
    if (Date.now() - statSync(`${file}.failed`).mtimeMs < 86_400_000) return none;
  } catch {}
  const lock = `${file}.lock`;
  try {
    closeSync(openSync(lock, 'wx'));
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs < 120_000) return none;
      // Stale: taken over, and marked fresh so no other start takes it over too.
      const now = new Date();
      utimesSync(lock, now, now);
    } catch {
      return none;
    }
  }
  const scratch = `${file}.${process.pid}.tmp`;
  return freePort().then((port) => {
    const script = [
      "const { spawnSync } = require('node:child_process');",
      "const fs = require('node:fs');",
      'const [java, args, scratch, file, lock] = process.argv.slice(1);',
      "const r = spawnSync(java, JSON.parse(args), { stdio: 'ignore', timeout: 120000 });",
      'try { if (r.status === 0 && fs.existsSync(scratch)) fs.renameSync(scratch, file);',
      "  else fs.writeFileSync(file + '.failed', String(r.status ?? r.signal ?? r.error)); }",
      'finally { fs.rmSync(scratch, { force: true }); fs.rmSync(lock, { force: true }); }',
    ].join('\n');
    const args = [
      ...jvmArgs,
      `-XX:ArchiveClassesAtExit=${scratch}`,
      'LoopbackDynamoDBLocal',
      '--train',
      String(port),
    ];
    const trainer = spawn(process.execPath, ['-e', script, java, JSON.stringify(args), scratch, file, lock], {
      cwd,
      detached: true,
      stdio: 'ignore',
    });
    // A run does not wait for it (it may outlive the run); prepareDynamoDBLocal does.
    if (!wait) trainer.unref();
    return new Promise<void>((resolve) => {
      trainer.once('exit', () => resolve());
      trainer.once('error', () => resolve());
    });
  });
}

/**
 * Does ahead what a first start would otherwise do on its way (npm install's build calls it): compiles
 * the loopback launcher and trains DynamoDB Local's class-data archive, waiting for both. On a fresh
 * checkout, a first `loadtest run` sent its first request ~8 s later without this: the compile (~3 s)
 * was on its critical path and the training JVM (~7 s of CPU) shared the 2 cores with the run. Never
 * throws: it says what it could not do, and a first start then does it as before.
 */
export async function prepareDynamoDBLocal(java = 'java'): Promise<{ archive?: string; problem?: string }> {
  try {
    const { launcher, cds } = await startParts(java, true);
    if (!launcher.dir) return { problem: `the loopback launcher did not compile: ${launcher.problem}` };
    if (!cds) return { problem: `the launcher folder ${launcher.dir} is incomplete` };
    await cds.training;
    return existsSync(cds.file)
      ? { archive: cds.file }
      : {
          problem: `no class-data archive was made at ${cds.file} (being made by another process, or failed)`,
        };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The system properties DynamoDB Local starts with. Its SQLite library is loaded from the copy the
 * launcher made once (DIR/native, see the launcher's copyNativeLibrary) when there is one: otherwise
 * DynamoDB Local copies it out of its jar into the temp folder at every start and, killed at the end
 * of a run, leaves it there (0.9 MB per start).
 */
function emulatorProperties(emulator: string, launcherDir?: string): string[] {
  const native = launcherDir === undefined ? undefined : join(launcherDir, 'native');
  return [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    ...(native !== undefined && existsSync(native) ? [`-Dorg.sqlite.lib.path=${native}`] : []),
  ];
}

/**
 * The JVM flags DynamoDB Local starts with: a short-lived emulator, so the client compiler only
 * (-XX:TieredStopAtLevel=1: ready in ~3.9 s instead of ~6.8 s on a busy 2-core machine, median of 4
 * alternated starts, with no measurable loss on 2,000 PutItems). LOADTEST_DYNAMODB_JAVA_OPTS replaces
 * them (say "" for the JVM's defaults, for a long run at a high rate where the full JIT pays off).
 * Class-data sharing of its classes (AppCDS) comes on top: see classDataArchive.
 */
export function dynamoDBLocalJvmFlags(env: Readonly<Record<string, string | undefined>>): string[] {
  const given = env.LOADTEST_DYNAMODB_JAVA_OPTS;
  if (given !== undefined) return given.split(/\s+/).filter((f) => f !== '');
  return ['-XX:TieredStopAtLevel=1'];
}

/** One started ahead of need (the CLI's first moments), for the first start that asks for the same. */
let early: { readonly key: string; readonly started: Promise<DynamoDBLocal> } | undefined;

const keyOf = (o: DynamoDBLocalOptions) =>
  JSON.stringify([o.port ?? null, o.sharedDb !== false, o.dbPath ?? null, o.java ?? 'java']);

/**
 * Starts DynamoDB Local now, before anything asks for it: its JVM takes seconds to be ready, the
 * longest part of a run's start-up, so the CLI starts it first and loads the rest meanwhile. The first
 * startDynamoDBLocal with the same options takes it over (with its error, if it failed); one nobody
 * takes is stopped by discardEarlyDynamoDBLocal, or with this process.
 */
export function startDynamoDBLocalEarly(options: DynamoDBLocalOptions = {}): void {
  if (early) return;
  const started = launch(options);
  // Its failure is told to whoever takes it over; unclaimed, it is nobody's error.
  started.catch(() => {});
  early = { key: keyOf(options), started };
}

/** Stops a DynamoDB Local started early that no one took over (the run needs none, or another). */
export async function discardEarlyDynamoDBLocal(): Promise<void> {
  const unused = early;
  early = undefined;
  await unused?.started.then(
    (d) => d.stop(),
    () => {},
  );
}

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocal> {
  if (early) {
    if (early.key === keyOf(options)) {
      const { started } = early;
      early = undefined;
      return started;
    }
    await discardEarlyDynamoDBLocal();
  }
  return launch(options);
}

/** What the loopback launcher prints once it listens, and its exit code when its port was taken. */
const LISTENING = 'loadtest: DynamoDB Local is listening';
const BIND_FAILED = 98;

/** DynamoDB Local could not bind the port chosen for it: another process took it meanwhile. */
class PortTaken extends DynamoDBLocalFailed {
  override name = 'PortTaken';
}

/**
 * A free port is chosen here and bound by the JVM a second later: on a busy machine (parallel test
 * files, other servers) another process can take it in between. Then another port is tried, up to
 * three in all, unless the caller chose the port.
 */
async function launch(options: DynamoDBLocalOptions): Promise<DynamoDBLocal> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await launchOnce(options);
    } catch (err) {
      if (!(err instanceof PortTaken) || options.port !== undefined || attempt >= 3) throw err;
    }
  }
}

/**
 * What every start needs before its JVM, and prepareDynamoDBLocal makes ahead: Java checked, the
 * emulator's jar, the loopback launcher (compiled once) and the class-data archive (trained, or now
 * training; `wait` keeps this process alive until that training is done).
 */
async function startParts(java: string, wait: boolean) {
  await javaVersionOnce(java);
  const emulator = emulatorDir();
  const jar = join(emulator, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    throw new DynamoDBLocalFailed(`DynamoDB Local jar not found at ${jar}: run npm install`, '');
  }
  const launcher = await loopbackLauncher(java, jar);
  const flags = dynamoDBLocalJvmFlags(process.env);
  const cds = launcher.dir ? classDataArchive(java, launcher.dir, emulator, flags, wait) : undefined;
  return { emulator, jar, launcher, flags, cds };
}

async function launchOnce(options: DynamoDBLocalOptions): Promise<DynamoDBLocal> {
  const java = options.java ?? 'java';
  const { emulator: dir, jar, launcher, flags, cds } = await startParts(java, false);
  const port = options.port ?? (await freePort());
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const shared = options.sharedDb === false ? [] : ['-sharedDb'];
  const archive = cds?.trained ? cds : undefined;
  const main = archive
    ? [`-XX:SharedArchiveFile=${archive.file}`, '-cp', archive.classPath, 'LoopbackDynamoDBLocal']
    : launcher.dir
      ? ['-cp', `${launcher.dir}${delimiter}${jar}`, 'LoopbackDynamoDBLocal']
      : ['-jar', jar];
  const spawnedAt = Date.now();
  const child = spawn(
    java,
    [
      ...flags,
      ...emulatorProperties(dir, launcher.dir),
      ...main,
      ...storage,
      ...shared,
      // It would report each start to AWS (Pinpoint): a load-test tool's runs are not the user's
      // choice to send, and a run must not depend on the network.
      '-disableTelemetry',
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
  // The launcher says when it listens: an answer on the port alone could come from another process
  // that took the port first. DynamoDB Local's own jar (no launcher) says nothing of the kind.
  let listening = launcher.dir === undefined;
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-8000);
    if (!listening && output.includes(LISTENING)) listening = true;
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
  while (!(listening && (await answers(endpoint)))) {
    if (exited?.code === BIND_FAILED && launcher.dir !== undefined) {
      throw new PortTaken(`port ${port} was taken before DynamoDB Local could bind it`, output);
    }
    if (exited) {
      throw new DynamoDBLocalFailed(
        `DynamoDB Local exited during start (${howItEnded(exited.code, exited.signal)})`,
        output,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new DynamoDBLocalFailed(`DynamoDB Local did not answer on ${endpoint} in time`, output);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  return {
    endpoint,
    port,
    startMs: Date.now() - spawnedAt,
    loopbackOnly: launcher.dir !== undefined,
    ...(launcher.problem
      ? {
          note: `DynamoDB Local listens on every interface (port ${port}): the loopback launcher did not compile (${launcher.problem.split('\n')[0]}); keep that port firewalled`,
        }
      : {}),
    pid: child.pid ?? -1,
    ...(archive ? { classDataArchive: archive.file } : cds ? { classDataTraining: cds.file } : {}),
    onExit: (l) => exitListeners.push(l),
    async stop() {
      if (exited) return;
      stopping = true;
      // In memory there is nothing to keep, and the JVM's orderly exit takes ~0.35 s at the end of
      // every run: killed outright. On disk (dbPath) it shuts down its database first.
      child.kill(options.dbPath ? 'SIGTERM' : 'SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
