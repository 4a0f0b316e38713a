import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { z } from 'zod';
import type { GateCapacity, ResolvedCapacity } from '../../../local/index.js';
import {
  type ForecastConfig,
  ForecastError,
  forecast,
  forecastOptions,
  MissingPrices,
  PRICE_FLAGS,
  renderForecast,
} from '../../forecast/index.js';
import { evaluateThresholds } from '../../report/build.js';
import { describeThreshold } from '../../report/render.js';
import type { LoadProfile } from '../../report/types.js';
import { parseThreshold, type Threshold, ThresholdSyntaxError } from '../../scenario/thresholds.js';
import { specificIssue } from '../../zod-issue.js';
import { CAPACITY_OPTIONS, type CapacityArgs, capacityFromFlags, withUnits } from '../capacity-flags.js';
import { EXIT, given, UsageError } from '../errors.js';
import { checkOutputs, writeOutput } from '../outputs.js';
import { projectFor } from '../project.js';
import { readReportFile } from './report.js';

interface ForecastArgs extends CapacityArgs {
  report: string;
  config?: string;
  rate?: number;
  mix?: string;
  growth?: string;
  previousPeak?: number;
  utilization?: number;
  region?: string;
  priceRead?: number;
  priceWrite?: number;
  priceRcuHour?: number;
  priceWcuHour?: number;
  threshold?: string[];
  json?: boolean;
  output?: string;
}

const num = z.number();
const units = z.looseObject({ read: num, write: num });
/** The part of a report a forecast reads (older reports have none). */
const loadSchema = z.looseObject({
  requests: num,
  durationSec: num,
  patterns: z.array(
    z.looseObject({
      id: z.string(),
      calls: num,
      answered: num.optional(),
      capacity: z.record(z.string(), z.looseObject({ rcu: num, wcu: num })),
    }),
  ),
  keys: z.array(
    z.looseObject({
      table: z.string(),
      index: z.string().nullable(),
      kind: z.enum(['read', 'write']),
      partitionKey: z.string(),
      units: z.record(z.string(), num),
    }),
  ),
  keySpread: z.array(
    z.looseObject({
      pattern: z.string(),
      table: z.string(),
      index: z.string().nullable(),
      kind: z.enum(['read', 'write']),
      keys: num,
      keyedUnits: num,
      // Absent in reports before it: keys are then weighed against calls.
      touches: num.optional(),
      truncated: z.boolean(),
    }),
  ),
  capacity: z.record(
    z.string(),
    z.looseObject({
      mode: z.enum(['provisioned', 'on-demand']),
      table: units,
      indexes: z.record(z.string(), units),
    }),
  ),
});

/** The capacity flags over what the run's gate enforced, table by table (as the gate resolves them). */
export function overrideCapacity(
  run: Readonly<Record<string, ResolvedCapacity>>,
  flags: GateCapacity,
): Record<string, ResolvedCapacity> {
  const out: Record<string, ResolvedCapacity> = {};
  for (const [name, c] of Object.entries(run)) {
    const table = flags.table ?? c.table;
    // A mode named starts from that mode's defaults: the run's on-demand maximums are dropped.
    const { maxRead: _r, maxWrite: _w, ...own } = c;
    out[name] = {
      ...(flags.mode ? own : c),
      mode: flags.mode ?? (flags.table ? 'provisioned' : c.mode),
      table,
      // Units for "every table" set its GSIs too, as in `loadtest run`.
      indexes: flags.table ? Object.fromEntries(Object.keys(c.indexes).map((i) => [i, table])) : c.indexes,
      ...(flags.maxRead !== undefined ? { maxRead: flags.maxRead } : {}),
      ...(flags.maxWrite !== undefined ? { maxWrite: flags.maxWrite } : {}),
    };
  }
  return out;
}

/** The number flags, checked under their own names (the model would name its option, not the flag). */
function checkNumberFlags(args: ForecastArgs): void {
  const rules: [flag: string, value: number | undefined, ok: (n: number) => boolean, want: string][] = [
    ['--rate', args.rate, (n) => n > 0, 'requests a second > 0'],
    ['--previous-peak', args.previousPeak, (n) => n >= 0, 'requests a second >= 0'],
    ['--utilization', args.utilization, (n) => n > 0 && n <= 1, 'a fraction, 0 < u <= 1'],
    ['--price-read', args.priceRead, (n) => n >= 0, 'USD per million units >= 0'],
    ['--price-write', args.priceWrite, (n) => n >= 0, 'USD per million units >= 0'],
    ['--price-rcu-hour', args.priceRcuHour, (n) => n >= 0, 'USD per RCU-hour >= 0'],
    ['--price-wcu-hour', args.priceWcuHour, (n) => n >= 0, 'USD per WCU-hour >= 0'],
  ];
  for (const [flag, value, ok, want] of rules)
    if (value !== undefined && !(Number.isFinite(value) && ok(value)))
      throw new UsageError(`${flag}: expected ${want}, got ${given(flag, value)}`);
}

/** "checkout: forecast.maxRate >= 5000" or "forecast.maxRate >= 5000" (every pattern). */
function parseForecastThreshold(text: string): Threshold {
  const m = /^\s*([^:\s]+)\s*:\s*(.+)$/.exec(text);
  const [pattern, expr] = m ? [m[1] ?? '*', m[2] ?? ''] : ['*', text];
  try {
    const t = parseThreshold(pattern, expr);
    if (!t.metric.startsWith('forecast.'))
      throw new UsageError(
        `--threshold "${text}": only forecast.maxRate and forecast.headroom are judged here`,
      );
    return t;
  } catch (err) {
    if (err instanceof ThresholdSyntaxError) throw new UsageError(`--threshold "${text}": ${err.message}`);
    throw err;
  }
}

export const forecastCommand: CommandModule<object, ForecastArgs> = {
  command: 'forecast <report>',
  describe:
    "Predict, from a run's report, where each pattern throttles at the traffic you expect (rate, mix, growth), on which key and why, and what it costs a month",
  builder: (y: Argv) =>
    y
      .positional('report', { type: 'string', describe: 'A JSON report of a run through the capacity gate' })
      .option('rate', {
        type: 'number',
        describe: "Client requests a second to forecast (default: the project's or scenario's forecast.rate)",
      })
      .option('mix', {
        type: 'string',
        describe:
          "Share of DynamoDB calls per pattern, e.g. checkout=0.2,getProduct=0.8 (default: the run's)",
      })
      .option('growth', {
        type: 'string',
        describe: 'How traffic reaches the rate: instant (default) or <factor>x/<n>(s|min|h), e.g. 2x/30min',
      })
      .option('previous-peak', {
        type: 'number',
        describe: 'On-demand: requests a second the tables served at their last peak',
      })
      .options(CAPACITY_OPTIONS)
      .option('utilization', {
        type: 'number',
        describe: 'Provisioned capacity bought at this utilisation (default 0.7)',
      })
      .option('region', {
        type: 'string',
        describe: 'Region the prices are for (a label; set the prices too)',
      })
      .option('price-read', { type: 'number', describe: 'On-demand USD per million read request units' })
      .option('price-write', { type: 'number', describe: 'On-demand USD per million write request units' })
      .option('price-rcu-hour', { type: 'number', describe: 'Provisioned USD per RCU-hour' })
      .option('price-wcu-hour', { type: 'number', describe: 'Provisioned USD per WCU-hour' })
      .option('threshold', {
        type: 'string',
        array: true,
        describe:
          'Fail (exit 1) unless it holds: "[pattern:] forecast.maxRate|forecast.headroom <op> <number>"',
      })
      .option('json', { type: 'boolean', describe: 'Print the forecast as JSON' })
      .option('output', { type: 'string', describe: 'Also write the forecast as JSON here' })
      .strict() as unknown as Argv<ForecastArgs>,
  handler: async (args: ArgumentsCamelCase<ForecastArgs>) => {
    checkNumberFlags(args);
    await checkOutputs([['--output', args.output]]);
    const report = await readReportFile(args.report);
    if (report.load === undefined)
      throw new UsageError(
        `${args.report}: no load profile to forecast from: the run's DynamoDB side was not measured by the capacity gate${report.notMeasured ? ` (${report.notMeasured})` : ''}, or the report is older than forecasts; run the scenario again through the gate`,
      );
    const parsed = loadSchema.safeParse(report.load);
    if (!parsed.success) {
      const issue = specificIssue(parsed.error.issues);
      throw new UsageError(`${args.report}: ${['load', ...issue.path].join('.')}: ${issue.message}`);
    }
    const load = parsed.data as unknown as LoadProfile;
    // The traffic: flags over the project's forecast (the report's project, or --config) over the report's own.
    let expected: ForecastConfig | undefined = report.forecast
      ? { rate: report.forecast.rate, mix: report.forecast.mix, growth: report.forecast.growth }
      : undefined;
    const configFile = args.config ?? report.project?.file;
    if (args.config || (args.rate === undefined && !expected && configFile)) {
      const project = await projectFor(configFile).catch((err: Error) => {
        if (args.config) throw err;
        return undefined;
      });
      if (project?.forecast) expected = project.forecast;
    }
    const rate = args.rate ?? expected?.rate;
    if (rate === undefined)
      throw new UsageError(
        '--rate: how many requests a second to forecast? (or set forecast.rate in the project config)',
      );
    // The report's on-demand prices hold for its own region only; another region's are given.
    const region = args.region ?? expected?.prices?.region ?? report.pricing.region;
    const ofReport = region === report.pricing.region;
    let options: ReturnType<typeof forecastOptions>;
    try {
      options = forecastOptions({
        ...(expected ?? {}),
        rate,
        ...(args.mix !== undefined ? { mix: args.mix } : {}),
        ...(args.growth !== undefined ? { growth: args.growth } : {}),
        ...(args.previousPeak !== undefined ? { previousPeak: args.previousPeak } : {}),
        ...(args.utilization !== undefined ? { utilization: args.utilization } : {}),
        // A price left undefined is one not given: MissingPrices names it for another region.
        prices: {
          ...(expected?.prices ?? {}),
          region,
          readPerMillion:
            args.priceRead ??
            expected?.prices?.readPerMillion ??
            (ofReport ? report.pricing.readPerMillionUsd : undefined),
          writePerMillion:
            args.priceWrite ??
            expected?.prices?.writePerMillion ??
            (ofReport ? report.pricing.writePerMillionUsd : undefined),
          rcuHour: args.priceRcuHour ?? expected?.prices?.rcuHour,
          wcuHour: args.priceWcuHour ?? expected?.prices?.wcuHour,
        },
      });
    } catch (err) {
      if (err instanceof MissingPrices)
        throw new UsageError(
          `${err.message}: give ${err.missing.map((k) => PRICE_FLAGS[k]).join(', ')}${args.region !== undefined ? '' : ` (the region is ${expected?.prices?.region !== undefined ? "the project's forecast.prices.region" : "the report's"})`}`,
        );
      if (err instanceof ForecastError) throw new UsageError(err.message);
      throw err;
    }
    const flags = withUnits(capacityFromFlags(args), args);
    const thresholds = (args.threshold ?? []).map((text) => ({
      text,
      threshold: parseForecastThreshold(text),
    }));
    let result: ReturnType<typeof forecast>;
    try {
      result = forecast(load, { ...options, capacity: overrideCapacity(load.capacity, flags) });
    } catch (err) {
      if (err instanceof ForecastError) throw new UsageError(err.message);
      throw err;
    }
    const known = new Set(result.patterns.map((p) => p.id));
    for (const { text, threshold: t } of thresholds)
      if (t.pattern !== '*' && !known.has(t.pattern))
        throw new UsageError(
          `--threshold "${text}": no pattern "${t.pattern}" in the run (patterns with DynamoDB calls: ${[...known].join(', ')})`,
        );
    const verdicts = evaluateThresholds(
      [],
      thresholds.map((t) => t.threshold),
      true,
      result,
    );
    const written =
      args.output === undefined ||
      (await writeOutput(
        '--output',
        args.output,
        `${JSON.stringify({ ...result, thresholds: verdicts }, null, 2)}\n`,
      ));
    if (args.json) console.log(JSON.stringify({ ...result, thresholds: verdicts }, null, 2));
    else {
      console.log(renderForecast(result));
      for (const t of verdicts.filter((x) => !x.passed))
        console.log(`FAILED threshold ${describeThreshold(t)}`);
      if (thresholds.length > 0)
        console.log(
          verdicts.every((t) => t.passed)
            ? `PASSED: ${verdicts.length} check(s)`
            : `FAILED: ${verdicts.filter((t) => !t.passed).length} of ${verdicts.length} check(s)`,
        );
    }
    process.exitCode = !written
      ? EXIT.runFailed
      : verdicts.every((t) => t.passed)
        ? EXIT.ok
        : EXIT.thresholdFailed;
  },
};
