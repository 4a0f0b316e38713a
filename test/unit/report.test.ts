import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { encodeSketch, PatternMetrics } from '../../instrument/index.js';
import { type ClientResult, mergeClientResults } from '../../runner/engine/client-stats.js';
import { sliceScript } from '../../runner/engine/fanout.js';
import { type PayloadSpec, workerRows } from '../../runner/engine/payload.js';
import {
  buildReport,
  ensureVariables,
  evaluateEnsure,
  evaluateThresholds,
} from '../../runner/report/build.js';
import { compareReports, renderDeltas } from '../../runner/report/compare.js';
import { renderConsole, renderJUnit, renderMarkdown } from '../../runner/report/render.js';
import type { PatternRow } from '../../runner/report/types.js';
import { rewriteEnsureExpression } from '../../runner/scenario/load.js';
import { parseThreshold } from '../../runner/scenario/thresholds.js';
import { UNMEASURED } from '../helpers/report.js';

function sketch(values: number[]) {
  const s = new DDSketch({ relativeAccuracy: 0.01 });
  for (const v of values) s.accept(v);
  return encodeSketch(s);
}

function client(byName: ClientResult['byName'], counters: Record<string, number> = {}): ClientResult {
  return { startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:10.000Z', byName, counters };
}

describe('thresholds', () => {
  it('parses "<metric> <op> <number>" and refuses anything else', () => {
    expect(parseThreshold('getProduct', 'p99 < 150')).toMatchObject({ metric: 'p99', op: '<', value: 150 });
    expect(parseThreshold('*', 'errorRate<=0.01')).toMatchObject({
      metric: 'errorRate',
      op: '<=',
      value: 0.01,
    });
    expect(() => parseThreshold('x', 'p99 ~ 150')).toThrow(/not "<metric> <op> <number>"/);
    expect(() => parseThreshold('x', 'latency < 150')).toThrow(/unknown metric "latency"/);
  });
});

describe('the report', () => {
  const server = new PatternMetrics();
  for (let i = 0; i < 4; i += 1) {
    server.record({
      pattern: 'getProduct',
      latencyMs: 3,
      ok: true,
      throttleEvents: 1,
      throttled: false,
      retries: 1,
      capacity: [{ target: 'table', rcu: 0.5, wcu: 0 }],
    });
  }
  server.record({
    pattern: 'getUserByEmail',
    latencyMs: 2,
    ok: true,
    throttleEvents: 0,
    throttled: false,
    retries: 0,
    capacity: [{ target: 'table', rcu: 0.5, wcu: 0 }],
  });

  const input = {
    scenario: 's',
    target: 'http://127.0.0.1:1',
    client: client(
      {
        getProduct: {
          requests: 4,
          errors: 1,
          codes: { '200': 3, '500': 1 },
          latency: sketch([10, 20, 30, 40]),
        },
        'GET /health': { requests: 2, errors: 0, codes: { '200': 2 }, latency: sketch([1, 1]) },
      },
      { 'http.requests': 6, 'vusers.created': 2, 'vusers.completed': 2 },
    ),
    declared: ['getUserByEmail', 'getProduct', 'checkout'],
    thresholds: [
      parseThreshold('getProduct', 'rcuPerRequest <= 0.5'),
      parseThreshold('*', 'errorRate < 0.1'),
      parseThreshold('*', 'throttledRequests == 0'),
      parseThreshold('checkout', 'p99 < 1'),
    ],
    ensure: [
      { expression: 'http.response_time.p99 < 1', strict: false },
      { expression: 'vusers.completed == 2', strict: true },
    ],
  };
  const report = buildReport({
    ...input,
    server: server.snapshot(),
    sources: { dynamodb: 'the capacity gate' },
  });

  it("joins the client side by request name and the DynamoDB side by pattern, in the project's order", () => {
    expect(report.patterns.map((p) => p.id)).toEqual(['getUserByEmail', 'getProduct', 'GET /health']);
    // Throttle reasons: this source (the app's own metrics) has none: not measured, null. A source
    // that counts them (the gate) and saw none: {}.
    expect(report.patterns.map((p) => p.throttleReasons)).toEqual([null, null, null]);
    const snap = server.snapshot();
    const counted = buildReport({
      ...input,
      server: {
        ...snap,
        patterns: { ...snap.patterns, getProduct: { ...snap.patterns.getProduct, throttleReasons: {} } },
      } as never,
    });
    expect(counted.patterns.map((p) => p.throttleReasons)).toEqual([null, {}, null]);
    const get = report.patterns[1];
    expect(get).toMatchObject({
      pattern: true,
      requestName: true,
      source: 'declared',
      requests: 4,
      errors: 1,
      errorRate: 0.25,
      calls: 4,
      rcu: 2,
      rcuPerRequest: 0.5,
      wcuPerRequest: 0,
      throttleEvents: 4,
      retries: 4,
      codes: { '200': 3, '500': 1 },
    });
    // DDSketch ranks at q * (n - 1): the p99 of four samples is the third, within 1 %.
    expect(get?.latencyMs?.p99).toBeCloseTo(30, -0.5);
    expect(get?.latencyMs?.max).toBeCloseTo(40, -0.5);
    expect(get?.costPerMillionUsd).toBeCloseTo(0.0625, 6);
    // A request that is not a pattern has no DynamoDB side: unknown, not zero.
    expect(report.patterns[2]).toMatchObject({
      pattern: false,
      requestName: true,
      calls: null,
      serverLatencyMs: null,
      rcu: null,
      rcuPerRequest: null,
      throttleEvents: null,
      retries: null,
      costPerMillionUsd: null,
    });
    // A pattern no request is named after (the auth middleware's): DynamoDB side only.
    expect(report.patterns[0]).toMatchObject({
      requestName: false,
      requests: 1,
      calls: 1,
      latencyMs: null,
      rcuPerRequest: 0.5,
    });
    expect(report.sources).toEqual({ client: "Artillery's engine", dynamodb: 'the capacity gate' });
    expect(report.notMeasured).toBeUndefined();
    // No table view was given: unknown, not an empty list.
    expect(report.tables).toBeNull();
  });

  it('evaluates thresholds per row, "*" on every row with traffic (a DynamoDB figure on patterns only), and fails a gate on an unexercised pattern', () => {
    const failed = report.thresholds
      .filter((t) => !t.passed)
      .map((t) => `${t.pattern} ${t.metric} ${t.note ?? ''}`);
    expect(failed).toEqual(['getProduct errorRate ', 'checkout p99 no data']);
    // throttledRequests == 0 was judged on the two patterns, not on GET /health.
    expect(report.thresholds.filter((t) => t.metric === 'throttledRequests').map((t) => t.pattern)).toEqual([
      'getUserByEmail',
      'getProduct',
    ]);
    expect(report.passed).toBe(false);
    expect(renderJUnit(report)).toMatch(/failures="2"/);
  });

  it('reports an unmeasured DynamoDB side as unknown, says why, and fails capacity thresholds as "not measured"', () => {
    const blind = buildReport({
      ...input,
      server: undefined,
      notMeasured: 'DynamoDB side not measured: no capacity gate in front of the app at http://127.0.0.1:1',
    });
    const get = blind.patterns.find((p) => p.id === 'getProduct');
    expect(get).toMatchObject({
      calls: null,
      rcu: null,
      rcuPerRequest: null,
      throttleEvents: null,
      costPerMillionUsd: null,
    });
    expect(get?.latencyMs?.p99).toBeCloseTo(30, -0.5);
    expect(blind.sources?.dynamodb).toBeNull();
    expect(blind.notMeasured).toMatch(/no capacity gate/);
    const capacity = blind.thresholds.find((t) => t.metric === 'rcuPerRequest');
    expect(capacity).toMatchObject({ actual: null, passed: false, note: 'not measured' });
    // A "*" threshold on a DynamoDB figure fails once, as not measured, instead of passing on nothing.
    expect(blind.thresholds.filter((t) => t.metric === 'throttledRequests')).toEqual([
      expect.objectContaining({ pattern: '*', actual: null, passed: false, note: 'not measured' }),
    ]);
    const text = renderConsole(blind);
    expect(text).toMatch(/getProduct .* – +– +– +– +– +–$/m);
    expect(text).toContain('–: DynamoDB side not measured: no capacity gate');
    expect(text).toContain('getProduct: rcuPerRequest <= 0.5 (actual not measured)');
    expect(text).not.toMatch(/\$0\.000|0\.000\s*$/m);
    expect(renderMarkdown(blind)).toContain('– DynamoDB side not measured');
  });

  it('gives a row with no requests no error rate: unknown, not 0 %', () => {
    // An expectation failure recorded before its answer (a run stopped between the two) has an error
    // and no request yet.
    const r = buildReport({
      ...input,
      client: client({ early: { requests: 0, errors: 1, codes: {}, latency: sketch([]) } }),
      server: undefined,
      thresholds: [parseThreshold('early', 'errorRate < 0.5')],
    });
    expect(r.patterns[0]).toMatchObject({ id: 'early', requests: 0, errors: 1, errorRate: null });
    expect(r.thresholds[0]).toMatchObject({ actual: null, passed: false, note: 'no data' });
    expect(renderConsole(r)).toMatch(/^early \(not a pattern\) +0 +– /m);
  });

  it('a threshold on a pattern no call matched points at the calls the gate named by their shape', () => {
    const row = (id: string, source: PatternRow['source'], calls: number) =>
      ({
        ...UNMEASURED,
        id,
        pattern: true,
        source,
        requestName: false,
        requests: calls,
        errors: 0,
        errorRate: calls > 0 ? 0 : null,
        latencyMs: null,
        calls,
        wcuPerRequest: calls > 0 ? 1 : null,
      }) as PatternRow;
    const rows = [row('createUser', 'rule', 0), row('PutItem users PK = USER#?', 'auto', 4)];
    const [r] = evaluateThresholds(rows, [parseThreshold('createUser', 'wcuPerRequest < 2')]);
    expect(r).toMatchObject({ actual: null, passed: false });
    expect(r?.note).toBe(
      'no data: no DynamoDB call matched its rule; the gate named 1 shape(s) of call itself: PutItem users PK = USER#?',
    );
    // With no call named by its shape, there is nothing to point at.
    expect(
      evaluateThresholds(rows.slice(0, 1), [parseThreshold('createUser', 'wcuPerRequest < 2')])[0]?.note,
    ).toBe('no data');
  });

  it("says how many arrivals a phase's maxVusers skipped", () => {
    const capped = buildReport({
      ...input,
      client: client(input.client.byName, { ...input.client.counters, 'vusers.skipped': 16 }),
      server: undefined,
    });
    expect(capped.vusersSkipped).toBe(16);
    expect(renderConsole(capped)).toContain(
      "skipped: 16 arrival(s) started no virtual user (a phase's maxVusers was reached)",
    );
    expect(report.vusersSkipped).toBeUndefined();
  });

  it('never passes a run that sent no request, even with nothing failed (arrivalRate 0)', () => {
    const none = (counters: Record<string, number>) =>
      buildReport({ ...input, client: client({}, counters), server: undefined, thresholds: [], ensure: [] });
    expect(none({})).toMatchObject({
      passed: false,
      allFailed: 'no request was sent: the phases started no virtual user',
    });
    expect(none({ 'vusers.created': 2, 'vusers.completed': 2 }).allFailed).toBe(
      'no request was sent: its 2 virtual user(s) made none',
    );
    // A run that could not start says why (its error), not the symptom that nothing was sent.
    const unstarted = buildReport({
      ...input,
      client: client({}, {}),
      server: undefined,
      thresholds: [],
      ensure: [],
      partial: true,
      error: 'the run did not start: the app at http://127.0.0.1:9 does not answer HTTP',
    });
    expect(unstarted).toMatchObject({ passed: false, partial: true });
    expect(unstarted.allFailed).toBeUndefined();
    expect(renderMarkdown(unstarted)).not.toContain('no request was sent');
    expect(renderMarkdown(unstarted)).toContain('the run did not start');
    // With no target yet (the data command failed first), the header says so, not "against :".
    const targetless = { ...unstarted, target: '' };
    expect(renderConsole(targetless)).toContain('against (no target: the run did not start): ');
    expect(renderMarkdown(targetless)).toContain('against (no target: the run did not start),');
  });

  it('honours Artillery ensure checks; a failing non-strict one only warns', () => {
    expect(report.ensure.map((e) => e.passed)).toEqual([false, true]);
    // Each result carries the figures it judged, and every view says them.
    const p99 = report.ensure[0]?.values?.['http.response_time.p99'];
    expect(p99).toBeGreaterThan(1);
    expect(report.ensure[1]?.values).toEqual({ 'vusers.completed': 2 });
    // No virtual user completed: Artillery's maxErrorRate check reads 100 %, judged on a 0 it shows.
    const maxErrorRate = '((vusers.created - vusers.completed) / vusers.created * 100) <= 1';
    expect(
      evaluateEnsure(
        [{ expression: maxErrorRate, strict: true }],
        ensureVariables(client({}, { 'vusers.created': 3, 'vusers.failed': 3 }), 1),
      )[0],
    ).toMatchObject({ passed: false, values: { 'vusers.created': 3, 'vusers.completed': 0 } });
    const figure = `http.response_time.p99 = ${Number.isInteger(p99) ? p99 : p99?.toFixed(3)}`;
    expect(renderConsole(report)).toContain(`warning: ensure http.response_time.p99 < 1 (${figure})`);
    expect(renderMarkdown(report)).toContain(`(warning): ${figure.replaceAll('_', '\\_')}`);
    // In JUnit the non-strict failure is a passing case that says it failed, not a silent pass.
    expect(renderJUnit(report)).toContain(
      `name="http.response_time.p99 &lt; 1"><system-out>warning: ensure http.response_time.p99 &lt; 1 (${figure}) failed (not strict: the run does not fail on it)</system-out></testcase>`,
    );
    expect(
      evaluateEnsure([{ expression: 'http.requests > 5 and errors.ETIMEDOUT < 1', strict: true }], {
        'http.requests': 6,
      })[0],
    ).toMatchObject({ passed: false });
    expect(rewriteEnsureExpression('http.codes.200 > 1')).not.toContain('.');
    // A metric the run did not record fails, named as written, with what the run has near it.
    expect(
      evaluateEnsure([{ expression: 'http.response_time.p9 < 10', strict: true }], {
        'http.response_time.p95': 2,
        'http.response_time.p99': 3,
      })[0]?.error,
    ).toBe(
      'the run recorded no metric http.response_time.p9 (it has http.response_time.p95, http.response_time.p99)',
    );
  });

  it('compare flags a rise past the allowed percentage only', () => {
    const worse = structuredClone(report);
    const row = worse.patterns[1];
    if (row) row.rcuPerRequest = 0.6;
    expect(compareReports(report, report, 10).some((d) => d.regression)).toBe(false);
    expect(
      compareReports(report, worse, 10)
        .filter((d) => d.regression)
        .map((d) => `${d.pattern} ${d.metric}`),
    ).toEqual(['getProduct rcuPerRequest']);
    expect(compareReports(report, worse, 25).some((d) => d.regression)).toBe(false);
    // Measured before, not now: a pattern gone, or its DynamoDB side unknown, does not pass.
    const gone = { ...structuredClone(report), patterns: [] };
    expect(compareReports(report, gone, 10).filter((d) => d.regression).length).toBeGreaterThan(0);
    const blind = structuredClone(report);
    for (const r of blind.patterns) {
      r.rcuPerRequest = null;
      r.wcuPerRequest = null;
    }
    const unknown = compareReports(report, blind, 10).filter((d) => d.regression);
    expect(unknown.map((d) => `${d.pattern} ${d.metric} ${d.current}`)).toContain(
      'getProduct rcuPerRequest null',
    );
    expect(renderDeltas(unknown, 10)).toMatch(
      /getProduct +rcuPerRequest +0\.500 +- +- +NOT MEASURED in new report/,
    );
    expect(renderDeltas(compareReports(report, gone, 10), 10)).toMatch(
      /getProduct +p99 .*MISSING in new report/,
    );
    // A row that lost its client side is not measured now: never its DynamoDB p99 against the client's.
    const renamed = structuredClone(report);
    for (const r of renamed.patterns) r.latencyMs = null;
    const p99 = compareReports(report, renamed, 10).find(
      (d) => d.pattern === 'getProduct' && d.metric === 'p99',
    );
    expect(p99).toMatchObject({ current: null, regression: true });
  });

  it('renders request names in Markdown as text: no HTML, no extra table cell', () => {
    const odd = structuredClone(report);
    const row = odd.patterns.find((r) => !r.pattern);
    if (row) row.id = '<b>x</b>|pipe_name';
    const md = renderMarkdown(odd);
    const line = md.split('\n').find((l) => l.includes('pipe'));
    expect(line).toContain('\\<b\\>x\\</b\\>\\|pipe\\_name _(not a pattern)_');
    // As many cells as the header: the | in the name does not split it.
    const cells = (l: string | undefined) => (l ?? '').split(/(?<!\\)\|/).length;
    expect(cells(line)).toBe(cells(md.split('\n').find((l) => l.startsWith('| pattern'))));
    // Nor anywhere else a name or a message goes: failed thresholds, the partial run's error.
    odd.thresholds = [
      { pattern: '<b>x</b>', metric: 'errorRate', op: '<', value: 0.1, actual: 1, passed: false },
    ];
    odd.partial = true;
    odd.error = 'the app said <script>alert(1)</script>';
    const more = renderMarkdown(odd);
    expect(more).toContain('- \\<b\\>x\\</b\\>: errorRate \\< 0.1 (actual 1)');
    expect(more).toContain('**Partial run:** the app said \\<script\\>alert(1)\\</script\\>');
    expect(more).not.toMatch(/<(b|script)>/);
  });
});

describe('fan-out', () => {
  it('splits every phase rate over the workers and deals whole arrival counts', () => {
    const script = {
      config: {
        phases: [
          { duration: 10, arrivalRate: 9, rampTo: 30 },
          { duration: 5, arrivalCount: 10 },
        ],
      },
      scenarios: [],
    };
    const slices = [0, 1, 2].map((i) => sliceScript(script, i, 3));
    expect(slices.map((s) => s.config.phases?.[0]?.arrivalRate)).toEqual([3, 3, 3]);
    expect(slices.map((s) => s.config.phases?.[0]?.rampTo)).toEqual([10, 10, 10]);
    expect(slices.map((s) => s.config.phases?.[1]?.arrivalCount)).toEqual([4, 3, 3]);
    expect(script.config.phases[0]?.arrivalRate).toBe(9);
  });

  it('keeps a cap on virtual users whole: at most that many workers share it, the others pause', () => {
    const script = { config: { phases: [{ duration: 2, arrivalRate: 10, maxVusers: 1 }] }, scenarios: [] };
    expect([0, 1].map((i) => sliceScript(script as never, i, 2).config.phases?.[0])).toEqual([
      { duration: 2, arrivalRate: 10, maxVusers: 1, worker: 1, totalWorkers: 1 },
      { pause: 2 },
    ]);
    const three = { config: { phases: [{ duration: 2, arrivalRate: 10, maxVusers: 3 }] }, scenarios: [] };
    expect([0, 1].map((i) => sliceScript(three as never, i, 2).config.phases?.[0])).toEqual([
      { duration: 2, arrivalRate: 5, maxVusers: 2, worker: 1, totalWorkers: 2 },
      { duration: 2, arrivalRate: 5, maxVusers: 1, worker: 2, totalWorkers: 2 },
    ]);
  });

  it("deals a payload's rows out to the workers as Artillery's distributed runs do: each row once", () => {
    const script = {
      config: { phases: [{ duration: 1, arrivalCount: 6 }], payload: { path: 'u.csv', order: 'sequence' } },
      scenarios: [],
    };
    const rows = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    const dealt = [0, 1].map((i) => {
      const spec = sliceScript(script as never, i, 2).config.payload as PayloadSpec;
      return workerRows(rows, spec.workerShare ?? [0, 1]);
    });
    expect(dealt).toEqual([
      ['u1', 'u3', 'u5'],
      ['u2', 'u4', 'u6'],
    ]);
    // One worker reads them all; more workers than rows: each past the last takes one again.
    expect(sliceScript(script as never, 0, 1).config.payload).toEqual(script.config.payload);
    expect([0, 1, 2].map((i) => workerRows(['a', 'b'], [i, 3]))).toEqual([['a'], ['b'], ['a']]);
  });

  it("ramps as one process does over N workers: Artillery's own phase engine gives each its share of every second", async () => {
    const require = createRequire(import.meta.url);
    const phaser = require('@artilleryio/int-core/lib/phases.js') as (specs: unknown[]) => EventEmitter & {
      run(): void;
    };
    const arrivals = (phases: unknown[]) =>
      new Promise<number>((resolve) => {
        const ee = phaser(structuredClone(phases));
        let n = 0;
        ee.on('arrival', () => {
          n += 1;
        });
        ee.on('done', () => resolve(n));
        ee.run();
      });
    const script = { config: { phases: [{ duration: 3, arrivalRate: 1, rampTo: 5 }] }, scenarios: [] };
    // One worker is worker 1 of 1, as the artillery CLI numbers it: its ramp then rounds each
    // second's fraction as Artillery's does, not floors it.
    expect(sliceScript(script, 0, 1).config.phases?.[0]).toMatchObject({ worker: 1, totalWorkers: 1 });
    const [one, ...two] = await Promise.all([
      arrivals(script.config.phases),
      ...[0, 1].map((i) => arrivals(sliceScript(script, i, 2).config.phases ?? [])),
    ]);
    // 1 + 3 + 5 arrivals planned, whether one process sends them or two share them; a timer may cut
    // the last second's last arrival short in either (one process sends 8 or 9).
    const shared = two.reduce((a, b) => a + b, 0);
    expect(one).toBeGreaterThanOrEqual(8);
    expect(Math.abs(shared - one), `one process ${one}, two workers ${two.join(' + ')}`).toBeLessThanOrEqual(
      1,
    );
  }, 20_000);

  it('merges worker results exactly: counts add, codes add, sketches merge', () => {
    const a = client(
      { getProduct: { requests: 2, errors: 0, codes: { '200': 2 }, latency: sketch([1, 2]) } },
      { 'http.requests': 2 },
    );
    const b = client(
      { getProduct: { requests: 3, errors: 1, codes: { '200': 2, '503': 1 }, latency: sketch([3, 4, 100]) } },
      { 'http.requests': 3 },
    );
    const merged = mergeClientResults([a, b]);
    expect(merged.byName.getProduct).toMatchObject({ requests: 5, errors: 1, codes: { '200': 4, '503': 1 } });
    expect(merged.byName.getProduct?.latency).toMatchObject({ count: 5, min: 1, max: 100 });
    expect(merged.counters).toEqual({ 'http.requests': 5 });
    // Artillery's own histograms (session length, a processor's) merge as the latencies do.
    const withSummary = (values: number[]) => ({
      ...a,
      summaries: { 'vusers.session_length': sketch(values) },
    });
    const sessions = mergeClientResults([withSummary([10, 20]), b, withSummary([30])]).summaries;
    expect(sessions?.['vusers.session_length']).toMatchObject({ count: 3, min: 10, max: 30, sum: 60 });
  });
});
