import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as toolkit from '../../runner/index.js';
import { importBundled, importCachedBundle } from '../../runner/project/config-module.js';
import { runCli } from '../helpers/cli.js';

/**
 * The compiled CLI loads a TypeScript project config as one esbuild bundle instead of through tsx
 * (runner/project/config-module.ts). What a bundle could get wrong, each checked: a module's own place
 * (import.meta.url, __dirname) in a subfolder, `dynamo-loadtest` being the toolkit's own copy, no
 * file left behind, and the shop's config the same as tsx loads it.
 */
describe('a TypeScript project config, bundled', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-module-'));
    await mkdir(join(dir, 'lib'));
    await writeFile(
      join(dir, 'lib', 'where.ts'),
      [
        "import { fileURLToPath } from 'node:url';",
        'export const url: string = import.meta.url;',
        "export const sibling = fileURLToPath(new URL('./data.json', import.meta.url));",
        'export const dirnameOf = (): string => __dirname;',
        // The same words in strings and a local stay as they are.
        "export const words = ['see __dirname docs', \"import.meta.url's value\", `__filename`];",
        'export const shadowed = ((__dirname: string) => __dirname)("a local");',
        'export const line = (): number => Number(new Error().stack?.match(/where\\.ts:(\\d+)/)?.[1]);',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'loadtest.config.ts'),
      [
        "import { defineProject } from 'dynamo-loadtest';",
        "import { url, sibling, dirnameOf, words, shadowed, line } from './lib/where.js';",
        'export const seen = { url, sibling, dir: dirnameOf(), define: defineProject, words, shadowed, line: line() };',
        "export default defineProject({ name: 'bundled', tables: [] } as never);",
      ].join('\n'),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps each file its own place, imports the toolkit itself, and leaves no file behind', async () => {
    const mod = await importBundled(join(dir, 'loadtest.config.ts'));
    const seen = mod.seen as {
      url: string;
      sibling: string;
      dir: string;
      define: unknown;
      words: string[];
      shadowed: string;
      line: number;
    };
    expect(seen.url).toBe(pathToFileURL(join(dir, 'lib', 'where.ts')).href);
    expect(seen.sibling).toBe(join(dir, 'lib', 'data.json'));
    expect(seen.dir).toBe(join(dir, 'lib'));
    expect(seen.words).toEqual(['see __dirname docs', "import.meta.url's value", '__filename']);
    expect(seen.shadowed).toBe('a local');
    // A stack trace still names the line in the file as written (its source map goes through).
    expect(seen.line).toBe(7);
    // The same function object: one copy of the toolkit, so its classes and state are shared.
    expect(seen.define).toBe(toolkit.defineProject);
    expect(mod.default).toEqual({ name: 'bundled', tables: [] });
    expect((await readdir(dir)).sort()).toEqual(['lib', 'loadtest.config.ts']);
  });

  it("gives the shop's config exactly as tsx gives it", async () => {
    const file = join(import.meta.dirname, '..', '..', 'app', 'loadtest.config.ts');
    const bundled = (await importBundled(file)).default;
    const direct = (await import(pathToFileURL(file).href)).default;
    // The shop makes up a fresh AUTH_SECRET each time its config is evaluated: all else is equal.
    const same = (c: unknown) => JSON.stringify(c).replace(/"AUTH_SECRET":"[^"]+"/, '"AUTH_SECRET":"x"');
    expect(same(bundled)).toBe(same(direct));
    expect(JSON.stringify(bundled)).toContain('getProduct');
  });

  it('keeps the bundle in the nearest node_modules/.cache and makes it again only when an input changed', async () => {
    const project = await mkdtemp(join(tmpdir(), 'config-cache-'));
    try {
      await mkdir(join(project, 'node_modules'));
      await mkdir(join(project, 'conf'));
      const config = join(project, 'conf', 'loadtest.config.ts');
      const part = join(project, 'conf', 'part.ts');
      await writeFile(part, 'export const tables: never[] = [];\nexport const name = "first";\n');
      await writeFile(
        config,
        // Run natively (vitest leaves node_modules/ to Node), so no import of the toolkit's .ts sources.
        "import { name, tables } from './part.js';\nexport default { name, tables };\n",
      );
      expect((await importCachedBundle(config)).default).toEqual({ name: 'first', tables: [] });
      const cache = join(project, 'node_modules', '.cache', 'dynamo-loadtest');
      const files = (await readdir(cache)).sort();
      expect(files).toHaveLength(2);
      const bundle = join(cache, files.find((f) => f.endsWith('.mjs')) ?? '');
      const made = (await stat(bundle)).mtimeMs;
      // Unchanged inputs: the same file is imported, not bundled again.
      expect((await importCachedBundle(config)).default).toEqual({ name: 'first', tables: [] });
      expect((await stat(bundle)).mtimeMs).toBe(made);
      // An imported file (not the config itself) changes: bundled again, and the new value is seen.
      await writeFile(part, 'export const tables: never[] = [];\nexport const name = "second";\n');
      expect((await importCachedBundle(config)).default).toEqual({ name: 'second', tables: [] });
      expect(await readFile(bundle, 'utf8')).toContain('second');
      expect((await readdir(cache)).sort()).toEqual(files);
      // Nothing beside the config's own files.
      expect((await readdir(join(project, 'conf'))).sort()).toEqual(['loadtest.config.ts', 'part.ts']);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });

  it('loads a .ts config with export default in a folder with no package.json, from the sources too', async () => {
    // tsx on Node 20 takes such a file for CommonJS and fails on its own require cycle.
    const plain = await mkdtemp(join(tmpdir(), 'config-plain-'));
    await writeFile(
      join(plain, 'loadtest.config.ts'),
      "export default { name: 'plain', tables: [{ name: 'notes', partitionKey: 'id' }] };\n",
    );
    const run = runCli(['list'], { cwd: plain, env: { ...process.env, LOADTEST_FROM_SOURCE: '1' } });
    const { code } = await run.exited;
    expect(run.stderr()).toBe('');
    expect(code).toBe(0);
    expect(run.stdout()).toMatch(/project plain: .*loadtest\.config\.ts\ntables: notes/);
    await rm(plain, { recursive: true, force: true });
  }, 30_000);

  it('fails on a config that does not compile, so the loader can fall back to tsx', async () => {
    const bad = join(dir, 'broken.ts');
    await writeFile(bad, 'export default {{;');
    await expect(importBundled(bad)).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
