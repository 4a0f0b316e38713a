import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, CommandModule } from 'yargs';
import { phasesSeconds } from '../../progress.js';
import { patternIdsOf } from '../../project/index.js';
import { loadScenario, ScenarioError } from '../../scenario/load.js';
import { projectFor } from '../project.js';

/** `loadtest list`: the project, its access patterns, and its scenarios with the patterns each covers. */
export const listCommand: CommandModule<object, { config?: string }> = {
  command: 'list',
  describe: "List the project's access patterns and scenarios, and the patterns each scenario covers",
  handler: async (args: ArgumentsCamelCase<{ config?: string }>) => {
    const project = await projectFor(args.config);
    const ids = patternIdsOf(project);
    console.log(
      `project ${project.name}: ${project.file}${project.isDefault ? ' (the default: no loadtest.config found)' : ''}`,
    );
    console.log(
      `tables: ${project.tables.map((t) => t.name).join(', ') || (project.describeTables ? '(read from the endpoint)' : '(none declared)')}`,
    );
    console.log(
      `patterns: ${ids.join(', ') || '(none declared: the capacity gate names calls by their shape)'}`,
    );
    console.log(`scenarios in ${project.scenariosDir}:`);
    const files = readdirSync(project.scenariosDir)
      .filter((f) => /\.ya?ml$/.test(f) && !/^loadtest\.config\./.test(f))
      .sort();
    for (const f of files) {
      try {
        const s = loadScenario(join(project.scenariosDir, f), project);
        const patterns = s.requestNames.filter((n) => ids.includes(n));
        const others = s.requestNames.filter((n) => !ids.includes(n));
        console.log(
          `  ${s.name.padEnd(12)} ${String(phasesSeconds(s.script.config.phases ?? [])).padStart(4)} s  ${patterns.join(', ') || '(no request named after a pattern)'}`,
        );
        if (others.length > 0) console.log(`  ${''.padEnd(20)}other requests: ${others.join(', ')}`);
      } catch (err) {
        console.log(`  ${f.padEnd(12)} INVALID: ${err instanceof ScenarioError ? err.message : String(err)}`);
      }
    }
  },
};
