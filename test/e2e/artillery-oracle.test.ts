import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../runner/report/types.js';
import { type AuthTarget, startAuthTarget } from '../helpers/auth-target.js';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * Artillery as the oracle: scripts written for Artillery (before/after flows and captures, payload
 * CSVs, variables, match, ifTrue, loop, think, every phase shape, processor hooks, environments,
 * errors with no answer) run with the `artillery` CLI and with `loadtest run`, against the same local
 * target. Per request name, the counts and the answers by status or error code must be equal.
 * Artillery's per-name counts come from its metrics-by-endpoint plugin (useOnlyRequestNames).
 */
const FIXTURES = join(ROOT, 'test/fixtures/artillery');
const ARTILLERY = join(ROOT, 'node_modules/.bin/artillery');

const SCRIPTS: { file: string; args?: string[] }[] = [
  { file: 'before-capture.yml' },
  { file: 'loop-think.yml' },
  { file: 'payload.yml' },
  { file: 'variables-match.yml' },
  { file: 'phases.yml' },
  { file: 'ramp.yml' },
  { file: 'hooks.yml' },
  { file: 'environments.yml', args: ['--environment', 'staging'] },
  { file: 'errors.yml' },
  { file: 'expect.yml' },
  { file: 'html-capture.yml' },
  { file: 'config-templates.yml', args: ['--variables', '{"users": 4}'] },
];

let target: AuthTarget;
let scratch: string;

beforeAll(async () => {
  target = await startAuthTarget();
  scratch = await mkdtemp(join(tmpdir(), 'loadtest-oracle-'));
});

afterAll(async () => {
  await target?.close();
  await rm(scratch, { recursive: true, force: true });
});

type Codes = Record<string, Record<string, number>>;

/** Per request name, answers by status or error code, from Artillery's metrics-by-endpoint counters. */
function artilleryCodes(counters: Record<string, number>): Codes {
  const out: Codes = {};
  for (const [key, n] of Object.entries(counters)) {
    const m = /^plugins\.metrics-by-endpoint\.(.+)\.(codes|errors)\.(.+)$/.exec(key);
    if (!m || n === 0) continue;
    const [, name = '', , code = ''] = m;
    out[name] = { ...(out[name] ?? {}), [code]: n };
  }
  return out;
}

function loadtestCodes(report: Report): Codes {
  const out: Codes = {};
  for (const p of report.patterns) if (p.codes && p.requests > 0) out[p.id] = p.codes;
  return out;
}

interface ArtilleryOutput {
  codes: Codes;
  /** Its metrics-by-endpoint plugin's counters, and the count of each of its histograms. */
  byEndpoint: Record<string, number>;
}

const BY_ENDPOINT = 'plugins.metrics-by-endpoint.';

/** The metrics-by-endpoint plugin's counters, and its histograms' counts, of an aggregate. */
function byEndpoint(counters: Record<string, number>, summaries: Record<string, { count?: number }>) {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(counters)) if (k.startsWith(BY_ENDPOINT) && n > 0) out[k] = n;
  for (const [k, s] of Object.entries(summaries))
    if (k.startsWith(BY_ENDPOINT) && (s.count ?? 0) > 0) out[`${k}.count`] = s.count ?? 0;
  return out;
}

async function artillery(file: string, args: string[], output: string): Promise<ArtilleryOutput> {
  const run = runCli(['run', join(FIXTURES, file), '--target', target.url, '--output', output, ...args], {
    command: [ARTILLERY],
    // No network here: Artillery's telemetry call would stall the run.
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: '1' },
  });
  const { code } = await run.exited;
  // 21: Artillery's exit code when expectations failed (the expect plugin's suggestion).
  expect([0, 21], `artillery ${file}\n${run.stdout()}\n${run.stderr()}`).toContain(code);
  const json = JSON.parse(await readFile(output, 'utf8')) as {
    aggregate: { counters: Record<string, number>; summaries?: Record<string, { count?: number }> };
  };
  return {
    codes: artilleryCodes(json.aggregate.counters),
    byEndpoint: byEndpoint(json.aggregate.counters, json.aggregate.summaries ?? {}),
  };
}

/** `loadtest run <fixture> --url <target>`, its report written to `output`. */
async function runLoadtest(file: string, extra: string[], output = join(scratch, `${file}.json`)) {
  const r = runCli([
    'run',
    join(FIXTURES, file),
    '--url',
    target.url,
    '--output',
    output,
    '--state-dir',
    scratch,
    ...extra,
  ]);
  const { code } = await r.exited;
  return { code, out: r.stdout(), err: r.stderr(), output };
}

async function loadtest(
  file: string,
  args: string[],
  output: string,
): Promise<{ codes: Codes; report: Report }> {
  const r = await runLoadtest(file, ['--no-default-thresholds', ...args], output);
  expect(r.code, `loadtest ${file}\n${r.out}\n${r.err}`).toBe(0);
  const report = JSON.parse(await readFile(output, 'utf8')) as Report;
  return { codes: loadtestCodes(report), report };
}

describe('loadtest run against the artillery CLI on the same scripts', () => {
  // Concurrently (vitest's maxConcurrency, 3): each pair spends most of its time waiting on the
  // script's phases and Artillery's start and end, not on the CPU; in sequence they took 4-5 minutes.
  it.concurrent.for(SCRIPTS)(
    '$file: the same requests per name and answers per code',
    { timeout: 90_000 },
    async ({ file, args = [] }, { expect }) => {
      const [expected, actual] = await Promise.all([
        artillery(file, args, join(scratch, `${file}.artillery.json`)),
        loadtest(file, args, join(scratch, `${file}.loadtest.json`)),
      ]);
      expect(Object.keys(expected.codes).length).toBeGreaterThan(0);
      expect(actual.codes).toEqual(expected.codes);
      // The plugin's own metrics too (what an ensure check on them judges): its hooks run here.
      const ours = actual.report.artillery;
      expect(byEndpoint(ours?.counters ?? {}, ours?.summaries ?? {})).toEqual(expected.byEndpoint);
    },
  );

  it('expect: a failed expectation is an error of its request name, as many as Artillery counts', async () => {
    const ours = JSON.parse(await readFile(join(scratch, 'expect.yml.loadtest.json'), 'utf8')) as Report;
    const theirs = JSON.parse(await readFile(join(scratch, 'expect.yml.artillery.json'), 'utf8')) as {
      aggregate: { counters: Record<string, number> };
    };
    const soft = ours.patterns.find((p) => p.id === 'soft');
    expect(soft).toMatchObject({ requests: 5, errors: 5, failedExpectations: { hasProperty: 5 } });
    expect(soft?.errorSamples?.['expect.hasProperty']?.[0]).toMatch(/^expected hasProperty "items"/);
    expect(ours.patterns.find((p) => p.id === 'good')?.errors).toBe(0);
    expect(theirs.aggregate.counters['plugins.expect.failed.hasProperty']).toBe(
      soft?.failedExpectations?.hasProperty,
    );
  });

  it("Artillery's own histograms and a processor's metrics: judged by ensure and reported as Artillery does", async () => {
    const ours = JSON.parse(await readFile(join(scratch, 'hooks.yml.loadtest.json'), 'utf8')) as Report;
    const theirs = JSON.parse(await readFile(join(scratch, 'hooks.yml.artillery.json'), 'utf8')) as {
      aggregate: { counters: Record<string, number>; summaries: Record<string, Record<string, number>> };
    };
    // hooks.yml's ensure checks session length, the 2xx response time and a custom histogram: all pass.
    expect(ours.ensure.map((e) => e.passed)).toEqual([true, true, true]);
    expect(ours.artillery?.summaries['hooks.session_mark']).toEqual(
      theirs.aggregate.summaries['hooks.session_mark'],
    );
    expect(ours.artillery?.counters['hooks.ended']).toBe(theirs.aggregate.counters['hooks.ended']);
    for (const name of ['vusers.session_length', 'http.response_time.2xx'])
      expect(ours.artillery?.summaries[name]?.count, name).toBe(theirs.aggregate.summaries[name]?.count);
  });

  it('the before flow ran once per run, and its capture reached every virtual user', async () => {
    const report = JSON.parse(
      await readFile(join(scratch, 'before-capture.yml.loadtest.json'), 'utf8'),
    ) as Report;
    expect(report.patterns.find((p) => p.id === 'me')?.codes).toEqual({ 200: 8 });
    // Hooks are not load: neither the login nor the after flow's request is a row.
    expect(report.patterns.map((p) => p.id)).toEqual(['me']);
    // Each of the two runs (artillery's and ours) logged in once and cleaned up once.
    expect(target.served.get('POST /login')).toBe(2);
  });

  it('config templates rendered once: one key for the whole run, the phase from --variables, one run id', async () => {
    const report = JSON.parse(
      await readFile(join(scratch, 'config-templates.yml.loadtest.json'), 'utf8'),
    ) as Report;
    expect(report.patterns.find((p) => p.id === 'once')?.codes).toEqual({ 201: 1, 409: 3 });
    // {{ $testId }} in a flow is the config's: the key `tid` posted first.
    expect(report.patterns.find((p) => p.id === 'tid')?.codes).toEqual({ 201: 1, 409: 3 });
    expect(report.patterns.find((p) => p.id === 'again')?.codes).toEqual({ 409: 4 });
  });

  it("an environment merges as Artillery's does: its one phase into the first of the file's two", async () => {
    const report = JSON.parse(
      await readFile(join(scratch, 'environments.yml.loadtest.json'), 'utf8'),
    ) as Report;
    expect(report.patterns.find((p) => p.id === 'routed')?.codes).toEqual({ 200: 10 });
  });

  it("a selector capture followed every time: the load worker's deferred cheerio parses as the real one", async () => {
    const report = JSON.parse(
      await readFile(join(scratch, 'html-capture.yml.loadtest.json'), 'utf8'),
    ) as Report;
    expect(report.patterns.find((p) => p.id === 'followed')?.codes).toEqual({ 200: 6 });
    // Both runs' users reached the captured path itself: 6 each.
    expect(target.served.get('GET /followed')).toBe(12);
  });
});

describe('what went wrong, and runs that must not pass', () => {
  const run = (file: string, extra: string[] = []) => runLoadtest(file, extra);

  it('every request refused: exit 1, the cause in one line, the codes and a sample in every view', async () => {
    const junit = join(scratch, 'no-login.xml');
    const markdown = join(scratch, 'no-login.md');
    const r = await run('no-login.yml', ['--junit', junit, '--markdown', markdown]);
    expect(r.code, `${r.out}\n${r.err}`).toBe(1);
    expect(r.out).toContain('FAILED: every request failed (8): 401 x8 on me');
    expect(r.out).toContain('errors: me: 401 x8 (HTTP 401: {"error":"no token"})');
    const report = JSON.parse(await readFile(r.output, 'utf8')) as Report;
    // No thresholds of its own: the documented default gate.
    expect(report.thresholds).toMatchObject([
      { pattern: 'me', metric: 'errorRate', op: '<', value: 0.01, passed: false },
    ]);
    expect(report.patterns[0]).toMatchObject({
      codes: { 401: 8 },
      errorSamples: { 401: ['HTTP 401: {"error":"no token"}'] },
    });
    expect(report.allFailed).toBe('every request failed (8): 401 x8 on me');
    expect(await readFile(junit, 'utf8')).toMatch(
      /<system-out>errors:\nme: 401 x8 \(HTTP 401: \{&quot;error&quot;/,
    );
    expect(await readFile(markdown, 'utf8')).toContain('- me: 401 x8 (HTTP 401: {"error":"no token"})');
    const html = join(scratch, 'no-login.html');
    const page = runCli(['report', r.output, '--html', html]);
    expect((await page.exited).code).toBe(0);
    expect(await readFile(html, 'utf8')).toMatch(/<tr data-name="me" data-code="401">/);

    // Without the default gate it still fails: nothing succeeded.
    const bare = await run('no-login.yml', ['--no-default-thresholds']);
    expect(bare.code).toBe(1);
    expect(bare.out).toContain('FAILED: every request failed (8)');
  }, 60_000);

  it('virtual users that all fail before their first request: exit 1, not a pass with nothing measured', async () => {
    for (const extra of [[], ['--no-default-thresholds']]) {
      const r = await run('vusers-fail.yml', extra);
      expect(r.code, `${r.out}\n${r.err}`).toBe(1);
      expect(r.out).toContain(
        'FAILED: no request was sent: the virtual users failed before their first (no session x3)',
      );
      const report = JSON.parse(await readFile(r.output, 'utf8')) as Report;
      expect(report).toMatchObject({ passed: false, patterns: [] });
    }
  }, 60_000);

  it('a before flow that fails sends no load: exit 3, naming the flow and why', async () => {
    const before = target.served.get('GET /me') ?? 0;
    const r = await run('bad-before.yml');
    expect(r.code, `${r.out}\n${r.err}`).toBe(3);
    expect(`${r.out}\n${r.err}`).toMatch(/no load sent: the script's before flow failed: .*capture/i);
    // Artillery both throws and emits the failure: it is said once.
    expect(`${r.out}\n${r.err}`).not.toMatch(/Failed capture or match; Failed capture or match/);
    expect(target.served.get('GET /me') ?? 0).toBe(before);
  }, 60_000);

  it('a processor that throws while loading is a bad script: exit 2 naming the file and line, the partial report written', async () => {
    const output = join(scratch, 'bad-processor.json');
    const r = await runLoadtest('bad-processor.yml', [], output);
    expect(r.code, `${r.out}\n${r.err}`).toBe(2);
    expect(r.err).toMatch(
      /bad-processor\.yml: config\.processor \.\/bad-processor\.cjs: failed to load \(\/.*bad-processor\.cjs:3:\d+\): Error: LOADTEST_NO_SUCH_SETTING is not set/,
    );
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    expect(report).toMatchObject({ partial: true, passed: false });
    expect(report.error).toMatch(/^the script cannot run: config\.processor .*failed to load/);
    // Said once, as bad input: no empty table, no per-worker failure, no INCOMPLETE (exit 3's word).
    expect(r.err.match(/failed to load/g)).toHaveLength(1);
    expect(`${r.out}\n${r.err}`).not.toMatch(/INCOMPLETE|worker 0 failed|PARTIAL/);
    expect(r.out).toMatch(/^report \(partial, no load sent\): .*bad-processor\.json$/m);
  }, 60_000);

  it('refuses, naming it, what it would otherwise skip or send wrong: an unsupported plugin, another engine, an unknown step (exit 2)', async () => {
    const plugin = await run('publish-plugin.yml');
    expect(plugin.code).toBe(2);
    expect(plugin.err).toMatch(
      /publish-plugin\.yml:\d+:\d+: config\.plugins\.publish-metrics: plugin "publish-metrics" is not supported by loadtest run/,
    );
    const ws = await run('ws-engine.yml');
    expect(ws.code).toBe(2);
    expect(ws.err).toMatch(/scenarios\.0\.engine: engine "ws" is not supported by loadtest run/);
    const step = await run('unknown-step.yml');
    expect(step.code).toBe(2);
    expect(step.err).toMatch(
      /unknown-step\.yml:9:\d+: scenarios\.0\.flow\.0\.loop\.1\.gett: unknown step "gett" \(Artillery would send it as an HTTP GETT request\)/,
    );
  }, 60_000);
});
