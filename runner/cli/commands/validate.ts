import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { isPatternId } from '../../../app/index.js';
import { phasesSeconds } from '../../progress.js';
import { loadScenario } from '../../scenario/load.js';

export const validateCommand: CommandModule<object, { scenario: string }> = {
  command: 'validate <scenario>',
  describe:
    'Check a scenario (YAML, phases, pattern ids, thresholds, ensure) without running it; exit 2 if invalid',
  builder: (y: Argv) =>
    y.positional('scenario', {
      type: 'string',
      describe: 'A name from scenarios/ or a path',
    }) as unknown as Argv<{ scenario: string }>,
  handler: (args: ArgumentsCamelCase<{ scenario: string }>) => {
    const s = loadScenario(args.scenario);
    const patterns = s.requestNames.filter((n) => isPatternId(n));
    console.log(`${s.path}: OK`);
    console.log(
      `  ${phasesSeconds(s.script.config.phases ?? [])} s in ${s.script.config.phases?.length ?? 0} phase(s), ${s.script.scenarios.length} scenario(s)`,
    );
    console.log(`  patterns: ${patterns.join(', ') || '(none)'}`);
    const others = s.requestNames.filter((n) => !isPatternId(n));
    if (others.length > 0) console.log(`  not patterns (own rows): ${others.join(', ')}`);
    console.log(`  thresholds: ${s.thresholds.length}, ensure checks: ${s.ensure.length}`);
  },
};
