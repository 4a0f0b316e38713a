import { describe, expect, it } from 'vitest';
import { Progress } from '../../runner/progress.js';

function captured(totalSec: number, tty: boolean) {
  let now = 10_000;
  const lines: string[] = [];
  const progress = new Progress(totalSec, { write: (s: string) => lines.push(s) > 0 }, tty, () => now);
  return {
    progress,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the progress line', () => {
  it('shows elapsed over the phases, with the rate over the last interval', () => {
    const { progress, lines, advance } = captured(8, false);
    progress.update({ byName: { a: { requests: 10, errors: 1 } } } as never);
    progress.setThrottles(2);
    advance(5000);
    progress.print();
    expect(lines).toEqual(['[5s/8s] 10 requests, 2.0/s, 1 errors, 2 throttles\n']);
  });

  it('says the phases have ended once the run outlasts them, not a clock past its total', () => {
    const { progress, lines, advance } = captured(4, false);
    advance(11_000);
    progress.print();
    expect(lines[0]).toMatch(/^\[11s, phases ended at 4s, finishing\] 0 requests/);
  });

  it('prints at most every 5 s to a log, rewriting one line on a terminal', () => {
    const log = captured(60, false);
    // Not at 1 s, when no worker has reported yet ("0 requests"): the first line comes at 5 s.
    log.advance(1000);
    log.progress.print();
    expect(log.lines).toEqual([]);
    log.advance(4000);
    log.progress.print();
    log.advance(1000);
    log.progress.print();
    expect(log.lines).toHaveLength(1);
    const tty = captured(60, true);
    tty.advance(1000);
    tty.progress.print();
    tty.advance(1000);
    tty.progress.print();
    expect(tty.lines).toHaveLength(2);
    expect(tty.lines[1]?.startsWith('\r\x1b[2K[2s/60s]')).toBe(true);
  });
});
