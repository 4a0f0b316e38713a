import { readFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { z } from 'zod';
import { renderHtml } from '../../report/html.js';
import { renderConsole, renderJUnit, renderMarkdown } from '../../report/render.js';
import type { Report } from '../../report/types.js';
import { specificIssue } from '../../zod-issue.js';
import { EXIT, UsageError } from '../errors.js';
import { checkOutputs, writeOutput } from '../outputs.js';

interface ReportArgs {
  file: string;
  html?: string;
  junit?: string;
  markdown?: string;
}

const num = z.number();
const latency = z.looseObject({ p50: num, p95: num, p99: num, max: num.optional() });
const quantiles = z.looseObject({ p50: num, p95: num, p99: num });

/** What the renderers read; fields added by later versions are optional so older reports still load. */
const reportSchema = z.looseObject({
  scenario: z.string(),
  target: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationSec: num,
  passed: z.boolean(),
  partial: z.boolean().default(false),
  error: z.string().optional(),
  workers: z
    .array(z.looseObject({ worker: num, status: z.string(), error: z.string().optional() }))
    .default([]),
  pricing: z
    .looseObject({ region: z.string(), readPerMillionUsd: num, writePerMillionUsd: num })
    .default({ region: 'us-east-1', readPerMillionUsd: 0.125, writePerMillionUsd: 0.625 }),
  patterns: z.array(
    z.looseObject({
      id: z.string(),
      pattern: z.boolean().default(true),
      requests: num,
      errors: num,
      errorRate: num.nullable(),
      latencyMs: latency.nullable(),
      serverLatencyMs: latency.nullable(),
      // Null: not measured (a request name that is not a pattern, or no DynamoDB side).
      rcu: num.nullable(),
      wcu: num.nullable(),
      rcuPerRequest: num.nullable(),
      wcuPerRequest: num.nullable(),
      throttleEvents: num.nullable(),
      throttledRequests: num.nullable().default(0),
      retries: num.nullable(),
      costPerMillionUsd: num.nullable(),
    }),
  ),
  tables: z
    .array(
      z.looseObject({
        table: z.string(),
        index: z.string().nullable(),
        consumedRcu: num,
        consumedWcu: num,
        readThrottleEvents: num.nullable(),
        writeThrottleEvents: num.nullable(),
        throttleReasons: z.record(z.string(), num),
      }),
    )
    // null: the DynamoDB side was not measured (older reports had []).
    .nullable(),
  hotKeys: z
    .array(
      z.looseObject({
        table: z.string(),
        index: z.string().nullable(),
        partitionKey: z.string(),
        rcu: num.nullable(),
        wcu: num.nullable(),
        accesses: num.optional(),
        throttleEvents: num,
      }),
    )
    .nullable(),
  thresholds: z.array(
    z.looseObject({
      pattern: z.string(),
      metric: z.string(),
      op: z.string(),
      value: num,
      actual: num.nullable(),
      passed: z.boolean(),
    }),
  ),
  ensure: z
    .array(
      z.looseObject({
        expression: z.string(),
        strict: z.boolean(),
        passed: z.boolean(),
        error: z.string().optional(),
        values: z.record(z.string(), z.number()).optional(),
      }),
    )
    .default([]),
  timeline: z
    .array(
      z.looseObject({
        t: num,
        dt: num,
        requests: num,
        errors: num,
        throttleEvents: num,
        patterns: z.record(
          z.string(),
          z.looseObject({
            requests: num,
            errors: num,
            latencyMs: quantiles.optional(),
            serverLatencyMs: quantiles.optional(),
          }),
        ),
        targets: z.record(z.string(), z.looseObject({ rcu: num, wcu: num })).optional(),
      }),
    )
    .optional(),
});

/** Reads and checks a JSON report; every problem is a UsageError (exit 2) naming the file. */
export async function readReportFile(path: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      e.code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read: ${e.message}`,
      { cause: err },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = specificIssue(parsed.error.issues);
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UsageError(
      `${path}: not a loadtest report (JSON from loadtest run --output): ${where}: ${issue.message}`,
    );
  }
  return parsed.data as unknown as Report;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <file>',
  describe:
    'Render a JSON report again: the console table, or the HTML report (--html), JUnit XML (--junit) and Markdown (--markdown) as run writes them',
  builder: (y: Argv) =>
    y
      .positional('file', {
        type: 'string',
        describe: 'A JSON report (loadtest run --output, default .loadtest/report.json)',
      })
      .option('html', {
        type: 'string',
        describe: 'Write the HTML report here (charts over time, thresholds, hot keys)',
      })
      .option('junit', { type: 'string', describe: 'Write the JUnit XML here (one test case per check)' })
      .option('markdown', { type: 'string', describe: 'Write the Markdown summary here' })
      .strict() as unknown as Argv<ReportArgs>,
  handler: async (args: ArgumentsCamelCase<ReportArgs>) => {
    const report = await readReportFile(args.file);
    const wanted: [string, string | undefined, () => string][] = [
      ['--html', args.html, () => renderHtml(report)],
      ['--junit', args.junit, () => renderJUnit(report)],
      ['--markdown', args.markdown, () => renderMarkdown(report)],
    ];
    const outputs = wanted.flatMap(([flag, path, render]) =>
      path === undefined ? [] : [[flag, path, render] as const],
    );
    if (outputs.length === 0) {
      console.log(renderConsole(report));
      return;
    }
    await checkOutputs(outputs.map(([flag, path]) => [flag, path]));
    for (const [flag, path, render] of outputs) {
      const text = render();
      if (!(await writeOutput(flag, path, text))) {
        process.exitCode = EXIT.runFailed;
        continue;
      }
      console.log(`${flag.slice(2)}: ${path} (${(Buffer.byteLength(text) / 1024).toFixed(0)} KB)`);
    }
  },
};
