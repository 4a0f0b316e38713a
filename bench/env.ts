/**
 * Side effects that must happen before anything else is evaluated: bench/index.ts imports this
 * module first (ESM evaluates imports in order), and child load drivers inherit the environment.
 */
import { fileURLToPath } from 'node:url';
import { runsCompiled } from '../bin/compiled.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * What the bench measures runs as `loadtest run` runs it, by the CLI's own rule (runsCompiled): the
 * shop's app and data command from their bundles in dist/app/ (app/project.ts reads
 * LOADTEST_COMPILED, which bin/loadtest.js sets the same way) and the gate compiled (gate-cost.ts)
 * when dist/ is a build of these sources; else from the sources through tsx, whose keepNames
 * wrappers and unbundled modules cost more.
 */
export const RUNS_COMPILED = runsCompiled(fileURLToPath(new URL('..', import.meta.url)));
if (RUNS_COMPILED) process.env.LOADTEST_COMPILED = '1';

/** Why the shop and the gate run from their sources, when they do (for the summary and the rows). */
export const SOURCES_WHY =
  process.env.LOADTEST_FROM_SOURCE === '1'
    ? 'LOADTEST_FROM_SOURCE=1'
    : 'dist/ is not a build of them: npm run build';
