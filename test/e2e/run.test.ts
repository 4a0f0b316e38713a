import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { patternIds } from '../../app/index.js';
import type { Report } from '../../runner/report/types.js';
import { ROOT, runCli, runEach } from '../helpers/cli.js';

const PROCESSOR = join(ROOT, 'scenarios/lib/shop.cjs');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-run-e2e-'));
});

async function scenario(name: string, body: string): Promise<string> {
  const path = join(dir, `${name}.yml`);
  await writeFile(path, body);
  return path;
}

const productScenario = (config: string, phases = '[{ duration: 3, arrivalRate: 4 }]') => `config:
  target: http://127.0.0.1:1
  phases: ${phases}
  processor: ${PROCESSOR}
${config}
scenarios:
  - flow:
      - function: pickProduct
      - get: { url: "/api/products/{{ productId }}", name: getProduct }
      - get: { url: "/api/products?category={{ category }}", name: listProductsByCategory }
      - get: { url: /health, name: health }
`;

describe('loadtest run', () => {
  it('runs smoke on the embedded stack: a row per access pattern, the JSON contract on disk, exit 0', async () => {
    const output = join(dir, 'smoke.json');
    const summary = join(dir, 'step-summary.md');
    await writeFile(summary, '# earlier step\n');
    const markdown = join(dir, 'smoke.md');
    const run = runCli(
      [
        'run',
        'smoke',
        '--duration',
        '4',
        '--rate',
        '2',
        '--output',
        output,
        '--markdown',
        markdown,
        '--timings',
      ],
      {
        env: { ...process.env, GITHUB_STEP_SUMMARY: summary },
      },
    );
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    // Compiled (as after npm install), the shop's TypeScript config loads from its bundle: a build
    // fault once made it fall back to tsx on every start, unseen but for ~0.6 s.
    expect(run.stderr()).toContain('start-up timings');
    expect(run.stderr()).not.toContain('was loaded through tsx');
    const md = await readFile(markdown, 'utf8');
    expect(md).toMatch(/^### Load test `smoke`: passed/);
    expect(md).toMatch(/\| `getProduct` \| 8 \| 0 \|/);
    // Appended to the job summary, after what earlier steps wrote.
    expect(await readFile(summary, 'utf8')).toBe(`# earlier step\n${md}`);
    for (const id of patternIds) expect(run.stdout()).toContain(id);
    expect(run.stdout()).toMatch(/PASSED/);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(Object.keys(report).sort()).toEqual(
      [
        'scenario',
        'target',
        'startedAt',
        'endedAt',
        'durationSec',
        'passed',
        'partial',
        'workers',
        'pricing',
        'project',
        'sources',
        'patterns',
        'tables',
        'hotKeys',
        'load',
        'thresholds',
        'ensure',
        'artillery',
        'timeline',
        'timings',
      ].sort(),
    );
    // Artillery's aggregate, as its own report has it: what the virtual users did, in its names.
    expect(report.artillery.counters['vusers.created']).toBeGreaterThan(0);
    expect(report.artillery.summaries['vusers.session_length'].count).toBe(
      report.artillery.counters['vusers.completed'],
    );
    expect(report).toMatchObject({ scenario: 'smoke', passed: true, partial: false });
    // Every start-up phase happened, in an order that can be true: the table before the seed and the
    // first request, the first request before the last response, the report last.
    const at = Object.fromEntries(
      report.timings.map((t: { phase: string; atMs: number | null }) => [t.phase, t.atMs]),
    );
    for (const phase of [
      'cli',
      'dynamodb',
      'tables',
      'seed',
      'app',
      'firstRequest',
      'lastResponse',
      'report',
    ])
      expect(at[phase], phase).toBeGreaterThan(0);
    expect(at.cli).toBeLessThan(at.dynamodb);
    expect(at.dynamodb).toBeLessThan(at.tables);
    expect(at.tables).toBeLessThan(at.seed);
    expect(Math.max(at.seed, at.app)).toBeLessThan(at.firstRequest);
    // Eight arrivals over 4 s: the last answer comes seconds after the first request.
    expect(at.lastResponse - at.firstRequest).toBeGreaterThan(2500);
    expect(at.lastResponse).toBeLessThan(at.report);
    expect(run.stderr()).toMatch(
      /^start-up timings \(since the process started\): first request at \d+\.\d\d s$/m,
    );
    expect(run.stderr()).toMatch(/^ {2}DynamoDB Local ready +\d+\.\d\d s {2}\+\d+ ms$/m);
    expect(report.patterns.map((p: { id: string }) => p.id).sort()).toEqual([...patternIds].sort());
    const get = report.patterns.find((p: { id: string }) => p.id === 'getProduct');
    expect(Object.keys(get).sort()).toEqual(
      [
        'id',
        'pattern',
        'source',
        'requestName',
        'requests',
        'errors',
        'errorRate',
        'codes',
        'latencyMs',
        'calls',
        'dynamodbErrors',
        'serverLatencyMs',
        'rcu',
        'wcu',
        'rcuPerRequest',
        'wcuPerRequest',
        'throttleEvents',
        'throttledRequests',
        'retries',
        'throttleReasons',
        'costPerMillionUsd',
      ].sort(),
    );
    expect(get).toMatchObject({
      requests: 8,
      // Measured by the gate, and none: {}, not absent.
      throttleReasons: {},
      requestName: true,
      pattern: true,
      source: 'tag',
      codes: { '200': 8 },
    });
    // addToCart checks its product with the same GetItem: more calls than getProduct requests.
    expect(get.calls).toBeGreaterThan(8);
    expect(get.rcuPerRequest).toBe(0.5);
    // A pattern no request is named after: its DynamoDB side, and no client side.
    expect(report.patterns.find((p: { id: string }) => p.id === 'getCartItems')).toMatchObject({
      requestName: false,
      latencyMs: null,
      calls: expect.any(Number),
    });
    expect(report.project.name).toBe('shop');
    expect(report.sources.dynamodb).toMatch(/^the capacity gate/);
    expect(report.notMeasured).toBeUndefined();
    expect(get.costPerMillionUsd).toBeCloseTo(0.0625, 4);
    expect(get.latencyMs.p99).toBeGreaterThan(0);
    expect(report.tables.find((t: { index: string | null }) => t.index === null).consumedRcu).toBeGreaterThan(
      0,
    );
  }, 90_000);

  it('fails an impossible threshold with exit 1 and names it on stdout and in JUnit; other names get their own row', async () => {
    const path = await scenario(
      'impossible',
      productScenario(`  loadtest:
    seed: { users: 5, products: 10 }
    thresholds:
      getProduct: ["p99 < 0.001"]
      health: ["errorRate == 0"]
  ensure:
    thresholds:
      - http.response_time.p99: 100000`),
    );
    const junit = join(dir, 'impossible.xml');
    const run = runCli([
      'run',
      path,
      '--junit',
      junit,
      '--output',
      join(dir, 'impossible.json'),
      '--workers',
      '2',
    ]);
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(1);
    expect(run.stdout()).toMatch(/FAILED threshold getProduct: p99 < 0\.001/);
    expect(run.stdout()).toMatch(/health \(not a pattern\)/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase classname="loadtest\.impossible\.getProduct" name="p99 &lt; 0\.001"><failure message="getProduct: p99 &lt; 0\.001/,
    );
    expect(xml).toMatch(/name="errorRate == 0"><\/testcase>/);
    expect(xml).toMatch(
      /classname="loadtest\.impossible\.ensure" name="http\.response_time\.p99 &lt; 100000"><\/testcase>/,
    );
    const report = JSON.parse(await readFile(join(dir, 'impossible.json'), 'utf8'));
    // 3 s at 4 arrivals/s over 2 workers: 12 users, each getting one product, merged exactly.
    expect(report.patterns.find((p: { id: string }) => p.id === 'getProduct').requests).toBe(12);
    expect(report.workers.map((w: { status: string }) => w.status)).toEqual(['ok', 'ok']);
  });

  it("checks an environment's config as the file's: a plugin it brings is refused with -e", async () => {
    const path = await scenario(
      'env-plugin',
      productScenario('  environments:\n    staging:\n      plugins: { apdex: {} }'),
    );
    // validate takes -e too, and says the same before any run.
    for (const command of ['run', 'validate']) {
      const run = runCli([command, path, '-e', 'staging']);
      expect((await run.exited).code, command).toBe(2);
      expect(run.stderr()).toMatch(
        /^error: --environment staging: config\.plugins\.apdex: plugin "apdex" is not supported by loadtest run/m,
      );
    }
    const plain = runCli(['validate', path]);
    expect((await plain.exited).code, plain.stderr()).toBe(0);
  });

  it('refuses a payload CSV with a short row, as the artillery CLI does, naming the file and the line', async () => {
    await writeFile(join(dir, 'short.csv'), 'alice,1\nbob\n');
    const path = await scenario(
      'short-row',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  payload: { path: short.csv, fields: [user, qty] }\nscenarios:\n  - flow: [{ get: { url: "/health?u={{ user }}" } }]\n',
    );
    const run = runCli(['validate', path]);
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(
      /short-row\.yml:3:\d+: config\.payload: .*short\.csv: Invalid Record Length: expect 2, got 1 on line 2/,
    );
  });

  it("counts the load only: the DynamoDB calls of the script's before flow are not the run's", async () => {
    const path = await scenario(
      'before-ddb',
      `config:
  target: http://127.0.0.1:1
  phases: [{ duration: 1, arrivalCount: 2 }]
  loadtest:
    seed: { users: 2, products: 5 }
before:
  flow:
    - post: { url: /api/users, name: registerUser, json: { email: before-flow@example.com, name: Before } }
scenarios:
  - flow:
      - get: { url: "/api/products?limit=5", name: listProducts }
`,
    );
    const output = join(dir, 'before-ddb.json');
    const run = runCli(['run', path, '--output', output]);
    expect((await run.exited).code, run.stderr()).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    expect(report.patterns.map((p) => [p.id, p.requests, p.calls])).toEqual([['listProducts', 2, 2]]);
  }, 60_000);

  const malformed: [string, string, RegExp][] = [
    ['bad-yaml', 'config:\n  phases: [ { duration: 1\nscenarios: []\n', /bad-yaml\.yml:\d+:\d+: YAML/],
    [
      'unknown-pattern',
      productScenario('  loadtest:\n    thresholds:\n      getProdcut: ["p99 < 100"]'),
      /unknown-pattern\.yml:\d+:\d+: config\.loadtest\.thresholds: unknown access pattern "getProdcut"; the patterns of project shop \(.*\): \* registerUser/,
    ],
    [
      'unknown-metric',
      productScenario('  loadtest:\n    thresholds:\n      getProduct: ["p42 < 100"]'),
      /unknown metric "p42".*known metrics: p50, p95/,
    ],
    [
      'no-phases',
      'config:\n  target: http://127.0.0.1:1\nscenarios:\n  - flow: [{ get: { url: / } }]\n',
      /no-phases\.yml:\d+:\d+: config\.phases: /,
    ],
    [
      'fractional-duration',
      productScenario('', '[{ duration: 1.5, arrivalRate: 2 }]'),
      /fractional-duration\.yml:3:\d+: config\.phases\.0\.duration: expected whole seconds, or a time with its unit such as "1\.5s"/,
    ],
    [
      'fields-not-under-get',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\nscenarios:\n  - flow:\n      - get:\n        url: /health\n',
      /fields-not-under-get\.yml:5:\d+: scenarios\.0\.flow\.0\.get: expected the request's fields under it, e\.g\. get: \{ url: \/path \}/,
    ],
    [
      'loop-without-bound',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\nscenarios:\n  - flow:\n      - loop: [{ get: { url: /health } }]\n        cont: 3\n',
      /loop-without-bound\.yml:5:\d+: scenarios\.0\.flow\.0\.loop: a loop needs count, over or whileTrue \(keys here: loop, cont\); without one it never ends/,
    ],
    [
      'payload-missing',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  payload: { path: no-such.csv, fields: [a] }\nscenarios:\n  - flow: [{ get: { url: /health } }]\n',
      /payload-missing\.yml:3:\d+: config\.payload\.path: no such file: .*no-such\.csv/,
    ],
    [
      'threshold-on-templated-url',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  loadtest:\n    thresholds:\n      "GET /api/products/{{ id }}": ["p99 < 100"]\nscenarios:\n  - flow: [{ get: { url: "/api/products/{{ id }}" } }]\n',
      /threshold-on-templated-url\.yml:5:\d+: config\.loadtest\.thresholds: "GET \/api\/products\/\{\{ id \}\}" has a template in its URL: it is counted under each URL it resolves to/,
    ],
    [
      'misspelt-phase-key',
      productScenario('', '[{ duration: 2, arivalRate: 2 }]'),
      /misspelt-phase-key\.yml:3:\d+: config\.phases\.0: Unrecognized key: "arivalRate" \(did you mean "arrivalRate"\?\)/,
    ],
    [
      'phase-without-duration',
      productScenario('', '[{ arrivalRate: 2 }]'),
      /phase-without-duration\.yml:3:\d+: config\.phases\.0\.duration: a phase with arrivalRate needs a duration/,
    ],
    [
      'no-weight',
      productScenario('').replace('scenarios:\n  - flow:', 'scenarios:\n  - weight: 0\n    flow:'),
      /no-weight\.yml:\d+:\d+: scenarios: every scenario has weight 0: no virtual user would run one/,
    ],
    [
      'missing-processor',
      productScenario('').replace(PROCESSOR, './lib/nope.cjs'),
      /missing-processor\.yml:4:\d+: config\.processor: no such file: .*lib\/nope\.cjs/,
    ],
    [
      'bad-environment-phases',
      productScenario('  environments:\n    staging:\n      phases: [{ duration: -1, arrivalRate: 1 }]'),
      /bad-environment-phases\.yml:\d+:\d+: config\.environments\.staging\.phases\.0\.duration: expected whole seconds/,
    ],
    [
      'bad-capacity',
      productScenario(
        '  loadtest:\n    capacity: { mode: provisioned, indexes: { GSI9: { read: 1, write: 1 } } }',
      ),
      /config\.loadtest\.capacity\.indexes\.GSI9: no GSI "GSI9"; the GSIs: GSI1, GSI2, GSI3/,
    ],
  ];
  for (const [name, body, message] of malformed) {
    it(`refuses a malformed scenario (${name}) with exit 2 and says where`, async () => {
      const path = await scenario(name, body);
      const run = runCli(['run', path]);
      expect((await run.exited).code).toBe(2);
      expect(run.stderr()).toMatch(message);
    });
  }

  it('refuses bad flags and unknown scenario names with exit 2', async () => {
    const cases = [
      [['run', 'smoke', '--workers', '0'], /--workers/],
      [['run', 'smoke', '--url', 'http://10.0.0.1:8080'], /not this machine/],
      [
        ['run', 'smoke', '--url', 'htp://127.0.0.1:8080'],
        /--url: expected an http:\/\/ or https:\/\/ URL, got "htp:\/\/127\.0\.0\.1:8080"/,
      ],
      // -o is --output, as in artillery run: a folder there is refused under the flag's name.
      [['run', 'smoke', '-o', dir], /--output .*: that is a folder; name a file/],
      [['run', 'nosuchscenario'], /no scenario "nosuchscenario"/],
      // A flag of one value given twice (the Action adds its own --junit after the user's args).
      [
        ['run', 'smoke', '--junit', 'a.xml', '--junit', 'b.xml'],
        /--junit: given 2 times \(a\.xml, b\.xml\); give it once/,
      ],
      [['run', 'smoke', '--target', 'aws'], /--target aws/],
      // artillery run's --target is a URL: the message points an Artillery user at --url.
      [
        ['run', 'smoke', '--target', 'http://127.0.0.1:9'],
        /--target: expected local or aws, got "http:\/\/127\.0\.0\.1:9"; to run against an app already up, use --url http:\/\/127\.0\.0\.1:9/,
      ],
      // An output that cannot be written is told before the load, not after it, by a stack trace.
      [['run', 'smoke', '--output', dir], /--output .*: that is a folder; name a file/],
      [
        ['run', 'smoke', '--junit', join(ROOT, 'package.json', 'x.xml')],
        /--junit .*x\.xml: cannot be written here \(.*package\.json is a file, not a folder\)/,
      ],
      // Another region's name on us-east-1's list prices would be a wrong bill that looks right.
      [
        ['run', 'smoke', '--region', 'eu-west-1', '--price-read', '0.14'],
        /--region eu-west-1: the built-in prices are us-east-1's; give eu-west-1's --price-write/,
      ],
      // A number flag that is not one is quoted as typed, not as NaN.
      [
        ['run', 'smoke', '--duration', 'abc'],
        /--duration: expected whole seconds, 0 < d <= 86400, got "abc"/,
      ],
      // An empty number (an Action input left empty) is not read as 0.
      [['run', 'smoke', '--duration='], /^error: --duration: expected a number, got an empty value$/m],
      // Artillery's phases take whole seconds: 1.5 would stop the worker mid-run.
      [['run', 'smoke', '--duration', '1.5'], /--duration: expected whole seconds, 0 < d <= 86400, got 1\.5/],
      // Phases that come with a flag are checked as the file's: this one would run until Ctrl-C.
      [
        ['run', 'smoke', '--overrides', '{"config":{"phases":[{"duration":-1,"arrivalRate":1}]}}'],
        /--overrides: config\.phases\.0\.duration: expected whole seconds/,
      ],
      // And so are what they bring: a plugin, a step, no scenario at all.
      [
        ['run', 'smoke', '--overrides', '{"config":{"plugins":{"apdex":{}}}}'],
        /^error: --overrides: config\.plugins\.apdex: plugin "apdex" is not supported by loadtest run/m,
      ],
      [
        ['run', 'smoke', '--overrides', '{"scenarios":[{"flow":[{"gett":{"url":"/"}}]}]}'],
        /^error: --overrides: scenarios\.0\.flow\.0\.gett: unknown step "gett"/m,
      ],
      [
        ['run', 'smoke', '--overrides', '{"scenarios":[]}'],
        /^error: --overrides: scenarios: needs at least one scenario/m,
      ],
    ] as const;
    const runs = await runEach(cases.map(([args]) => args));
    cases.forEach(([args, message], i) => {
      expect(runs[i]?.code, args.join(' ')).toBe(2);
      expect(runs[i]?.run.stderr()).toMatch(message);
    });
  }, 90_000);

  it('exits 3 with a partial report on disk when DynamoDB Local dies mid-run', async () => {
    const path = await scenario(
      'long',
      productScenario(
        '  loadtest:\n    seed: { users: 5, products: 10 }',
        '[{ duration: 30, arrivalRate: 5 }]',
      ),
    );
    const output = join(dir, 'partial.json');
    const run = runCli(['run', path, '--output', output]);
    await waitForRequests(run, 3);
    const pid = run.child.pid ?? 0;
    const java = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find(([, comm]) => comm === 'java')?.[0];
    expect(java, 'DynamoDB Local is a child of the CLI').toBeDefined();
    process.kill(Number(java), 'SIGKILL');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(3);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report.partial).toBe(true);
    expect(report.passed).toBe(false);
    expect(report.error).toMatch(/DynamoDB Local exited/);
    expect(report.patterns.find((p: { id: string }) => p.id === 'getProduct')?.requests).toBeGreaterThan(0);
    expect(run.stdout()).toMatch(/PARTIAL/);
  }, 60_000);
});

describe('loadtest run interrupted', () => {
  it('writes the partial report and exits 3 on Ctrl-C (SIGINT)', async () => {
    const path = await scenario(
      'interrupted',
      productScenario(
        '  loadtest:\n    seed: { users: 5, products: 10 }',
        '[{ duration: 30, arrivalRate: 5 }]',
      ),
    );
    const output = join(dir, 'interrupted.json');
    const junit = join(dir, 'interrupted.xml');
    const run = runCli(['run', path, '--output', output, '--junit', junit]);
    await waitForRequests(run, 3);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(3);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report).toMatchObject({ partial: true, passed: false, error: 'interrupted (SIGINT)' });
    expect(report.patterns.find((p: { id: string }) => p.id === 'getProduct')?.requests).toBeGreaterThan(0);
    expect(await readFile(junit, 'utf8')).toMatch(
      /<error message="interrupted \(SIGINT\)" type="partial"\/>/,
    );
  }, 60_000);
});

describe('loadtest run interrupted from a terminal', () => {
  it("keeps the worker's own count when Ctrl-C reaches the whole process group", async () => {
    const path = await scenario(
      'group-interrupted',
      productScenario('', '[{ duration: 30, arrivalRate: 5 }]'),
    );
    const output = join(dir, 'group-interrupted.json');
    const run = runCli(['run', path, '--output', output], { group: true });
    await waitForRequests(run, 3);
    // As a terminal's Ctrl-C: the CLI and its load worker get SIGINT at once.
    process.kill(-(run.child.pid ?? 0), 'SIGINT');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(3);
    const report = JSON.parse(await readFile(output, 'utf8'));
    // The worker returned its result when the CLI stopped it: it did not die on the signal, losing
    // what it measured since its last progress message.
    expect(report.workers).toEqual([
      {
        worker: 0,
        status: 'stopped',
        error: 'stopped on request (Ctrl-C, or another part of the run failed)',
      },
    ]);
    expect(report.patterns.find((p: { id: string }) => p.id === 'getProduct')?.requests).toBeGreaterThan(0);
  }, 60_000);
});

async function waitForRequests(run: ReturnType<typeof runCli>, atLeast: number): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const m = [...run.stderr().matchAll(/\] (\d+) requests/g)].pop();
    if (m && Number(m[1]) >= atLeast) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('loadtest compare', () => {
  it('passes an identical pair and flags an injected p99 regression', async () => {
    const row = (id: string, p99: number, rcu: number, wcu: number) => ({
      id,
      requests: 10,
      errors: 0,
      errorRate: 0,
      latencyMs: { p50: 2, p95: 4, p99 },
      serverLatencyMs: null,
      rcu: rcu * 10,
      wcu: wcu * 10,
      rcuPerRequest: rcu,
      wcuPerRequest: wcu,
      throttleEvents: 0,
      retries: 0,
      costPerMillionUsd: 1,
    });
    const base = {
      scenario: 's',
      target: 'http://127.0.0.1:1',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:10.000Z',
      durationSec: 10,
      passed: true,
      patterns: [row('getProduct', 10, 0.5, 0), row('checkout', 20, 0, 8)],
      tables: [],
      hotKeys: [],
      thresholds: [],
    };
    const worse = structuredClone(base);
    worse.patterns[0] = row('getProduct', 12, 0.5, 0);
    worse.patterns[1] = row('checkout', 20, 0, 8.4);
    const a = join(dir, 'base.json');
    const b = join(dir, 'worse.json');
    await writeFile(a, JSON.stringify(base));
    await writeFile(b, JSON.stringify(worse));
    const same = runCli(['compare', a, a]);
    expect((await same.exited).code).toBe(0);
    expect(same.stdout()).toMatch(/no regression past 10%/);
    // +2 ms is +20 %, but within the default 5 ms floor of a p99: noise, said so, not a failure.
    const noisy = runCli(['compare', a, b]);
    expect((await noisy.exited).code).toBe(0);
    expect(noisy.stdout()).toMatch(/getProduct\s+p99\s+10\s+12\s+\+20\.0%\s+within 5 ms \(--min-p99-ms\)/);
    const bad = runCli(['compare', a, b, '--min-p99-ms', '1']);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stdout()).toMatch(/getProduct\s+p99\s+10\s+12\s+\+20\.0%\s+REGRESSION/);
    expect(bad.stdout()).toMatch(/1 regression\(s\): getProduct p99/);
    const floorless = runCli(['compare', a, b, '--min-p99-ms', '-1']);
    expect((await floorless.exited).code).toBe(2);
    expect(floorless.stderr()).toMatch(/--min-p99-ms: expected milliseconds >= 0, got -1/);
    // A new report from a run that did not complete is compared, with a warning.
    const cut = join(dir, 'cut.json');
    await writeFile(cut, JSON.stringify({ ...base, partial: true, error: 'interrupted (SIGINT)' }));
    const partialNew = runCli(['compare', a, cut]);
    expect((await partialNew.exited).code).toBe(0);
    expect(partialNew.stderr()).toMatch(
      /warning: .*cut\.json: the new run did not complete \(interrupted \(SIGINT\)\)/,
    );
    const loose = runCli(['compare', a, b, '--max-regression', '25', '--min-p99-ms', '1']);
    expect((await loose.exited).code).toBe(0);
    const broken = runCli(['compare', a, join(dir, 'missing.json')]);
    expect((await broken.exited).code).toBe(2);
    // Refused as report and forecast refuse it, not a crash: a file that is not a whole report.
    const thin = join(dir, 'thin.json');
    await writeFile(thin, JSON.stringify({ scenario: 's', patterns: [{ id: 'getProduct' }] }));
    const partial = runCli(['compare', thin, a]);
    expect((await partial.exited).code).toBe(2);
    expect(partial.stderr()).toMatch(/thin\.json: not a loadtest report .*: target: /);
    // An empty tolerance is not 0 %; an empty base (a run that never started) is no baseline.
    const empty = runCli(['compare', a, b, '--max-regression', '']);
    expect((await empty.exited).code).toBe(2);
    expect(empty.stderr()).toMatch(/--max-regression: expected a number, got an empty value/);
    const dead = join(dir, 'dead.json');
    await writeFile(
      dead,
      JSON.stringify({ ...base, partial: true, error: 'the run did not start: x', patterns: [] }),
    );
    const none = runCli(['compare', dead, a]);
    expect((await none.exited).code).toBe(2);
    expect(none.stderr()).toMatch(
      /dead\.json: the base report has no row to compare with \(its run did not complete: the run did not start: x\)/,
    );
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...base, scenario: 't' }));
    const mismatch = runCli(['compare', a, other]);
    expect((await mismatch.exited).code).toBe(0);
    expect(mismatch.stderr()).toMatch(/warning: the reports are of different scenarios: s \(base\), t/);
  });
});

describe('loadtest run with the capacity gate', () => {
  const hot = (read: number) => `config:
  target: http://127.0.0.1:1
  phases: [{ duration: 7, arrivalRate: 100 }]
  processor: ${PROCESSOR}
  loadtest:
    seed: { users: 5, products: 10 }
    capacity: { mode: provisioned, table: { read: ${read}, write: 5 } }
    thresholds:
      getProduct: ["throttleEvents == 0"]
scenarios:
  - flow:
      - function: pickHotProduct
      - get: { url: "/api/products/{{ productId }}", name: getProduct }
`;

  it('reports throttles and names the hot key when one product is hammered under low capacity', async () => {
    const output = join(dir, 'hot.json');
    const run = runCli(['run', await scenario('hot-low', hot(1)), '--output', output]);
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(1);
    expect(run.stdout()).toMatch(/FAILED threshold getProduct: throttleEvents == 0 \(actual [1-9]/);
    expect(run.stdout()).toMatch(/hot keys: PRODUCT#\S+ on shop \(.* [1-9]\d* throttles\)/);
    const report = JSON.parse(await readFile(output, 'utf8'));
    const seed = report.hotKeys[0];
    expect(seed.partitionKey).toMatch(/^PRODUCT#/);
    expect(seed.throttleEvents).toBeGreaterThan(0);
    expect(report.tables[0].throttleReasons.TableReadProvisionedThroughputExceeded).toBeGreaterThan(0);
    expect(report.patterns[0].throttleEvents).toBeGreaterThan(0);
  }, 60_000);

  it('passes the same scenario with enough capacity: no throttles', async () => {
    const output = join(dir, 'cool.json');
    const run = runCli(['run', await scenario('hot-enough', hot(1000)), '--output', output]);
    const { code } = await run.exited;
    expect(code, run.stdout()).toBe(0);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report.patterns[0]).toMatchObject({ id: 'getProduct', throttleEvents: 0, errors: 0 });
    expect(report.tables[0]).toMatchObject({ readThrottleEvents: 0 });
    expect(report.hotKeys[0].partitionKey).toMatch(/^PRODUCT#/);
  }, 60_000);

  it('runs without the gate when told: the low-capacity scenario no longer throttles', async () => {
    const output = join(dir, 'nogate.json');
    const run = runCli([
      'run',
      await scenario('hot-nogate', hot(1)),
      '--no-capacity-gate',
      '--output',
      output,
    ]);
    // The gate's threshold cannot be judged: with no gate, throttles are not measured.
    expect((await run.exited).code, run.stdout()).toBe(1);
    expect(run.stdout()).toMatch(/FAILED threshold getProduct: throttleEvents == 0 \(actual not measured\)/);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report.patterns[0]).toMatchObject({ errors: 0, throttleEvents: null, rcu: null, calls: null });
    // Not measured is null, not an empty list that reads as "no table was touched".
    expect(report.hotKeys).toBeNull();
    expect(report.tables).toBeNull();
    expect(report.notMeasured).toMatch(/--no-capacity-gate/);
  }, 60_000);
});

describe('loadtest run --url against an app with no gate in front of it', () => {
  it('reports the DynamoDB side as not measured (– and null, never 0), fails capacity thresholds as such, and refuses capacity flags', async () => {
    // Someone's app: any HTTP app, no /health, no seed, no gate.
    const { createServer } = await import('node:http');
    const app = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
    const state = await mkdtemp(join(tmpdir(), 'loadtest-run-url-'));
    try {
      const path = await scenario(
        'foreign',
        `config:
  target: http://127.0.0.1:1
  phases: [{ duration: 2, arrivalRate: 5 }]
  loadtest:
    thresholds:
      "*": ["errorRate < 0.01", "throttledRequests == 0"]
      getThing: ["rcuPerRequest <= 1"]
scenarios:
  - flow:
      - get: { url: /things/1, name: getThing }
`,
      );
      const output = join(dir, 'foreign.json');
      const run = runCli(['run', path, '--url', url, '--output', output, '--state-dir', state]);
      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(1);
      const report = JSON.parse(await readFile(output, 'utf8'));
      // With --url nothing is started: those phases are null (did not happen), never 0; no --timings, no table.
      const at = Object.fromEntries(
        report.timings.map((t: { phase: string; atMs: number | null }) => [t.phase, t.atMs]),
      );
      expect(at).toMatchObject({ dynamodb: null, tables: null, seed: null });
      expect(at.app).toBeGreaterThan(at.cli);
      expect(at.firstRequest).toBeGreaterThanOrEqual(at.app);
      expect(run.stderr()).not.toMatch(/start-up timings/);
      expect(report.patterns).toEqual([
        expect.objectContaining({
          id: 'getThing',
          pattern: false,
          requests: 10,
          calls: null,
          rcu: null,
          rcuPerRequest: null,
          throttleEvents: null,
          retries: null,
          costPerMillionUsd: null,
        }),
      ]);
      expect(report.sources.dynamodb).toBeNull();
      expect(report.notMeasured).toMatch(/no capacity gate in front of the app at http:\/\/127\.0\.0\.1:\d+/);
      const failed = report.thresholds.filter((t: { passed: boolean }) => !t.passed);
      expect(failed).toEqual([
        expect.objectContaining({
          pattern: '*',
          metric: 'throttledRequests',
          actual: null,
          note: 'not measured',
        }),
        expect.objectContaining({
          pattern: 'getThing',
          metric: 'rcuPerRequest',
          actual: null,
          note: 'not measured',
        }),
      ]);
      expect(run.stdout()).toMatch(/getThing \(not a pattern\) .* – +– +– +– +– +–$/m);
      expect(run.stdout()).toMatch(/^–: DynamoDB side not measured: no capacity gate/m);
      expect(run.stdout()).toMatch(/FAILED threshold getThing: rcuPerRequest <= 1 \(actual not measured\)/);
      expect(run.stdout()).not.toMatch(/0\.000/);

      const flags = runCli(['run', path, '--url', url, '--read-capacity', '5', '--state-dir', state]);
      expect((await flags.exited).code).toBe(2);
      expect(flags.stderr()).toMatch(
        /--read-capacity: capacity is enforced by the capacity gate, and there is none here/,
      );
    } finally {
      app.closeAllConnections();
      await new Promise<void>((r) => app.close(() => r()));
    }
  }, 60_000);
});
