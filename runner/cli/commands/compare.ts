import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { compareReports, renderDeltas } from '../../report/compare.js';
import { EXIT, given, UsageError } from '../errors.js';
import { readReportFile } from './report.js';

interface CompareArgs {
  base: string;
  current: string;
  maxRegression: number;
  minP99Ms: number;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <base> <current>',
  describe:
    'Per-pattern deltas of two reports; exit 1 when p99 or capacity per request rose past --max-regression',
  builder: (y: Argv) =>
    y
      .positional('base', {
        type: 'string',
        describe: 'The baseline report (JSON from loadtest run --output)',
      })
      .positional('current', { type: 'string', describe: 'The report to check' })
      .option('max-regression', { type: 'number', default: 10, describe: 'Allowed rise, in percent' })
      .option('min-p99-ms', {
        type: 'number',
        default: 5,
        describe:
          "A p99 regresses only when it also rose by more than this many ms (a short run's p99 is its slowest few requests: a few ms of noise); capacity per call has no floor",
      })
      .strict() as unknown as Argv<CompareArgs>,
  handler: async (args: ArgumentsCamelCase<CompareArgs>) => {
    // An empty value (an Action input left empty) is refused for every number flag by the CLI's middleware.
    if (!(args.maxRegression >= 0))
      throw new UsageError(
        `--max-regression: expected a percentage >= 0, got ${given('--max-regression', args.maxRegression)}`,
      );
    if (!(args.minP99Ms >= 0))
      throw new UsageError(
        `--min-p99-ms: expected milliseconds >= 0, got ${given('--min-p99-ms', args.minP99Ms)}`,
      );
    const [base, current] = await Promise.all([readReportFile(args.base), readReportFile(args.current)]);
    if (base.patterns.length === 0)
      throw new UsageError(
        `${args.base}: the base report has no row to compare with${base.partial ? ` (its run did not complete: ${base.error ?? 'partial'})` : ''}`,
      );
    if (base.partial)
      console.error(
        `warning: ${args.base}: the base run did not complete (${base.error ?? 'partial'}): its figures may not be a fair baseline`,
      );
    if (current.partial)
      console.error(
        `warning: ${args.current}: the new run did not complete (${current.error ?? 'partial'}): its figures cover part of the run`,
      );
    if (base.scenario !== current.scenario)
      console.error(
        `warning: the reports are of different scenarios: ${base.scenario} (base), ${current.scenario}`,
      );
    const deltas = compareReports(base, current, args.maxRegression, args.minP99Ms);
    console.log(renderDeltas(deltas, args.maxRegression, args.minP99Ms));
    const regressions = deltas.filter((d) => d.regression);
    console.log(
      regressions.length === 0
        ? `no regression past ${args.maxRegression}%`
        : `FAILED: ${regressions.length} regression(s): ${regressions.map((d) => `${d.pattern} ${d.metric}`).join(', ')}`,
    );
    process.exitCode = regressions.length === 0 ? EXIT.ok : EXIT.thresholdFailed;
  },
};
