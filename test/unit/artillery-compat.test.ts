import { describe, expect, it } from 'vitest';
import { applyScriptFlags } from '../../runner/cli/commands/run.js';
import { compareReports, renderDeltas } from '../../runner/report/compare.js';
import { DEFAULT_ENSURE, type Scenario } from '../../runner/scenario/load.js';
import { parseThreshold } from '../../runner/scenario/thresholds.js';
import { emptyReport, UNMEASURED } from '../helpers/report.js';

/** What `loadtest run` does around an Artillery script, and how `compare` reads what went wrong. */
describe('compare and script flags', () => {
  const row = (id: string, codes: Record<string, number>) => ({
    id,
    pattern: false,
    source: null,
    requestName: true,
    requests: Object.values(codes).reduce((a, b) => a + b, 0),
    errors: 0,
    errorRate: 0,
    codes,
    latencyMs: { p50: 1, p95: 1, p99: 1 },
    ...UNMEASURED,
  });

  it('compare flags a failing code the base did not have, and only that', () => {
    const base = emptyReport({ patterns: [row('me', { 200: 10, 500: 1 })] });
    const now = emptyReport({
      patterns: [row('me', { 200: 8, 500: 1, 401: 2 }), row('other', { ECONNREFUSED: 1 })],
    });
    const flagged = compareReports(base, now, 10).filter((d) => d.regression);
    expect(flagged.map((d) => [d.pattern, d.metric, d.current])).toEqual([
      ['me', 'error 401', 2],
      ['other', 'error ECONNREFUSED', 1],
    ]);
    expect(renderDeltas(flagged, 10)).toMatch(/me\s+error 401\s+0\s+2\s+-\s+NEW ERROR/);
  });

  it('applies --environment, --variables and --overrides as artillery run does, naming a bad one', () => {
    const scenario = () =>
      ({
        path: 's.yml',
        defaultThresholds: true,
        thresholds: [parseThreshold('*', 'errorRate < 0.01')],
        ensure: [...DEFAULT_ENSURE],
        script: {
          config: {
            phases: [{ duration: 1, arrivalCount: 1 }],
            variables: { a: [1] },
            environments: { staging: { target: 'http://127.0.0.1:2', variables: { b: [2] } } },
          },
          scenarios: [{ flow: [] }],
        },
      }) as unknown as Scenario;
    const s = scenario();
    applyScriptFlags(s, {
      environment: 'staging',
      variables: '{"c": [3]}',
      overrides: '{"config": {"phases": [{"duration": 2, "arrivalRate": 1}]}}',
      defaultThresholds: false,
    });
    expect(s.script.config).toMatchObject({
      target: 'http://127.0.0.1:2',
      variables: { a: [1], b: [2], c: [3] },
      phases: [{ duration: 2, arrivalRate: 1 }],
    });
    // Phases an override brings are numbers once checked, as the file's are ("3" as Artillery reads it).
    const textual = scenario();
    applyScriptFlags(textual, {
      overrides: '{"config": {"phases": [{"duration": "2", "arrivalRate": "3"}]}}',
      defaultThresholds: true,
    });
    expect(textual.script.config.phases).toEqual([{ duration: 2, arrivalRate: 3 }]);
    // --no-default-thresholds drops the whole default gate: the ensure check on virtual users too.
    expect(s.thresholds).toEqual([]);
    expect(s.ensure).toEqual([]);
    expect(() => applyScriptFlags(scenario(), { environment: 'prod', defaultThresholds: true })).toThrow(
      /--environment: no environment "prod" in s\.yml \(config\.environments: staging\)/,
    );
    expect(() => applyScriptFlags(scenario(), { variables: '[1]', defaultThresholds: true })).toThrow(
      /--variables: expected a JSON object/,
    );
    expect(() => applyScriptFlags(scenario(), { overrides: '{', defaultThresholds: true })).toThrow(
      /--overrides: not JSON/,
    );
    // The files an override names are checked as the file's are, not found by a worker later.
    expect(() =>
      applyScriptFlags(scenario(), {
        overrides: '{"config": {"payload": {"path": "no-such.csv", "fields": ["u"]}}}',
        defaultThresholds: true,
      }),
    ).toThrow(/--overrides: config\.payload\.path: no such file: .*no-such\.csv/);
    expect(() =>
      applyScriptFlags(scenario(), {
        overrides: '{"config": {"processor": "./gone.cjs"}}',
        defaultThresholds: true,
      }),
    ).toThrow(/--overrides: config\.processor: no such file: .*gone\.cjs/);
  });
});
