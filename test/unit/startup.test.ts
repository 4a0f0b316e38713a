import { chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compiledIsCurrent,
  earlyWorkers,
  MAX_EARLY_WORKERS,
  runsCompiled,
  STAMP,
  sourceState,
  stampMatches,
  startsDynamoDBLocal,
} from '../../bin/compiled.js';
import { keepOwnPlace } from '../../bin/places.js';
import {
  dynamoDBLocalJvmFlags,
  isSourceUrl,
  JavaMissing,
  javaVersion,
  javaVersionKept,
} from '../../local/index.js';
import { isTypeScriptFile } from '../../runner/engine/typescript.js';
import { workerCommand } from '../../runner/engine/worker-process.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('compiled JavaScript or the sources through tsx', () => {
  it('uses dist/ only when it was built from exactly the sources there are now', async () => {
    const root = await mkdtemp(join(tmpdir(), 'loadtest-compiled-'));
    dirs.push(root);
    await mkdir(join(root, 'runner', 'cli'), { recursive: true });
    await mkdir(join(root, 'local'), { recursive: true });
    await writeFile(join(root, 'runner', 'cli', 'main.ts'), 'export {};\n');
    await writeFile(join(root, 'local', 'index.ts'), 'export {};\n');
    await writeFile(join(root, 'local', 'notes.md'), 'not a source\n');
    const past = new Date(Date.now() - 60_000);
    for (const f of ['runner/cli/main.ts', 'local/index.ts']) await utimes(join(root, f), past, past);
    // No build at all.
    expect(compiledIsCurrent(root)).toBe(false);
    expect(runsCompiled(root, {})).toBe(false);
    const built = sourceState(root);
    expect(built.files).toBe(2);
    await mkdir(join(root, 'dist'), { recursive: true });
    await writeFile(join(root, STAMP), JSON.stringify(built));
    expect(compiledIsCurrent(root)).toBe(true);
    // An edited source is newer than the build.
    await writeFile(join(root, 'local', 'index.ts'), 'export const x = 1;\n');
    expect(compiledIsCurrent(root)).toBe(false);
    await utimes(join(root, 'local', 'index.ts'), past, past);
    expect(compiledIsCurrent(root)).toBe(true);
    // The CLI (and the bench) run that build unless told to run the sources.
    expect(runsCompiled(root, {})).toBe(true);
    expect(runsCompiled(root, { LOADTEST_FROM_SOURCE: '1' })).toBe(false);
    // A new file (even an old one, copied in with its time), or one renamed.
    await writeFile(join(root, 'local', 'more.ts'), 'export {};\n');
    await utimes(join(root, 'local', 'more.ts'), past, past);
    expect(compiledIsCurrent(root)).toBe(false);
    await rm(join(root, 'local', 'more.ts'));
    expect(compiledIsCurrent(root)).toBe(true);
    // A broken stamp never matches.
    await writeFile(join(root, STAMP), '{"files":');
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it('compares a stamp field by field', () => {
    const now = { files: 3, paths: 'abc', newestMs: 1000 };
    expect(stampMatches({ ...now }, now)).toBe(true);
    expect(stampMatches({ ...now, newestMs: 2000 }, now)).toBe(true);
    expect(stampMatches({ ...now, newestMs: 999 }, now)).toBe(false);
    expect(stampMatches({ ...now, files: 4 }, now)).toBe(false);
    expect(stampMatches({ ...now, paths: 'abd' }, now)).toBe(false);
    expect(stampMatches({ files: 3, paths: 'abc' }, now)).toBe(false);
    expect(stampMatches(null, now)).toBe(false);
    expect(stampMatches('x', now)).toBe(false);
  });

  it('runs workers as the CLI runs: the compiled worker on plain Node, the source one through tsx', () => {
    const compiled = workerCommand(false);
    expect(compiled.file).toMatch(/[/\\]runner[/\\]engine[/\\]worker\.js$/);
    expect(compiled.execArgv).toEqual([]);
    const source = workerCommand(true);
    expect(source.file).toMatch(/[/\\]runner[/\\]engine[/\\]worker\.ts$/);
    expect(source.execArgv).toEqual(['--import', expect.stringMatching(/tsx/)]);
    // These tests run the sources.
    expect(isSourceUrl(import.meta.url)).toBe(true);
    expect(isSourceUrl('file:///x/dist/local/runtime.js')).toBe(false);
    expect(isSourceUrl('file:///x/local/runtime.ts')).toBe(true);
  });

  it('registers tsx for users’ TypeScript files only', () => {
    for (const f of ['a.ts', 'a.mts', 'a.cts', 'a.tsx', '/x/loadtest.config.ts'])
      expect(isTypeScriptFile(f)).toBe(true);
    for (const f of ['a.js', 'a.cjs', 'a.mjs', 'a.json', 'a.yml', 'ts', 'a.ts.bak'])
      expect(isTypeScriptFile(f)).toBe(false);
  });
});

describe("the build keeps each bundled module's own place", () => {
  it('rewrites import.meta.url where it is code, never the same words in a string', async () => {
    const root = await mkdtemp(join(tmpdir(), 'loadtest-places-'));
    dirs.push(root);
    // Like runner/project/config-module.ts: the words are a key of esbuild's define there. A text
    // replace made that key an expression, and every compiled start fell back to tsx.
    const source = [
      "export const own = new URL('./data.json', import.meta.url).href;",
      "export const define = { 'import.meta.url': 1, note: 'see import.meta.url' };",
      'export const meta = String(import.meta.url.length > 0);',
      '',
    ].join('\n');
    const kept = await keepOwnPlace(source, '../dist/lib/mod.js');
    await mkdir(join(root, 'bundle'));
    const file = join(root, 'bundle', 'out.mjs');
    await writeFile(file, kept);
    const mod = (await import(pathToFileURL(file).href)) as {
      own: string;
      define: Record<string, unknown>;
      meta: string;
    };
    // Relative to the bundle's folder, as the module's file in dist/ would be.
    expect(mod.own).toBe(pathToFileURL(join(root, 'dist', 'lib', 'data.json')).href);
    expect(mod.define).toEqual({ 'import.meta.url': 1, note: 'see import.meta.url' });
    expect(mod.meta).toBe('true');
    // A module that never names its place is left exactly as it was.
    const plain = "export const x = 'import.meta';\n";
    expect(await keepOwnPlace(plain, '../x.js')).toBe(plain);
  });
});

describe('start what takes longest first', () => {
  it('starts DynamoDB Local early only for a command that will start it', () => {
    const yes = [
      ['run', 'smoke'],
      ['run', 'smoke', '--timings', '--workers', '2'],
      ['up'],
      ['up', '--port', '0'],
      ['run', 'x.yml', '--target', 'local'],
      ['run', 'x', '--target=local'],
    ];
    for (const argv of yes) expect(startsDynamoDBLocal(argv), argv.join(' ')).toBe(true);
    const no = [
      [],
      ['list'],
      ['seed'],
      ['validate', 'smoke'],
      ['run', 'smoke', '--url', 'http://127.0.0.1:8080'],
      ['run', 'smoke', '--url=http://127.0.0.1:8080'],
      ['run', 'smoke', '--dynamodb-endpoint', 'http://127.0.0.1:8000'],
      ['run', 'smoke', '--target', 'aws', '--stack', 'S'],
      ['run', 'smoke', '--target=aws'],
      ['up', '--persist', '.data'],
      ['run', '--help'],
    ];
    for (const argv of no) expect(startsDynamoDBLocal(argv), argv.join(' ')).toBe(false);
  });

  it('forks as many load workers early as a local run will use, and none for anything else', () => {
    expect(earlyWorkers(['run', 'smoke'])).toBe(1);
    expect(earlyWorkers(['run', 'smoke', '--url', 'http://127.0.0.1:8080'])).toBe(1);
    expect(earlyWorkers(['run', 'smoke', '--workers', '3'])).toBe(3);
    expect(earlyWorkers(['run', 'smoke', '--workers=2', '--target', 'local'])).toBe(2);
    expect(earlyWorkers(['run', 'smoke', '--workers', '64'])).toBe(MAX_EARLY_WORKERS);
    for (const argv of [
      [],
      ['up'],
      ['import', 'dump/', '--workers', '2'],
      ['run', 'smoke', '--target', 'aws', '--stack', 'S'],
      ['run', 'smoke', '--target=aws', '--workers', '10'],
      ['run', 'smoke', '--workers', 'two'],
      ['run', 'smoke', '--workers', '0'],
      ['run', '--help'],
    ])
      expect(earlyWorkers(argv), argv.join(' ')).toBe(0);
  });

  it('starts the JVM for a short life unless told otherwise', () => {
    expect(dynamoDBLocalJvmFlags({})).toEqual(['-XX:TieredStopAtLevel=1']);
    expect(dynamoDBLocalJvmFlags({ LOADTEST_DYNAMODB_JAVA_OPTS: '' })).toEqual([]);
    expect(dynamoDBLocalJvmFlags({ LOADTEST_DYNAMODB_JAVA_OPTS: ' -Xmx512m  -XX:+UseSerialGC ' })).toEqual([
      '-Xmx512m',
      '-XX:+UseSerialGC',
    ]);
  });

  it('asks `java -version` once per Java installation, and again once the executable changes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'loadtest-java-'));
    dirs.push(root);
    const bin = join(root, 'bin');
    await mkdir(bin);
    const count = join(root, 'count');
    // A stand-in `java` that says its version as the JVM does (on stderr) and counts its starts.
    const java = join(bin, 'java');
    const script = (version: string) =>
      `#!/bin/sh\necho x >> ${JSON.stringify(count)}\necho 'openjdk version "${version}"' >&2\n`;
    await writeFile(java, script('17.0.1'));
    await chmod(java, 0o755);
    const starts = async () =>
      (await readFile(count, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const saved = { PATH: process.env.PATH, LOADTEST_CACHE_DIR: process.env.LOADTEST_CACHE_DIR };
    // Its cache folder: this test's own.
    process.env.LOADTEST_CACHE_DIR = join(root, 'cache');
    process.env.PATH = `${bin}:${saved.PATH}`;
    try {
      expect(await javaVersionKept('java')).toContain('version "17.0.1"');
      expect(await starts()).toBe(1);
      expect(await readdir(join(root, 'cache'))).toEqual([
        expect.stringMatching(/^java-[0-9a-f]{16}\.version$/),
      ]);
      // A later CLI process (no memory of the first) reads it back instead of starting a JVM.
      expect(await javaVersionKept('java')).toContain('version "17.0.1"');
      expect(await javaVersionKept(java)).toContain('version "17.0.1"');
      expect(await starts()).toBe(1);
      // An upgrade replaces the executable: asked again.
      await writeFile(java, script('21.0.12'));
      expect(await javaVersionKept('java')).toContain('version "21.0.12"');
      expect(await starts()).toBe(2);
      await expect(javaVersionKept(join(root, 'no-such-java'))).rejects.toBeInstanceOf(JavaMissing);
      // The synchronous one reads the same answer the same way (and keeps nothing).
      expect(javaVersion(java)).toContain('version "21.0.12"');
      expect(await starts()).toBe(3);
      expect(() => javaVersion(join(root, 'no-such-java'))).toThrow(JavaMissing);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.LOADTEST_CACHE_DIR === undefined) delete process.env.LOADTEST_CACHE_DIR;
      else process.env.LOADTEST_CACHE_DIR = saved.LOADTEST_CACHE_DIR;
    }
  });
});
