import { parseRunnerEvent, type RunnerResult, runSlice } from '../engine/handler.js';

/**
 * The runner Lambda's adapter: validate the payload, run the slice, stop before Lambda's time
 * limit. A bad payload is a result with status "failed" naming the field, not an exception, so the
 * CLI reports it by worker.
 */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: unknown, context: LambdaContextLike): Promise<RunnerResult> {
  let parsed: ReturnType<typeof parseRunnerEvent>;
  try {
    parsed = parseRunnerEvent(event);
  } catch (err) {
    const worker = (event as { worker?: unknown } | null)?.worker;
    return {
      worker: typeof worker === 'number' ? worker : -1,
      status: 'failed',
      error: (err as Error).message,
    };
  }
  return runSlice(parsed, { remainingMs: () => context.getRemainingTimeInMillis() });
}
