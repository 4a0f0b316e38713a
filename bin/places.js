// What bin/build.js does to each of our compiled modules it bundles, apart so a test can check it.

/** The name each module's own URL is bound to in a bundle (a top-level const; esbuild renames clashes). */
const OWN_URL = '__loadtestOwnUrl';

/**
 * A compiled module's code with its own place kept once bundled into `out`: `import.meta.url` (as code,
 * not the same words in a string) becomes the module's file in dist/, as a URL relative to the bundle
 * that holds it, so `new URL('./worker.js', import.meta.url)` still finds the worker and the bundle holds
 * no path of this machine. esbuild's `define` finds the expressions; a text replace also rewrote the
 * words inside strings, such as config-module.ts's own `define` key for bundled project configs, which
 * then failed in the CLI's bundle and fell back to tsx on every start (~0.6 s).
 * @param {string} contents the module's compiled JavaScript (an ES module)
 * @param {string} place the module's path relative to the bundle's folder, '/'-separated
 * @returns {Promise<string>}
 */
export async function keepOwnPlace(contents, place) {
  if (!contents.includes('import.meta.url')) return contents;
  const { transform } = await import('esbuild');
  const { code } = await transform(contents, {
    loader: 'js',
    format: 'esm',
    define: { 'import.meta.url': OWN_URL },
  });
  if (!code.includes(OWN_URL)) return contents;
  return `const ${OWN_URL} = new URL(${JSON.stringify(place)}, import.meta.url).href;\n${code}`;
}
