import { readdirSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { isPatternId } from '../../../app/index.js';
import { phasesSeconds } from '../../progress.js';
import { loadScenario, SCENARIOS_DIR, ScenarioError } from '../../scenario/load.js';

export const listCommand: CommandModule = {
  command: 'list',
  describe: 'List the scenarios in scenarios/ and the access patterns each covers',
  handler: () => {
    const files = readdirSync(SCENARIOS_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    for (const f of files) {
      try {
        const s = loadScenario(`${SCENARIOS_DIR}${f}`);
        const patterns = s.requestNames.filter((n) => isPatternId(n));
        const others = s.requestNames.filter((n) => !isPatternId(n));
        console.log(
          `${s.name.padEnd(12)} ${String(phasesSeconds(s.script.config.phases ?? [])).padStart(4)} s  ${patterns.join(', ')}`,
        );
        if (others.length > 0) console.log(`${''.padEnd(20)}not patterns: ${others.join(', ')}`);
      } catch (err) {
        console.log(`${f.padEnd(12)} INVALID: ${err instanceof ScenarioError ? err.message : String(err)}`);
      }
    }
  },
};
