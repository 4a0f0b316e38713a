import { describe, expect, it } from 'vitest';
import { type StackFile, stackPatternsDiffer } from '../../runner/cli/stack-file.js';

describe("a run measured through loadtest up's gate", () => {
  const stack = {
    version: 2,
    project: '/work/app/loadtest.config.yml',
    pid: 4242,
    startedAt: '2026-12-02T07:00:00.000Z',
  } as StackFile;
  const started = Date.parse(stack.startedAt);

  it("is told when the gate names its calls with another config's patterns, or the config's older self", () => {
    expect(stackPatternsDiffer(stack, '/work/app/loadtest.config.yml', started - 60_000)).toBeUndefined();
    expect(stackPatternsDiffer(stack, '/work/app/other.yml', started - 60_000)).toBe(
      'the capacity gate of loadtest up (pid 4242) names DynamoDB calls with the access patterns of /work/app/loadtest.config.yml, not of /work/app/other.yml: the rows follow those; restart loadtest up with --config /work/app/other.yml to measure with these',
    );
    // The same file, edited after up took its rules.
    expect(stackPatternsDiffer(stack, '/work/app/../app/loadtest.config.yml', started + 1)).toMatch(
      /as it was when loadtest up started \(2026-12-02T07:00:00\.000Z\); the file changed since: restart loadtest up/,
    );
  });
});
