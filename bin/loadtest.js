#!/usr/bin/env node
// The CLI runs its compiled JavaScript (dist/, built on `npm install`) when that build is of the
// sources as they are now, else its TypeScript sources through tsx (development: no build step
// needed). LOADTEST_FROM_SOURCE=1 forces the sources.
import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { earlyWorkers, runsCompiled, startsDynamoDBLocal } from './compiled.js';

// Node 22.1+ keeps the compiled code of the modules it loads on disk (its temp folder) and reuses it on
// the next start; older Node has no such cache, and goes on without it.
nodeModule.enableCompileCache?.();
// The SDK's notice that Node 20 leaves support in 2027 is not for our users' load-test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const compiled = runsCompiled(fileURLToPath(new URL('..', import.meta.url)));
if (!compiled) {
  // Set by a parent (a bench, another loadtest) that ran compiled: this process does not, so neither
  // do the shop's app and data command it starts.
  delete process.env.LOADTEST_COMPILED;
  const { register } = await import('tsx/esm/api');
  register();
} else {
  // For the reference shop's config: its app and data command then run their compiled bundles too.
  process.env.LOADTEST_COMPILED = '1';
}
// Compiled, the CLI's process runs its bundle (dist/cli/, see bin/build.js) when the build made one.
const bundle = (name) => new URL(`../dist/cli/${name}.js`, import.meta.url);
const bundled = compiled && existsSync(bundle('main'));
const module = (path, entry) =>
  bundled
    ? bundle(entry).href
    : new URL(compiled ? `../dist/${path}.js` : `../${path}.ts`, import.meta.url).href;
// DynamoDB Local's JVM is the slowest thing to start: it starts now, while the rest loads.
if (startsDynamoDBLocal(process.argv.slice(2))) {
  (await import(module('local/dynamodb-local', 'early'))).startDynamoDBLocalEarly();
}
// Then the load workers: each loads Artillery (most of a second) while this process loads the CLI.
const workers = earlyWorkers(process.argv.slice(2));
if (workers > 0) (await import(module('runner/engine/worker-process', 'early'))).startWorkersEarly(workers);
const { main } = await import(module('runner/cli/main', 'main'));
const code = await main();
process.exit(code);
