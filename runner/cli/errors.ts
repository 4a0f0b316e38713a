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

/** `--dynamodb-endpoint` and the like: an http(s) URL, refused here rather than deep in the SDK. */
export function checkEndpointFlag(flag: string, value: string | undefined): void {
  if (value === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol))
    throw new UsageError(`${flag}: expected an http(s) URL such as http://127.0.0.1:8000, got "${value}"`);
}
