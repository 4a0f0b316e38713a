import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { specificIssue } from '../zod-issue.js';
import {
  type ArtilleryScript,
  HookFailed,
  loadProcessor,
  ProcessorFailed,
  runHook,
  runScript,
} from './artillery.js';
import type { ClientResult } from './client-stats.js';
import { ensureTypeScript } from './typescript.js';

/**
 * The runner handler: one worker's slice of a scenario, run with the embedded Artillery engine.
 * A plain function of (event, context) -> result, so the same code runs in a local worker process
 * and in the Lambda runner; adapters only translate.
 */
export interface RunnerEvent {
  readonly worker: number;
  readonly workers: number;
  /** This worker's slice (its share of the arrival rate), already made by `sliceScript`. */
  readonly script: ArtilleryScript;
  /** The scenario file, absolute or relative to the working directory; its processor resolves from it. */
  readonly scriptPath: string;
  /**
   * The project's fixtures (what its data command wrote: users, tokens, ids) for the scenarios'
   * processor, carried in the event on AWS; else the LOADTEST_FIXTURES file is used.
   */
  readonly fixtures?: unknown;
  /** Stop this long before the time limit, so the result is returned in time (default 10 s). */
  readonly stopBeforeLimitMs?: number;
  /** Run the script's `before` or `after` flow instead of load (once per run, by the fan-out). */
  readonly hook?: 'before' | 'after';
  /** What the `before` flow captured: every virtual user starts with it. */
  readonly vars?: Record<string, unknown>;
}

export type RunnerStatus = 'ok' | 'stopped' | 'failed';

export interface RunnerResult {
  readonly worker: number;
  /** ok: the slice ran to its end; stopped: cut short (time limit, abort); failed: an error. */
  readonly status: RunnerStatus;
  readonly result?: ClientResult;
  readonly error?: string;
  /** Why the slice ended before the scenario did. */
  readonly stoppedEarly?: string;
  /** A hook's captured variables. */
  readonly vars?: Record<string, unknown>;
  /** The script is at fault, not the run (its processor does not load): the CLI exits 2. */
  readonly badScript?: boolean;
}

export interface RunnerContext {
  /** Milliseconds left before the host kills this invocation (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs?: () => number;
  readonly onProgress?: (result: ClientResult) => void;
  /** Stop now (Ctrl-C in the CLI): the result is what was seen so far. */
  readonly signal?: AbortSignal;
  /** Given a function that calls onProgress now (see RunOptions.onProgressRequest). */
  readonly onProgressRequest?: (reportNow: () => void) => void;
}

export const DEFAULT_STOP_BEFORE_LIMIT_MS = 10_000;

export const runnerEventSchema = z.object({
  worker: z.number().int().min(0),
  workers: z.number().int().min(1),
  script: z
    .object({ config: z.looseObject({ phases: z.array(z.record(z.string(), z.unknown())).optional() }) })
    .loose()
    .refine(
      (s) => Array.isArray((s as { scenarios?: unknown }).scenarios),
      'script.scenarios: expected a list',
    ),
  scriptPath: z.string().min(1),
  fixtures: z.unknown().optional(),
  stopBeforeLimitMs: z.number().min(0).optional(),
  hook: z.enum(['before', 'after']).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
});

/** Validates an event from outside (a Lambda payload); throws a message naming the bad field. */
export function parseRunnerEvent(input: unknown): RunnerEvent {
  const parsed = runnerEventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = specificIssue(parsed.error.issues);
    throw new Error(`bad runner event: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as RunnerEvent;
}

let invocation = 0;

export async function runSlice(event: RunnerEvent, context: RunnerContext = {}): Promise<RunnerResult> {
  const { worker } = event;
  const stop = new AbortController();
  let stoppedEarly: string | undefined;
  const onAbort = () => {
    stoppedEarly ??= 'stopped on request (Ctrl-C, or another part of the run failed)';
    stop.abort();
  };
  context.signal?.addEventListener('abort', onAbort, { once: true });
  // A stop that came before this slice began (a listener added now would never hear it).
  if (context.signal?.aborted) onAbort();
  let deadline: NodeJS.Timeout | undefined;
  if (context.remainingMs) {
    const margin = event.stopBeforeLimitMs ?? DEFAULT_STOP_BEFORE_LIMIT_MS;
    const left = context.remainingMs();
    deadline = setTimeout(
      () => {
        stoppedEarly = `time limit: stopped ${Math.round(margin / 1000)} s before the host's limit (${Math.round(left / 1000)} s at start)`;
        stop.abort();
      },
      Math.max(0, left - margin),
    );
  }
  // The processor reads these; a reused process (a warm Lambda) may have run another worker before.
  process.env.LOADTEST_WORKER = String(worker);
  process.env.LOADTEST_WORKERS = String(event.workers);
  let dir: string | undefined;
  let latest: ClientResult | undefined;
  try {
    if (event.fixtures !== undefined) {
      invocation += 1;
      dir = join(tmpdir(), `loadtest-runner-${process.pid}-${invocation}`);
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'fixtures.json');
      await writeFile(file, JSON.stringify(event.fixtures));
      process.env.LOADTEST_FIXTURES = file;
    }
    // A TypeScript processor needs tsx: registered only then (a compiled worker starts without it).
    const processor = event.script.config.processor;
    if (typeof processor === 'string')
      await ensureTypeScript(resolve(dirname(resolve(event.scriptPath)), processor));
    await loadProcessor(event.script, event.scriptPath);
    if (event.hook) {
      const vars = await runHook(event.script, event.scriptPath, event.hook, event.vars);
      return { worker, status: 'ok', vars };
    }
    const result = await runScript(event.script, event.scriptPath, {
      ...(event.vars ? { vars: event.vars } : {}),
      signal: stop.signal,
      onProgress: (r) => {
        latest = r;
        context.onProgress?.(r);
      },
      ...(context.onProgressRequest ? { onProgressRequest: context.onProgressRequest } : {}),
    });
    return stoppedEarly
      ? { worker, status: 'stopped', result, stoppedEarly }
      : { worker, status: 'ok', result };
  } catch (err) {
    return {
      worker,
      status: 'failed',
      ...(latest ? { result: latest } : {}),
      // A failed hook or processor is the script's doing: its message says all; anything else keeps its stack.
      error:
        err instanceof HookFailed || err instanceof ProcessorFailed
          ? err.message
          : err instanceof Error
            ? stackOf(err)
            : String(err),
      ...(err instanceof ProcessorFailed ? { badScript: true } : {}),
    };
  } finally {
    if (deadline) clearTimeout(deadline);
    context.signal?.removeEventListener('abort', onAbort);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * An error's stack, its first line saying what went wrong: a syntax error in a processor file has a
 * stack that starts with only the file and line (`/app/lib/shop.cjs:12`), which the report's one-line
 * view would show alone.
 */
export function stackOf(err: Error): string {
  const head = `${err.name}: ${err.message}`;
  const stack = err.stack ?? head;
  if (stack.startsWith(err.name)) return stack;
  return `${head} (at ${stack.split('\n')[0]})\n${stack}`;
}
