import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';

/** True in the load worker's bundle (bin/build.js defines it there), absent everywhere else. */
declare const __LOADTEST_WORKER_BUNDLE__: boolean | undefined;
export const IN_WORKER_BUNDLE =
  typeof __LOADTEST_WORKER_BUNDLE__ !== 'undefined' && __LOADTEST_WORKER_BUNDLE__;

const require = createRequire(import.meta.url);

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
  let real: Record<string | symbol, unknown> | undefined;
  const load = (): Record<string | symbol, unknown> => {
    if (real) return real;
    delete require.cache[index];
    real = fromCommons('cheerio') as Record<string | symbol, unknown>;
    return real;
  };
  const stand = new Proxy({} as Record<string | symbol, unknown>, {
    get: (_t, key) =>
      key === 'load' && !real
        ? (require(join(dirname(index), 'load-parse.js')) as { load: unknown }).load
        : load()[key],
    has: (_t, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    // Configurable, or the proxy would break its invariants (cheerio's exports are not).
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  const module = new Module(index);
  module.filename = index;
  module.loaded = true;
  module.exports = stand;
  require.cache[index] = module;
}
// The worker's bundle does the same at build time (bin/build.js): there is no require cache to seed.
if (!IN_WORKER_BUNDLE) deferCheerio();
