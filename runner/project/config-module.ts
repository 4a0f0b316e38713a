import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureTypeScript, FROM_SOURCE, isTypeScriptFile } from '../engine/typescript.js';

/**
 * Loads a project config module (`loadtest.config.ts`, `.mts`, `.js`...).
 *
 * TypeScript through tsx costs the compiled CLI about 0.6 s on every start (measured on the shop's
 * config: tsx's hooks ~0.25 s, then every module it imports resolved and transformed one by one, and
 * `dynamo-loadtest` itself loaded a second time, from its .ts sources). So a compiled CLI first bundles
 * the config's own files with esbuild (~50 ms) into one ES module, written next to the config (so its
 * packages resolve from where the config is) and removed once imported; `dynamo-loadtest` imports
 * resolve to this very compiled copy, so the config and the CLI share classes and state. Anything the
 * bundle cannot do (a read-only folder, CommonJS-only code, a plugin error) falls back to tsx, which
 * loads any config the way it always did.
 */
export async function importConfigModule(file: string): Promise<Record<string, unknown>> {
  if (!FROM_SOURCE && isTypeScriptFile(file)) {
    const bundled = await importCachedBundle(file).catch((err: unknown) => {
      bundleFallbacks.push({ file, reason: firstLines(err) });
      return undefined;
    });
    if (bundled) return bundled;
  }
  await ensureTypeScript(file);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    // tsx on Node 20 loads a .ts file with `export default` in a folder that is not "type":
    // "module" (or has no package.json) as CommonJS, and fails on its own require cycle: the
    // bundle loads it as the ES module it is.
    if (!isTypeScriptFile(file) || (err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_CYCLE_MODULE')
      throw err;
    return importCachedBundle(file);
  }
}

/** A config the compiled CLI loaded through tsx because its bundle failed, and why. */
export interface BundleFallback {
  readonly file: string;
  readonly reason: string;
}

const bundleFallbacks: BundleFallback[] = [];

/**
 * The configs this process loaded through tsx after their bundle failed. The fallback keeps such a
 * config working, at ~0.6 s more per start: `--timings` names it, so a slow start is never silent
 * (a build fault once made every compiled start take this path unseen).
 */
export const configBundleFallbacks = (): readonly BundleFallback[] => bundleFallbacks;

/**
 * An error's message as one line: its first, or with esbuild's "Transform failed with 1 error:" the
 * lines after it up to the first that says what (a plugin's error nests one such line in another).
 */
export function firstLines(err: unknown): string {
  const lines = ((err as Error).message ?? String(err)).split('\n').filter((l) => l.trim() !== '');
  let text = lines[0] ?? '';
  for (let i = 1; text.endsWith(':') && i < lines.length; i += 1) text += ` ${lines[i]?.trim()}`;
  return text;
}

/** This package's public entry points: the folder whose index each `dynamo-loadtest[/x]` names. */
export const SELF_FOLDERS = {
  'dynamo-loadtest': 'runner',
  'dynamo-loadtest/instrument': 'instrument',
  'dynamo-loadtest/local': 'local',
  'dynamo-loadtest/dashboards': 'dashboards',
} as const;

/** True in the CLI's bundle (bin/build.js defines it there), absent everywhere else. */
declare const __LOADTEST_CLI_BUNDLE__: boolean | undefined;
const IN_CLI_BUNDLE = typeof __LOADTEST_CLI_BUNDLE__ !== 'undefined' && __LOADTEST_CLI_BUNDLE__;

/**
 * An entry as this copy of the package runs it, by URL: its sources, its compiled dist/, or the CLI
 * bundle's own entry for it (dist/cli/<folder>.js), so a bundled config shares the CLI's modules.
 */
const selfUrl = (specifier: keyof typeof SELF_FOLDERS) =>
  IN_CLI_BUNDLE
    ? new URL(`../../cli/${SELF_FOLDERS[specifier]}.js`, import.meta.url).href
    : new URL(`../../${SELF_FOLDERS[specifier]}/index.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url).href;

/**
 * The identifiers that name a module's own place, which a bundle would otherwise give the bundle's.
 * A file that mentions one is compiled with each defined as its own value (esbuild's define replaces
 * the expressions only, never the same words in a string or a local of that name); the others as they are.
 */
const PLACE = /\bimport\.meta\.(url|dirname|filename)\b|\b__dirname\b|\b__filename\b/;

/**
 * A TypeScript (or JavaScript) module and the files it imports, as one ES module's code: packages stay
 * imports (resolved from wherever the bundle is written), `dynamo-loadtest` imports point at this
 * package's compiled entries, and every file keeps its own place (`import.meta.url`, `__dirname`), so
 * `new URL('./x', import.meta.url)` in app/data/*.ts still means app/data/x once bundled.
 */
export async function bundleTypeScript(entry: string): Promise<string> {
  return (await bundleWithInputs(entry)).code;
}

/** How esbuild reads a file, by its extension. */
function loaderOf(path: string): 'tsx' | 'ts' | 'jsx' | 'js' | 'json' {
  const ext = extname(path);
  if (ext === '.json') return 'json';
  return ext.endsWith('tsx') ? 'tsx' : ext.endsWith('ts') ? 'ts' : ext.endsWith('jsx') ? 'jsx' : 'js';
}

/**
 * Where a config that does not parse stops parsing, as esbuild's parser sees it: Node's own message
 * for a JavaScript module or JSON gives no line (Node 20: "Unexpected identifier 'patterns'").
 * Undefined when esbuild parses it after all, or cannot be loaded.
 */
export async function syntaxErrorAt(
  file: string,
): Promise<{ line: number; column: number; text: string } | undefined> {
  try {
    const { transform } = await import('esbuild');
    await transform(await readFile(file, 'utf8'), {
      loader: loaderOf(file),
      sourcefile: file,
      logLevel: 'silent',
    });
    return undefined;
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { line: number; column: number } | null }[] })
      .errors?.[0];
    return first?.location
      ? { line: first.location.line, column: first.location.column + 1, text: first.text }
      : undefined;
  }
}

/** bundleTypeScript, with the files the bundle was made of (absolute paths). */
async function bundleWithInputs(entry: string): Promise<{ code: string; inputs: string[] }> {
  const { build, transform } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
    sourcemap: 'inline',
    plugins: [
      {
        name: 'loadtest-bundle',
        setup(b) {
          b.onResolve({ filter: /^dynamo-loadtest(\/[a-z]+)?$/ }, (args) =>
            Object.hasOwn(SELF_FOLDERS, args.path)
              ? { path: selfUrl(args.path as keyof typeof SELF_FOLDERS), external: true }
              : undefined,
          );
          b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
            if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
            const contents = await readFile(args.path, 'utf8');
            const loader = loaderOf(args.path);
            if (!PLACE.test(contents)) return { contents, loader };
            const file = JSON.stringify(args.path);
            const folder = JSON.stringify(dirname(args.path));
            const placed = await transform(contents, {
              loader,
              sourcefile: args.path,
              sourcemap: 'inline',
              define: {
                'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
                'import.meta.dirname': folder,
                'import.meta.filename': file,
                __dirname: folder,
                __filename: file,
              },
            });
            return { contents: placed.code, loader: 'js' };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  // Its paths are relative to the working directory; the plugin's own namespace is the file's.
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(p.replace(/^[a-z-]+:/, '')));
  return { code, inputs };
}

/**
 * The config bundled (bundleTypeScript), imported from next to the config (so its packages resolve
 * from where the config is), then removed. Exported for tests (which run the sources, where
 * importConfigModule uses tsx).
 */
export async function importBundled(file: string): Promise<Record<string, unknown>> {
  const code = await bundleTypeScript(file);
  const out = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(out, code);
  try {
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } finally {
    await rm(out, { force: true });
  }
}

/** What a cached bundle was made from: each input file's size and modification time. */
interface CacheIndex {
  readonly inputs: readonly { readonly path: string; readonly size: number; readonly mtimeMs: number }[];
}

/** The nearest node_modules folder at or above `dir`: where a bundle resolves packages as `dir` does. */
function nearestNodeModules(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const candidate = join(d, 'node_modules');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The config's bundle from the last time, when none of the files it was made of has changed since;
 * else bundled now and kept for next time. Bundling costs ~0.1 s of every start (loading esbuild,
 * starting its service, building); checking a handful of files' sizes and times costs well under a
 * millisecond. Kept in node_modules/.cache/dynamo-loadtest/ of the nearest node_modules above the
 * config, so its packages resolve exactly as they would from the config's own folder; with no
 * node_modules there, the config is bundled afresh each time (importBundled).
 */
export async function importCachedBundle(file: string): Promise<Record<string, unknown>> {
  const modules = nearestNodeModules(dirname(file));
  if (!modules) return importBundled(file);
  const dir = join(modules, '.cache', 'dynamo-loadtest');
  // One entry per config file and per copy of the toolkit it was bundled against.
  const key = createHash('sha256')
    .update(`${resolve(file)}\0${selfUrl('dynamo-loadtest')}`)
    .digest('hex')
    .slice(0, 16);
  const bundlePath = join(dir, `config-${key}.mjs`);
  const indexPath = join(dir, `config-${key}.json`);
  const current = (index: CacheIndex) =>
    index.inputs.length > 0 &&
    index.inputs.every((i) => {
      const st = statSync(i.path, { throwIfNoEntry: false });
      return st !== undefined && st.size === i.size && st.mtimeMs === i.mtimeMs;
    });
  let index: CacheIndex | undefined;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex;
  } catch {}
  if (!index || !current(index)) {
    // An input edited while it was bundled (modified since the build began) is recorded as never
    // seen, so the entry is stale at the next start, never wrong.
    const began = Date.now();
    const { code, inputs } = await bundleWithInputs(file);
    const before = inputs.map((path) => {
      const st = statSync(path);
      return { path, size: st.size, mtimeMs: st.mtimeMs >= began ? -1 : st.mtimeMs };
    });
    await mkdir(dir, { recursive: true });
    // Written aside and renamed: two CLIs starting at once never import half a file.
    const scratch = `.${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(bundlePath + scratch, code);
    await rename(bundlePath + scratch, bundlePath);
    index = { inputs: before };
    await writeFile(indexPath + scratch, JSON.stringify(index));
    await rename(indexPath + scratch, indexPath);
  }
  // Named by its inputs' state too: a process that loads the config again after an edit (a test, a
  // watch) gets the new bundle, not the module it imported before.
  const version = createHash('sha256').update(JSON.stringify(index)).digest('hex').slice(0, 12);
  return (await import(`${pathToFileURL(bundlePath).href}?v=${version}`)) as Record<string, unknown>;
}
