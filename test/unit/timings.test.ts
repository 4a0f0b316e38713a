import { describe, expect, it } from 'vitest';
import { renderTimings, StartupTimings } from '../../runner/timings.js';

describe('start-up timings', () => {
  it('records each phase once, relative to the process start, on the injected clock', () => {
    let now = 1_000_500;
    const t = new StartupTimings(() => now, 1_000_000);
    t.mark('cli');
    now += 2000;
    t.mark('dynamodb');
    now += 100;
    t.mark('dynamodb'); // a second mark does not move the first
    t.mark('firstRequest', 1_004_000); // a worker's epoch time
    t.mark('lastResponse', Number.NaN); // no time at all: not recorded
    expect(t.list()).toEqual([
      { phase: 'cli', atMs: 500 },
      { phase: 'dynamodb', atMs: 2500 },
      { phase: 'tables', atMs: null },
      { phase: 'seed', atMs: null },
      { phase: 'app', atMs: null },
      { phase: 'firstRequest', atMs: 4000 },
      { phase: 'lastResponse', atMs: null },
      { phase: 'report', atMs: null },
    ]);
  });

  it('prints the phases in the order they happened, each with what it added, and those that did not happen last', () => {
    const text = renderTimings([
      { phase: 'cli', atMs: 400 },
      { phase: 'dynamodb', atMs: 1500 },
      { phase: 'tables', atMs: 1600 },
      { phase: 'seed', atMs: 2600 },
      { phase: 'app', atMs: 2000 },
      { phase: 'firstRequest', atMs: 2700 },
      { phase: 'lastResponse', atMs: null },
      { phase: 'report', atMs: 2900 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('start-up timings (since the process started): first request at 2.70 s');
    expect(lines.slice(1).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['CLI loaded (spawn, Node, modules)', '0.40 s', '+400 ms'],
      ['DynamoDB Local ready', '1.50 s', '+1100 ms'],
      ['tables created', '1.60 s', '+100 ms'],
      ['app ready', '2.00 s', '+400 ms'],
      ['seed (data command) done', '2.60 s', '+600 ms'],
      ['first request sent', '2.70 s', '+100 ms'],
      ['report written', '2.90 s', '+200 ms'],
      ['last response received', '–', '(did not happen)'],
    ]);
  });

  it('ends with what made a start slower than it should be', () => {
    const text = renderTimings(
      [{ phase: 'cli', atMs: 900 }],
      ['app/loadtest.config.ts was loaded through tsx'],
    );
    expect(text.split('\n').slice(-1)).toEqual(['  note: app/loadtest.config.ts was loaded through tsx']);
  });
});

describe('the first request and the last response of several workers', () => {
  it('are the earliest first and the latest last; absent when no worker sent one', async () => {
    const { mergeClientResults } = await import('../../runner/engine/client-stats.js');
    const base = {
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:09.000Z',
      byName: {},
      counters: {},
    };
    const merged = mergeClientResults([
      { ...base, firstRequestAt: '2026-01-01T00:00:02.000Z', lastResponseAt: '2026-01-01T00:00:05.000Z' },
      { ...base },
      { ...base, firstRequestAt: '2026-01-01T00:00:01.500Z', lastResponseAt: '2026-01-01T00:00:07.250Z' },
    ]);
    expect(merged.firstRequestAt).toBe('2026-01-01T00:00:01.500Z');
    expect(merged.lastResponseAt).toBe('2026-01-01T00:00:07.250Z');
    const none = mergeClientResults([base]);
    expect('firstRequestAt' in none || 'lastResponseAt' in none).toBe(false);
  });
});
