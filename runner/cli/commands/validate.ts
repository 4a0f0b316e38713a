import { dirname, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { phasesSeconds } from '../../progress.js';
import { patternIdsOf } from '../../project/index.js';
import { loadScenario } from '../../scenario/load.js';
import { UsageError } from '../errors.js';
import { projectFor } from '../project.js';
import { applyScriptFlags, renderScriptTemplates } from './run.js';

interface ValidateArgs {
  scenario: string;
  config?: string;
  environment?: string;
  variables?: string;
  overrides?: string;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <scenario>',
  describe:
    'Check a scenario and its project config (YAML, phases, pattern ids, thresholds, capacity, ensure) without running it; exit 2 if invalid',
  builder: (y: Argv) =>
    y
      .positional('scenario', {
        type: 'string',
        describe: "A name from the project's scenarios or a path",
      })
      // The script as `run` would run it with the same flags.
      .option('environment', {
        alias: 'e',
        type: 'string',
        describe: 'Check it with config.environments.<name>',
      })
      .option('variables', {
        alias: 'v',
        type: 'string',
        describe: 'JSON object of variables, as run takes it',
      })
      .option('overrides', {
        type: 'string',
        describe: 'JSON object merged over the script, as run takes it',
      }) as unknown as Argv<ValidateArgs>,
  handler: async (args: ArgumentsCamelCase<ValidateArgs>) => {
    const project = await projectFor(args.config, args.scenario);
    const s = loadScenario(args.scenario, project);
    applyScriptFlags(s, { ...args, defaultThresholds: true }, project);
    await renderScriptTemplates(s, args);
    // Its processor loads as a worker loads it, and has every function the script names. Loaded
    // here only: the engine (Artillery) is too heavy for the CLI's other commands to import.
    const processor = s.script.config.processor;
    if (typeof processor === 'string') {
      const { ensureTypeScript } = await import('../../engine/typescript.js');
      const { loadProcessor, ProcessorFailed } = await import('../../engine/artillery.js');
      await ensureTypeScript(resolve(dirname(s.path), processor));
      await loadProcessor(s.script, s.path).catch((err: unknown) => {
        throw err instanceof ProcessorFailed ? new UsageError(`${s.path}: ${err.message}`) : err;
      });
    }
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
