import type { Node } from 'constructs';
import { z } from 'zod';
import { DEFAULT_RUNNER, RUNNER_ARCHS, type RunnerArch, type RunnersStackProps } from './stacks/runners.js';

/**
 * What every deployment reads from CDK context (`cdk.json` or `-c key=value`), the shop's and a
 * project's alike: the stack prefix and the runner function's settings. Generic: no app/ here.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

// `-c key=value` gives strings, cdk.json gives JSON values: accept both.
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
// Text that is not JSON is left as it is, so the schema reports it under the key's name.
export const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

export const stackPrefix = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,80}$/, 'letters, digits and dashes, starting with a letter');

/** The runner function's context keys. */
export const runnerContext = {
  runnerMemoryMb: int(128, 10_240).default(DEFAULT_RUNNER.memoryMb),
  runnerTimeoutSec: int(1, 900).default(DEFAULT_RUNNER.timeoutSec),
  runnerConcurrency: int(1, 10_000).optional(),
  /** The earlier name of runnerConcurrency, still read so an existing cdk.json keeps its meaning. */
  runnerReservedConcurrency: int(1, 10_000).optional(),
  runnerArch: z
    .enum(RUNNER_ARCHS, {
      error: (i) => `no architecture "${String(i.input)}": one of ${RUNNER_ARCHS.join(', ')}`,
    })
    .default(DEFAULT_RUNNER.arch),
};

export interface RunnerConfig {
  readonly memoryMb: number;
  readonly timeoutSec: number;
  /** Undefined: no reservation (the default; `-c runnerConcurrency=N` opts in). */
  readonly reservedConcurrency: number | undefined;
  readonly arch: RunnerArch;
}

/**
 * Reads the schema's keys from context (an unset or empty value takes the default) and validates
 * them; an error names each bad key as the user typed it (`-c key: ...`).
 */
export function readContext<S extends z.ZodObject>(
  node: Pick<Node, 'tryGetContext'>,
  schema: S,
): z.output<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const v: unknown = node.tryGetContext(key);
    if (v !== undefined && v !== null && v !== '') raw[key] = v;
  }
  try {
    return schema.parse(raw);
  } catch (err) {
    const detail =
      err instanceof z.ZodError
        ? err.issues.map((i) => `-c ${i.path.join('.')}: ${i.message}`).join('; ')
        : (err as Error).message;
    throw new ConfigError(`bad CDK context: ${detail}`, { cause: err });
  }
}

export function runnerConfig(ctx: {
  runnerMemoryMb: number;
  runnerTimeoutSec: number;
  runnerConcurrency?: number | undefined;
  runnerReservedConcurrency?: number | undefined;
  runnerArch: RunnerArch;
}): RunnerConfig {
  if (
    ctx.runnerConcurrency !== undefined &&
    ctx.runnerReservedConcurrency !== undefined &&
    ctx.runnerConcurrency !== ctx.runnerReservedConcurrency
  ) {
    throw new ConfigError(
      `bad CDK context: -c runnerConcurrency=${ctx.runnerConcurrency} and its old name -c runnerReservedConcurrency=${ctx.runnerReservedConcurrency} disagree; keep runnerConcurrency`,
    );
  }
  return {
    memoryMb: ctx.runnerMemoryMb,
    timeoutSec: ctx.runnerTimeoutSec,
    reservedConcurrency: ctx.runnerConcurrency ?? ctx.runnerReservedConcurrency,
    arch: ctx.runnerArch,
  };
}

/** The runner function's props as RunnersStack takes them (no reservation unless one is set). */
export function runnerStackProps(runner: RunnerConfig): RunnersStackProps {
  return {
    memoryMb: runner.memoryMb,
    timeoutSec: runner.timeoutSec,
    ...(runner.reservedConcurrency !== undefined ? { reservedConcurrency: runner.reservedConcurrency } : {}),
    arch: runner.arch,
  };
}
