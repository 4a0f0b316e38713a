import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';

/** True in the load worker's bundle (bin/build.js defines it there), absent everywhere else. */
declare const __LOADTEST_WORKER_BUNDLE__: boolean | undefined;
export const IN_WORKER_BUNDLE =
  typeof __LOADTEST_WORKER_BUNDLE__ !== 'undefined' && __LOADTEST_WORKER_BUNDLE__;

const require = createRequire(import.meta.url);

type Exports = Record<string | symbol, unknown>;

/**
 * cheerio as Artillery's helpers see it before anything needs more than its parser: `load` comes from
 * `parser()` (cheerio's load-parse.js, the same function the index re-exports), anything else from
 * `whole()` (the index), loaded once, the first time it is asked for. Used here at run time and by
 * the worker's bundle (bin/build.js) at build time.
 */
export function cheerioStandIn(parser: () => unknown, whole: () => unknown): Exports {
  let real: Exports | undefined;
  const all = (): Exports => {
    real ??= whole() as Exports;
    return real;
  };
  return new Proxy({} as Exports, {
    get: (_t, key) => (key === 'load' && !real ? (parser() as { load: unknown }).load : all()[key]),
    has: (_t, key) => key in all(),
    ownKeys: () => Reflect.ownKeys(all()),
    // Configurable, or the proxy would break its invariants (cheerio's exports are not).
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(all(), key);
      return d && { ...d, configurable: true };
    },
  });
}

/**
 * Artillery's shared helpers require all of cheerio (index.js) for one call, `cheerio.load` in a
 * `capture: { selector }`, and that index also loads undici, encodings and a stream parser for its
 * fetch-a-URL helpers: ~0.25 s of every worker's start. Until the first selector capture, cheerio is
 * a stand-in whose `load` loads the same parser (cheerio's load-parse.js, which the index re-exports);
 * anything else asked of it loads the real index.
 */
function deferCheerio(): void {
  const fromCommons = createRequire(require.resolve('@artilleryio/int-commons'));
  const index = fromCommons.resolve('cheerio');
  if (require.cache[index]) return;
  const stand = cheerioStandIn(
    () => require(join(dirname(index), 'load-parse.js')),
    () => {
      delete require.cache[index];
      return fromCommons('cheerio');
    },
  );
  const module = new Module(index);
  module.filename = index;
  module.loaded = true;
  module.exports = stand;
  require.cache[index] = module;
}
// The worker's bundle does the same at build time (bin/build.js): there is no require cache to seed.
if (!IN_WORKER_BUNDLE) deferCheerio();
