import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The layering rules of .dependency-cruiser.cjs (what `npm run lint:deps` checks), run through
 * dependency-cruiser's API: once on the real tree, once on a small tree that breaks each rule.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Rule {
  readonly name: string;
  readonly from: { readonly path?: string | readonly string[] };
}
const config = createRequire(import.meta.url)(CONFIG) as { forbidden: readonly Rule[] };

/** Cruises a tree with the repository's config; paths in the result are relative to `baseDir`. */
async function cruiseTree(baseDir: string): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(CONFIG);
  const { output } = await cruise(['.'], { ...options, baseDir });
  if (typeof output === 'string') throw new Error('dependency-cruiser returned a report, not a result');
  return output;
}

/** Where a transitive violation leaves the toolkit: the import to change. */
function exitFromToolkit(violation: IViolation): string | undefined {
  const rule = config.forbidden.find((r) => r.name === violation.rule.name);
  if (!violation.via || rule?.from.path === undefined) return undefined;
  const toolkit = [rule.from.path].flat().map((p) => new RegExp(p));
  const inToolkit = (path: string) => toolkit.some((re) => re.test(path));
  const chain = [violation.from, ...violation.via.map((step) => step.name)];
  for (let i = 1; i < chain.length; i++) {
    const [from, to] = [chain[i - 1], chain[i]];
    if (from !== undefined && to !== undefined && inToolkit(from) && !inToolkit(to)) return `${from} → ${to}`;
  }
  return undefined;
}

function describeViolations(violations: readonly IViolation[]): string {
  const lines = violations.map((v) => {
    const via = v.via && v.via.length > 1 ? ` (via ${v.via.map((step) => step.name).join(' → ')})` : '';
    return `  ${v.rule.name}: ${v.from} → ${v.to}${via}`;
  });
  const exits = new Set(violations.map(exitFromToolkit).filter((edge) => edge !== undefined));
  const fix =
    exits.size > 0
      ? ['imports that take the toolkit out of bounds:', ...[...exits].map((e) => `  ${e}`), '']
      : [];
  return [
    ...fix,
    `${violations.length} layering violation(s) (npm run lint:deps shows them too):`,
    ...lines,
  ].join('\n');
}

describe('the layering of the repository', () => {
  let result: ICruiseResult;

  beforeAll(async () => {
    result = await cruiseTree(ROOT);
  });

  it('has no dependency that breaks a layering rule', () => {
    const violations = result.summary.violations;
    expect(violations.length, describeViolations(violations)).toBe(0);
  });

  it('parses the TypeScript sources (a cruise that reads no .ts file would pass vacuously)', () => {
    const main = result.modules.find((m) => m.source === 'runner/cli/main.ts');
    expect(main?.dependencies.length ?? 0).toBeGreaterThan(0);
    expect(result.summary.totalCruised).toBeGreaterThan(50);
  });

  it("resolves the package's self-reference from app/ to the entries in package.json exports", async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, string>;
    };
    const entries = new Map(
      Object.entries(manifest.exports).map(([key, target]) => [
        manifest.name + key.slice(1),
        target.replace(/^\.\//, ''),
      ]),
    );
    const selfImports = result.modules
      .filter((m) => m.source.startsWith('app/'))
      .flatMap((m) =>
        m.dependencies.filter((d) => entries.has(d.module)).map((d) => ({ from: m.source, ...d })),
      );

    expect(selfImports.length).toBeGreaterThan(0);
    for (const d of selfImports) {
      expect({ from: d.from, module: d.module, resolved: d.resolved }).toEqual({
        from: d.from,
        module: d.module,
        resolved: entries.get(d.module),
      });
    }
  });
});

describe('the layering rules', () => {
  let fixture: string;
  let result: ICruiseResult;

  const files: Record<string, string> = {
    'package.json': JSON.stringify({
      name: 'dynamo-loadtest',
      type: 'module',
      exports: { '.': './runner/index.ts', './instrument': './instrument/index.ts' },
    }),
    'runner/index.ts': 'export type Entry = number;\n',
    'runner/cli/deep.ts': 'export const deep = 1;\n',
    // The toolkit imports the shop: directly, through a type, and through one of the shop's stacks.
    'runner/x.ts': "import { y } from '../app/y.js';\nexport const x = y;\n",
    'local/types.ts': "import type { Y } from '../app/y.js';\nexport type Local = Y;\n",
    'infra/stacks/runners.ts':
      "import { shopConfig } from '../config.js';\nexport const runners = shopConfig;\n",
    'infra/config.ts': "import { y } from '../app/y.js';\nexport const shopConfig = y;\n",
    'instrument/index.ts': 'export const tag = 1;\n',
    'app/y.ts': 'export const y = 1;\nexport type Y = number;\n',
    // A project reaches past a public entry; and one that keeps to them (the package self-reference).
    'app/z.ts': "import { deep } from '../runner/cli/deep.js';\nexport const z = deep;\n",
    'examples/orders/server.mjs':
      "import { gate } from '../../local/gate/gate.js';\nexport const s = gate;\n",
    'local/gate/gate.ts': 'export const gate = 1;\n',
    'app/ok.ts':
      "import { tag } from 'dynamo-loadtest/instrument';\nimport type { Entry } from 'dynamo-loadtest';\nexport const ok: Entry = tag;\n",
  };

  beforeAll(async () => {
    fixture = await mkdtemp(join(tmpdir(), 'layering-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(fixture, path)), { recursive: true });
      await writeFile(join(fixture, path), text);
    }
    result = await cruiseTree(fixture);
  });

  afterAll(async () => {
    await rm(fixture, { recursive: true, force: true });
  });

  it('report the toolkit importing the shop and a project reaching past a public entry', () => {
    const found = result.summary.violations.map((v) => [v.rule.name, v.from, v.to]).sort();

    expect(found).toEqual(
      [
        ['toolkit-not-to-projects', 'runner/x.ts', 'app/y.ts'],
        ['toolkit-not-to-projects', 'local/types.ts', 'app/y.ts'],
        ['toolkit-not-to-projects', 'infra/stacks/runners.ts', 'app/y.ts'],
        ['projects-use-public-entries', 'app/z.ts', 'runner/cli/deep.ts'],
        ['projects-use-public-entries', 'examples/orders/server.mjs', 'local/gate/gate.ts'],
      ].sort(),
    );
    const viaShopStack = result.summary.violations.find((v) => v.from === 'infra/stacks/runners.ts');
    expect(viaShopStack?.via?.map((step) => step.name)).toEqual(['infra/config.ts', 'app/y.ts']);
    expect(describeViolations(result.summary.violations)).toContain(
      'infra/stacks/runners.ts → infra/config.ts',
    );
  });

  it('let a project import the toolkit by its package name', () => {
    const ok = result.modules.find((m) => m.source === 'app/ok.ts');

    expect(ok?.dependencies.map((d) => [d.module, d.resolved]).sort()).toEqual([
      ['dynamo-loadtest', 'runner/index.ts'],
      ['dynamo-loadtest/instrument', 'instrument/index.ts'],
    ]);
    expect(result.summary.violations.filter((v) => v.from === 'app/ok.ts')).toEqual([]);
  });
});
