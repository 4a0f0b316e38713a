import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { phasesSeconds } from '../../progress.js';
import { patternIdsOf } from '../../project/index.js';
import { loadScenario } from '../../scenario/load.js';
import { projectFor } from '../project.js';

interface ValidateArgs {
  scenario: string;
  config?: string;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <scenario>',
  describe:
    'Check a scenario and its project config (YAML, phases, pattern ids, thresholds, capacity, ensure) without running it; exit 2 if invalid',
  builder: (y: Argv) =>
    y.positional('scenario', {
      type: 'string',
      describe: "A name from the project's scenarios or a path",
    }) as unknown as Argv<ValidateArgs>,
  handler: async (args: ArgumentsCamelCase<ValidateArgs>) => {
    const project = await projectFor(args.config, args.scenario);
    const s = loadScenario(args.scenario, project);
    const ids = patternIdsOf(project);
    const patterns = s.requestNames.filter((n) => ids.includes(n));
    console.log(`${s.path}: OK (project ${project.name}: ${project.file})`);
    console.log(
      `  ${phasesSeconds(s.script.config.phases ?? [])} s in ${s.script.config.phases?.length ?? 0} phase(s), ${s.script.scenarios.length} scenario(s)`,
    );
    console.log(`  requests named after a pattern: ${patterns.join(', ') || '(none)'}`);
    const others = s.requestNames.filter((n) => !ids.includes(n));
    if (others.length > 0) console.log(`  other requests (own rows, client side): ${others.join(', ')}`);
    if (others.some((n) => n.includes('{{')))
      console.log(
        '  note: an unnamed request with a template in its URL gets a row per URL it resolves to: give it a name: to get one row',
      );
    console.log(`  thresholds: ${s.thresholds.length}, ensure checks: ${s.ensure.length}`);
  },
};
