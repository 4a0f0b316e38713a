/** Bad input (flags, scenario, config): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run could not complete (a component failed to start or died): exit code 3. */
export class RunFailed extends Error {
  override name = 'RunFailed';
}

export const EXIT = { ok: 0, thresholdFailed: 1, badInput: 2, runFailed: 3 } as const;

/**
 * A number flag's value as the user gave it, for an error message: yargs turns `--duration abc` into
 * NaN, and "got NaN" would not say what was typed.
 */
export function given(flag: string, value: unknown, argv: readonly string[] = process.argv): string {
  if (!(typeof value === 'number' && Number.isNaN(value))) return String(value);
  for (let i = argv.length - 1; i >= 0; i -= 1) {
    const arg = argv[i] ?? '';
    if (arg === flag) return JSON.stringify(argv[i + 1] ?? '');
    if (arg.startsWith(`${flag}=`)) return JSON.stringify(arg.slice(flag.length + 1));
  }
  return 'not a number';
}
