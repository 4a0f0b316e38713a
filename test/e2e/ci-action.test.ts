import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli.js';

/**
 * The composite action (action.yml) and the workflow users copy (.github/workflows/loadtest.yml):
 * the action's shell steps run here as GitHub runs them (bash -e -o pipefail, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, inputs from their defaults or the test), on the orders example, so a
 * broken command fails this test rather than a user's pipeline.
 */
interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

let action: Action;
let scratch: string;

beforeAll(async () => {
  action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as Action;
  scratch = await mkdtemp(join(tmpdir(), 'loadtest-action-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** `${{ inputs.x }}` and `${{ steps.run.outputs.y }}`, the only expressions the action uses. */
function expand(text: string, inputs: Record<string, string>, outputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
    const [scope, ...rest] = expr.split('.');
    if (scope === 'inputs') return inputs[rest.join('.')] ?? '';
    if (scope === 'steps') return outputs[rest.at(-1) ?? ''] ?? '';
    throw new Error(`action.yml: unknown expression \${{ ${expr} }}`);
  });
}

function bash(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    // GitHub's `shell: bash`: bash --noprofile --norc -eo pipefail {0}.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('exit', (code) => done({ code, out }));
  });
}

/** Runs the action's steps in order; stops at the first that fails, as GitHub does. */
async function runAction(given: Record<string, string>, name: string) {
  const inputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.inputs)) inputs[k] = given[k] ?? v.default ?? '';
  const outputFile = join(scratch, `${name}.output`);
  const summary = join(scratch, `${name}.summary.md`);
  await writeFile(outputFile, '');
  await writeFile(summary, '');
  const logs: string[] = [];
  for (const step of action.runs.steps) {
    if (step.uses) continue;
    const env: Record<string, string> = { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summary };
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expand(v, inputs, {});
    const cwd = resolve(ROOT, expand(step['working-directory'] ?? '.', inputs, {}));
    const r = await bash(step.run ?? '', cwd, env);
    logs.push(`--- ${step.name}\n${r.out}`);
    if (r.code !== 0)
      return { failedAt: step.name, code: r.code, logs: logs.join('\n'), outputs: await outputs(), summary };
  }
  return { failedAt: undefined, code: 0, logs: logs.join('\n'), outputs: await outputs(), summary };

  // What the steps wrote to GITHUB_OUTPUT (the action's outputs read them), a failed job's too.
  async function outputs(): Promise<Record<string, string>> {
    return Object.fromEntries(
      (await readFile(outputFile, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }
}

const EXAMPLE = {
  scenario: 'examples/orders/scenarios/forecast.yml',
  config: 'examples/orders/loadtest.config.yml',
  args: '--duration 2 --rate 2',
};

describe('the composite action and the workflow users copy', () => {
  it('is a composite action whose only other actions are the ones it documents', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.runs.steps.filter((s) => s.uses).map((s) => s.uses)).toEqual(['actions/setup-java@v4']);
    for (const s of action.runs.steps.filter((x) => x.run)) expect(s.shell).toBe('bash');
    expect(Object.keys(action.outputs).sort()).toEqual(['passed', 'report']);
  });

  it('runs a scenario, writes every report and the step summary, then compares with a baseline', async () => {
    const out = join(scratch, 'first');
    const first = await runAction({ ...EXAMPLE, 'output-dir': out }, 'first');
    expect(first.failedAt, first.logs).toBeUndefined();
    expect(first.outputs).toEqual({ report: `${out}/report.json`, passed: 'true' });
    for (const f of ['report.json', 'report.html', 'junit.xml', 'summary.md'])
      expect((await readFile(join(out, f), 'utf8')).length, f).toBeGreaterThan(0);
    expect(await readFile(first.summary, 'utf8')).toMatch(/### Load test `forecast`: passed/);
    expect(first.logs).toContain('no baseline report: comparison skipped');

    const second = await runAction(
      {
        ...EXAMPLE,
        'output-dir': join(scratch, 'second'),
        baseline: `${out}/report.json`,
        'max-regression': '100000',
      },
      'second',
    );
    expect(second.failedAt, second.logs).toBeUndefined();
    expect(await readFile(second.summary, 'utf8')).toContain('### Against the baseline');

    // A baseline the run cannot match (every call a thousandth of its capacity): the regression
    // fails the job, and the `passed` output says so. A quoted flag value in `args` arrives whole.
    const report = JSON.parse(await readFile(`${out}/report.json`, 'utf8')) as {
      patterns: { rcuPerRequest: number | null; wcuPerRequest: number | null }[];
    };
    for (const p of report.patterns) {
      if (p.rcuPerRequest) p.rcuPerRequest /= 1000;
      if (p.wcuPerRequest) p.wcuPerRequest /= 1000;
    }
    const fast = join(scratch, 'fast-baseline.json');
    await writeFile(fast, JSON.stringify(report));
    const third = await runAction(
      {
        ...EXAMPLE,
        args: `${EXAMPLE.args} --variables '{"note": "two words"}'`,
        'output-dir': join(scratch, 'third'),
        baseline: fast,
      },
      'third',
    );
    expect(third.failedAt, third.logs).toBe('verdict');
    expect(third.code).toBe(1);
    expect(third.logs).toMatch(/REGRESSION/);
    expect(third.outputs).toEqual({ report: `${join(scratch, 'third')}/report.json`, passed: 'false' });
  }, 180_000);

  it('fails the job with the run exit code when the scenario is bad (2), after writing what it could', async () => {
    // With a baseline too: the comparison has no report to read and must not turn 2 into 1.
    const baseline = join(scratch, 'baseline.json');
    await writeFile(baseline, '{}');
    const bad = await runAction(
      { ...EXAMPLE, scenario: 'no-such-scenario', 'output-dir': join(scratch, 'bad'), baseline },
      'bad',
    );
    expect(bad.failedAt).toBe('verdict');
    expect(bad.code).toBe(2);
    // No report to point at: no `report` output.
    expect(bad.outputs).toEqual({ passed: 'false' });
    expect(bad.logs).toMatch(/no-such-scenario/);
    expect(bad.logs).toContain('no report from the run (exit 2): comparison skipped');
  }, 60_000);

  it('the workflow runs on push and pull request, uses the action, keeps the reports as an artifact', async () => {
    const wf = parse(await readFile(join(ROOT, '.github/workflows/loadtest.yml'), 'utf8')) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: Step[] & { with?: Record<string, string>; if?: string }[] }>;
    };
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
    const steps = wf.jobs.loadtest?.steps ?? [];
    expect(steps.map((s) => s.uses ?? s.name ?? s.run?.split(' ')[0])).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'npm',
      'find the baseline',
      'actions/download-artifact@v4',
      './',
      'actions/upload-artifact@v4',
    ]);
    const upload = steps.at(-1) as { if?: string; with?: Record<string, string> };
    expect(upload.if).toBe('always()');
    expect(upload.with?.name).toBe('loadtest-report');
  });
});
