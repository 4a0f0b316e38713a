import { readFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { compareReports, renderDeltas } from '../../report/compare.js';
import type { Report } from '../../report/types.js';
import { EXIT, given, UsageError } from '../errors.js';

interface CompareArgs {
  base: string;
  current: string;
  maxRegression: number;
}

async function readReport(path: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not JSON: ${(err as Error).message}`);
  }
  const r = data as Partial<Report>;
  if (!r || typeof r !== 'object' || !Array.isArray(r.patterns) || typeof r.scenario !== 'string') {
    throw new UsageError(`${path}: not a loadtest report (no "scenario" and "patterns")`);
  }
  return r as Report;
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
      .strict() as unknown as Argv<CompareArgs>,
  handler: async (args: ArgumentsCamelCase<CompareArgs>) => {
    if (!(args.maxRegression >= 0))
      throw new UsageError(
        `--max-regression: expected a percentage >= 0, got ${given('--max-regression', args.maxRegression)}`,
      );
    const [base, current] = await Promise.all([readReport(args.base), readReport(args.current)]);
    const deltas = compareReports(base, current, args.maxRegression);
    console.log(renderDeltas(deltas, args.maxRegression));
    const regressions = deltas.filter((d) => d.regression);
    console.log(
      regressions.length === 0
        ? `no regression past ${args.maxRegression}%`
        : `FAILED: ${regressions.length} regression(s): ${regressions.map((d) => `${d.pattern} ${d.metric}`).join(', ')}`,
    );
    process.exitCode = regressions.length === 0 ? EXIT.ok : EXIT.thresholdFailed;
  },
};
