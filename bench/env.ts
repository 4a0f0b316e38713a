/**
 * Side effects that must happen before anything else is evaluated: bench/index.ts imports this
 * module first (ESM evaluates imports in order), and child load drivers inherit the environment.
 */
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from '../bin/compiled.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// What the bench measures runs as `loadtest run` runs it: the shop's app and data command from their
// bundles in dist/app/ (app/project.ts reads this flag, which bin/loadtest.js sets the same way), and
// the gate compiled (gate-cost.ts), when dist/ is a build of these sources; else from the sources
// through tsx, whose keepNames wrappers and unbundled modules cost more. LOADTEST_FROM_SOURCE=1 keeps
// the sources, as it does for the CLI.
if (
  process.env.LOADTEST_FROM_SOURCE !== '1' &&
  compiledIsCurrent(fileURLToPath(new URL('..', import.meta.url)))
) {
  process.env.LOADTEST_COMPILED = '1';
}
