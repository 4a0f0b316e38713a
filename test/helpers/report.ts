import type { Report } from '../../runner/report/types.js';

/** A report with nothing in it (one minute, one worker), for renderer tests to fill. */
export function emptyReport(overrides: Partial<Report> = {}): Report {
  return {
    scenario: 'unit',
    target: 'http://127.0.0.1:1',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
    durationSec: 60,
    passed: false,
    partial: false,
    workers: [{ worker: 0, status: 'ok' }],
    pricing: { region: 'us-east-1', readPerMillionUsd: 0.125, writePerMillionUsd: 0.625 },
    patterns: [],
    tables: [],
    hotKeys: [],
    thresholds: [],
    ensure: [],
    ...overrides,
  };
}

/** A row's DynamoDB side when nothing measured it: every figure unknown (null), never 0. */
export const UNMEASURED = {
  calls: null,
  dynamodbErrors: null,
  serverLatencyMs: null,
  rcu: null,
  wcu: null,
  rcuPerRequest: null,
  wcuPerRequest: null,
  throttleEvents: null,
  throttledRequests: null,
  retries: null,
  costPerMillionUsd: null,
} as const satisfies Partial<Report['patterns'][number]>;
