// @ts-check
/**
 * The layering rules of DESIGN.md ("Layout"): the toolkit never imports the shop (app/) or the
 * other projects (examples/), and those use only the toolkit's public entries, the way a user's
 * app would. `npm run lint:deps` checks them in CI; test/unit/layering.test.ts proves they bite.
 *
 * Paths in the rules are relative to the repository root (dependency-cruiser's baseDir).
 */

/** The toolkit: everything a project builds on, plus the CDK constructs that know no project. */
const TOOLKIT = [
  '^runner/',
  '^local/',
  '^dashboards/',
  '^instrument/',
  '^bin/',
  '^infra/index\\.ts$',
  '^infra/paths\\.ts$',
  '^infra/context\\.ts$',
  '^infra/project-app\\.ts$',
  '^infra/stacks/runners\\.ts$',
  '^infra/stacks/observability\\.ts$',
];

/** Projects on the toolkit: the reference shop and the examples. */
const PROJECTS = '^(app|examples)/';

/** Folders whose only public face is their index.ts (what `dynamo-loadtest/...` resolves to). */
const ENTRY_FOLDERS = '^(runner|local|dashboards|instrument|infra)/';
const ENTRY_FILES = '^(runner|local|dashboards|instrument|infra)/index\\.ts$';

/** The source folders the rules look at; test/, bench/, scenarios/ (Artillery's .cjs) are not. */
const SOURCE = '^(runner|local|dashboards|instrument|infra|app|examples|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'toolkit-not-to-projects',
      comment:
        'The toolkit (runner/, local/, dashboards/, instrument/, bin/ and the generic CDK constructs in ' +
        'infra/) never depends on app/ or examples/, directly or through another module: a project ' +
        'plugs into the toolkit through its config, the toolkit never reaches into a project.',
      severity: 'error',
      from: { path: TOOLKIT },
      to: { path: PROJECTS, reachable: true },
    },
    {
      name: 'projects-use-public-entries',
      comment:
        'app/ and examples/ use only the public entries of the toolkit: a folder index.ts, which is what ' +
        "the package's self-reference (`dynamo-loadtest`, `dynamo-loadtest/instrument`, ...) resolves to. " +
        'Import `dynamo-loadtest/<entry>` (or infra/index.ts) instead of a file inside the folder.',
      severity: 'error',
      from: { path: PROJECTS },
      to: { path: ENTRY_FOLDERS, pathNot: ENTRY_FILES },
    },
  ],
  options: {
    includeOnly: SOURCE,
    exclude: { path: ['(^|/)node_modules/', '^dist/', '^cdk\\.out/', '^test/', '^bench/', '^scenarios/'] },
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 (our compiler) has no JS API that dependency-cruiser can load, so it parses with
    // swc. swc reports every import, type-only ones included, which is what these rules want: a
    // toolkit type taken from the shop couples the two as much as a value does.
    parser: 'swc',
    tsPreCompilationDeps: true,
    // Resolve as NodeNext does: honour package.json "exports" (dependency-cruiser ignores them by
    // default), so that the package's self-reference (`dynamo-loadtest/instrument` from app/)
    // resolves to instrument/index.ts. Left unresolved, it would drop out of the graph unseen;
    // test/unit/layering.test.ts checks that it does not.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    skipAnalysisNotInRules: true,
  },
};
