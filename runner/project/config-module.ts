import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
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
    const bundled = await importBundled(file).catch(() => undefined);
    if (bundled) return bundled;
  }
  await ensureTypeScript(file);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** This package's public entry points: the folder whose index each `dynamo-loadtest[/x]` names. */
export const SELF_FOLDERS = {
  'dynamo-loadtest': 'runner',
  'dynamo-loadtest/instrument': 'instrument',
  'dynamo-loadtest/local': 'local',
  'dynamo-loadtest/dashboards': 'dashboards',
} as const;

/** An entry as this copy of the package runs it (compiled, or its sources), by URL. */
const selfUrl = (specifier: keyof typeof SELF_FOLDERS) =>
  new URL(`../../${SELF_FOLDERS[specifier]}/index.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url).href;

/** The identifiers that name a module's own place, which a bundle would otherwise give the bundle's. */
const PLACE = /\bimport\.meta\.(url|dirname|filename)\b|\b__dirname\b|\b__filename\b/g;

export interface BundleOptions {
  /** What `dynamo-loadtest[/x]` becomes in the bundle (default: this copy's own modules, by URL). */
  readonly self?: (specifier: keyof typeof SELF_FOLDERS) => string;
  /**
   * Leave the entry file's `import.meta.url` the bundle's own (default false): for a program whose
   * "am I the main module" test compares it with process.argv[1].
   */
  readonly entryKeepsItsPlace?: boolean;
}

/**
 * A TypeScript (or JavaScript) module and the files it imports, as one ES module's code: packages stay
 * imports (resolved from wherever the bundle is written), `dynamo-loadtest` imports point at this
 * package's compiled entries, and every file keeps its own place (`import.meta.url`, `__dirname`), so
 * `new URL('./x', import.meta.url)` in app/data/*.ts still means app/data/x once bundled.
 */
export async function bundleTypeScript(entry: string, options: BundleOptions = {}): Promise<string> {
  const { build } = await import('esbuild');
  const self = options.self ?? selfUrl;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    write: false,
    logLevel: 'silent',
    sourcemap: 'inline',
    plugins: [
      {
        name: 'loadtest-bundle',
        setup(b) {
          b.onResolve({ filter: /^dynamo-loadtest(\/[a-z]+)?$/ }, (args) =>
            Object.hasOwn(SELF_FOLDERS, args.path)
              ? { path: self(args.path as keyof typeof SELF_FOLDERS), external: true }
              : undefined,
          );
          b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
            if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
            let contents = await readFile(args.path, 'utf8');
            if (!(options.entryKeepsItsPlace && resolve(args.path) === resolve(entry))) {
              const url = pathToFileURL(args.path).href;
              contents = contents.replace(PLACE, (m, meta: string | undefined) => {
                if (meta === 'url') return JSON.stringify(url);
                if (meta === 'dirname' || m === '__dirname') return JSON.stringify(dirname(args.path));
                return JSON.stringify(args.path);
              });
            }
            const ext = extname(args.path);
            const loader = ext.endsWith('tsx')
              ? 'tsx'
              : ext.endsWith('ts')
                ? 'ts'
                : ext.endsWith('jsx')
                  ? 'jsx'
                  : 'js';
            return { contents, loader };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return code;
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
