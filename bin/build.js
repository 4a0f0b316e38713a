#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` / `npm ci` in the repository run it): compiles the
// CLI, the workers and what they import to dist/ (git-ignored), so `loadtest` starts without
// transpiling, and stamps the build with the sources it was made from (bin/compiled.js checks it).
// Without TypeScript (an install that left out dev dependencies) it says so and builds nothing: the
// CLI then runs its sources through tsx, as in development.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP, sourceState } from './compiled.js';
import { keepOwnPlace } from './places.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  // Its exports name no bin: found next to its package.json.
  tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  console.error('loadtest build: TypeScript is not installed; the CLI will run its sources through tsx');
  process.exit(0);
}
// The state before compiling: a file edited during the build makes the stamp stale, not wrong.
const state = sourceState(root);
const started = Date.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
mkdirSync(join(root, 'dist'), { recursive: true });
await bundleShop();
await bundleCli();
await bundleWorker();
writeFileSync(join(root, STAMP), `${JSON.stringify({ ...state, builtAt: new Date().toISOString() })}\n`);
console.error(`loadtest build: dist/ (${state.files} sources) in ${Date.now() - started} ms`);
await prepareEmulator();

/**
 * DynamoDB Local's loopback launcher compiled and its class-data archive trained now, once per
 * checkout, emulator, Java version and JVM flags (~12 s the first time, nothing after): otherwise the
 * first `loadtest run` does it on its way (local/dynamodb-local.ts, prepareDynamoDBLocal). Without
 * Java, or if it fails, the build goes on and says so: the first run then does it as before.
 */
async function prepareEmulator() {
  const began = Date.now();
  const { prepareDynamoDBLocal } = await import(
    new URL('../dist/local/dynamodb-local.js', import.meta.url).href
  );
  const { archive, problem } = await prepareDynamoDBLocal();
  console.error(
    archive
      ? `loadtest build: DynamoDB Local's launcher and class-data archive ready (${Date.now() - began} ms)`
      : `loadtest build: DynamoDB Local not prepared ahead (${problem}); the first run prepares it`,
  );
}

function inNodeModules(path) {
  return path.includes(`${'/'}node_modules${'/'}`);
}

/**
 * What every bundle of ours is: ES modules for the oldest Node we support, starting with a require()
 * for the bundled CommonJS (the AWS SDK's, Artillery's) to call; with `chunks`, what entries share is
 * a chunk of its own, loaded once.
 */
function esmBundle({ chunks }) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {
      js: "import { createRequire as __loadtestRequire } from 'node:module'; const require = __loadtestRequire(import.meta.url);",
    },
    ...(chunks ? { splitting: true, chunkNames: 'chunk-[hash]' } : {}),
  };
}

/**
 * An esbuild plugin step: each of our compiled modules keeps its own place in the bundle written to
 * `out`, `import.meta.url` becoming its file in dist/ (relative to `out`, so the bundle holds no path
 * of this machine and still works if the package moves).
 */
function keepPlaces(b, out) {
  b.onLoad({ filter: /\.js$/ }, async (args) => {
    if (inNodeModules(args.path)) return undefined;
    const contents = await readFile(args.path, 'utf8');
    return {
      contents: await keepOwnPlace(contents, relative(out, args.path).split(sep).join('/')),
      loader: 'js',
    };
  });
}

/**
 * The reference shop's two programs, its app (app/main.ts) and its data command (app/seed-main.ts), as
 * ES modules in dist/app/ with the packages they import (app/project.ts starts these while the CLI
 * runs compiled; the stamp covers app/, so they are of the sources as they are). Unbundled, each start
 * resolved, read and compiled some 700 files of Fastify, zod, jose and the AWS SDK: bundled, the app
 * answers in ~0.55 s with ~0.55 s of CPU instead of ~0.9 s and ~1.1 s, on the critical path of every
 * embedded `loadtest run`. What the two programs share is a chunk of its own. Left as imports, as in
 * the worker's bundle: the sketches library (protobuf's eval'd require) and aws-embedded-metrics; and
 * the CloudWatch and Secrets Manager clients, imported on AWS only, and dynamically: as a chunk, a
 * CommonJS package gives an import() its `default` alone, not its named exports. The toolkit's
 * own modules (`dynamo-loadtest/instrument`) are bundled from dist/, each keeping its own place.
 */
async function bundleShop() {
  const { build } = await import('esbuild');
  const dist = join(root, 'dist');
  const out = join(dist, 'app');
  const EXTERNAL =
    /^(@datadog\/sketches-js|protobufjs|aws-embedded-metrics|@aws-sdk\/client-(cloudwatch|secrets-manager))(\/|$)/;
  const { SELF_FOLDERS } = await import(
    new URL('../dist/runner/project/config-module.js', import.meta.url).href
  );
  await build({
    entryPoints: ['main', 'seed-main'].map((program) => join(root, 'app', `${program}.ts`)),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    ...esmBundle({ chunks: true }),
    logLevel: 'warning',
    plugins: [
      {
        name: 'loadtest-shop',
        setup(b) {
          b.onResolve({ filter: /^dynamo-loadtest(\/[a-z]+)?$/ }, (args) =>
            Object.hasOwn(SELF_FOLDERS, args.path)
              ? { path: join(dist, SELF_FOLDERS[args.path], 'index.js') }
              : undefined,
          );
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            !args.path.startsWith('node:') && EXTERNAL.test(args.path)
              ? { path: args.path, external: true }
              : undefined,
          );
          keepPlaces(b, out);
        },
      },
    ],
  });
}

/**
 * The CLI's own process as a few ES modules in dist/cli/ (bin/loadtest.js runs them when they are
 * there): Node then reads and compiles a handful of files instead of ~900 (our dist/ and the packages
 * it imports), which was most of the ~0.8 s before `loadtest run` did anything; zod alone went from
 * ~100 ms to ~35 ms to load. Entries:
 * - main: the CLI (runner/cli/main.js); each command's module stays a chunk loaded on demand;
 * - early: what bin/loadtest.js starts before the rest loads (DynamoDB Local, the load workers);
 * - runner, instrument, local, dashboards: the package's entries, which a project config bundled by
 *   this CLI imports (runner/project/config-module.ts points `dynamo-loadtest` at them), so the config
 *   and the CLI share one copy of each module, as they did unbundled.
 * Shared modules land in chunks, so early and main share their state (the early JVM, the early
 * workers). Each of our modules keeps its own place: `import.meta.url` becomes its file in dist/
 * (relative to dist/cli/), so `new URL('./worker.js', import.meta.url)` still finds the worker, which
 * like every other child process (the import worker, the shop) runs the unbundled dist/ files.
 * Packages are bundled only when they are pure JavaScript with no files of their own to find at run
 * time; the rest stay imports: yargs (its locale files), esbuild and tsx (binaries, loaders), undici,
 * the sketches library (protobuf's eval'd require), aws-embedded-metrics, CDK's constructs.
 */
async function bundleCli() {
  const { build } = await import('esbuild');
  const dist = join(root, 'dist');
  const out = join(dist, 'cli');
  const BUNDLED = /^(yaml|filtrex|bson|csv-parse)(\/|$)/;
  const entries = join(dist, 'cli-entries');
  mkdirSync(entries, { recursive: true });
  writeFileSync(
    join(entries, 'early.js'),
    [
      `export { startDynamoDBLocalEarly } from '../local/dynamodb-local.js';`,
      `export { startWorkersEarly } from '../runner/engine/worker-process.js';`,
      '',
    ].join('\n'),
  );
  await build({
    entryPoints: {
      main: join(dist, 'runner', 'cli', 'main.js'),
      early: join(entries, 'early.js'),
      runner: join(dist, 'runner', 'index.js'),
      instrument: join(dist, 'instrument', 'index.js'),
      local: join(dist, 'local', 'index.js'),
      dashboards: join(dist, 'dashboards', 'index.js'),
    },
    outdir: out,
    ...esmBundle({ chunks: true }),
    logLevel: 'warning',
    define: { __LOADTEST_CLI_BUNDLE__: 'true' },
    plugins: [
      {
        name: 'loadtest-cli',
        setup(b) {
          // A package imported by our code: bundled or left an import; inside a bundled package,
          // everything it imports is bundled with it.
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:') || inNodeModules(args.importer)) return undefined;
            return BUNDLED.test(args.path) ? undefined : { path: args.path, external: true };
          });
          keepPlaces(b, out);
        },
      },
    ],
  });
  rmSync(entries, { recursive: true, force: true });
}

/**
 * The load worker as one ES module, dist/worker/worker.js (runner/engine/worker-process.ts forks it
 * when it is there): Artillery's engine and what it imports, bundled, load in ~0.35 s of CPU instead
 * of ~0.55 s, and a worker is forked at the CLI's start, so that is time before the first request.
 * Left as imports: what cannot be bundled or has files of its own (tsx, esbuild, the sketches library,
 * aws-embedded-metrics, ws's optional native add-ons); Artillery's engines and plugins named by a
 * script, and its processors, are loaded by name at run time as they are unbundled.
 * Artillery's helpers require cheerio for `cheerio.load` only, and cheerio's index loads undici for
 * its fetch-a-URL helpers: in the bundle, that require gets a stand-in whose `load` is cheerio's
 * parser, and which loads the whole of cheerio only if asked for anything else (bundled modules load
 * when first required, so neither loads before a selector capture needs it).
 */
async function bundleWorker() {
  const { build } = await import('esbuild');
  const dist = join(root, 'dist');
  const out = join(dist, 'worker');
  const EXTERNAL =
    /^(tsx|esbuild|@datadog\/sketches-js|protobufjs|aws-embedded-metrics|bufferutil|utf-8-validate)(\/|$)/;
  const cheerioIndex = createRequire(
    createRequire(import.meta.url).resolve('@artilleryio/int-commons'),
  ).resolve('cheerio');
  await build({
    entryPoints: [join(dist, 'runner', 'engine', 'worker.js')],
    outfile: join(out, 'worker.js'),
    ...esmBundle({ chunks: false }),
    logLevel: 'error',
    define: { __LOADTEST_WORKER_BUNDLE__: 'true' },
    plugins: [
      {
        name: 'loadtest-worker',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:')) return undefined;
            if (EXTERNAL.test(args.path)) return { path: args.path, external: true };
            if (args.path === 'cheerio' && args.importer.includes('@artilleryio')) {
              return { path: 'cheerio', namespace: 'deferred-cheerio' };
            }
            return undefined;
          });
          b.onLoad({ filter: /.*/, namespace: 'deferred-cheerio' }, () => ({
            resolveDir: dirname(cheerioIndex),
            loader: 'js',
            // The stand-in from runner/engine/cheerio-deferred.js; the two requires are bundled, and a
            // bundled module runs when first required, so neither loads before it is needed.
            contents: [
              `const { cheerioStandIn } = require(${JSON.stringify(join(dist, 'runner', 'engine', 'cheerio-deferred.js'))});`,
              'module.exports = cheerioStandIn(',
              `  () => require(${JSON.stringify(join(dirname(cheerioIndex), 'load-parse.js'))}),`,
              `  () => require(${JSON.stringify(cheerioIndex)}),`,
              ');',
              '',
            ].join('\n'),
          }));
          keepPlaces(b, out);
        },
      },
    ],
  });
}
