import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

/** This package's public entry points, as this copy of it runs (compiled, or its sources). */
const EXT = FROM_SOURCE ? 'ts' : 'js';
const SELF: Readonly<Record<string, string>> = {
  'dynamo-loadtest': `../index.${EXT}`,
  'dynamo-loadtest/instrument': `../../instrument/index.${EXT}`,
  'dynamo-loadtest/local': `../../local/index.${EXT}`,
  'dynamo-loadtest/dashboards': `../../dashboards/index.${EXT}`,
};

/** The identifiers that name a module's own place, which a bundle would otherwise give the bundle's. */
const PLACE = /\bimport\.meta\.(url|dirname|filename)\b|\b__dirname\b|\b__filename\b/g;

/**
 * The config and its own files bundled into one ES module, imported from next to the config, then
 * removed. Exported for tests (which run the sources, where importConfigModule uses tsx).
 */
export async function importBundled(file: string): Promise<Record<string, unknown>> {
  const { build } = await import('esbuild');
  const out = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
  const result = await build({
    entryPoints: [file],
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
        name: 'loadtest-config',
        setup(b) {
          b.onResolve({ filter: /^dynamo-loadtest(\/[a-z]+)?$/ }, (args) => {
            const target = SELF[args.path];
            return target ? { path: new URL(target, import.meta.url).href, external: true } : undefined;
          });
          // Each file keeps its own place: `new URL('./x', import.meta.url)` in app/data/*.ts still
          // means app/data/x once bundled into app/.
          b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
            if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
            const source = await readFile(args.path, 'utf8');
            const url = pathToFileURL(args.path).href;
            const contents = source.replace(PLACE, (_m, meta: string | undefined) => {
              if (meta === 'url') return JSON.stringify(url);
              if (meta === 'dirname') return JSON.stringify(dirname(args.path));
              if (meta === 'filename') return JSON.stringify(args.path);
              return JSON.stringify(_m === '__dirname' ? dirname(args.path) : args.path);
            });
            const ext = args.path.slice(args.path.lastIndexOf('.') + 1);
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
  if (code === undefined) throw new Error('esbuild wrote nothing');
  await writeFile(out, code);
  try {
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } finally {
    await rm(out, { force: true });
  }
}
