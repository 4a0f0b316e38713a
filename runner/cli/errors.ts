/** Bad input (flags, scenario, config): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run could not complete (a component failed to start or died): exit code 3. */
export class RunFailed extends Error {
  override name = 'RunFailed';
}

export const EXIT = { ok: 0, thresholdFailed: 1, badInput: 2, runFailed: 3 } as const;
