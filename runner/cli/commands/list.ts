import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ArgumentsCamelCase, CommandModule } from 'yargs';
import { phasesSeconds } from '../../progress.js';
import { patternIdsOf } from '../../project/index.js';
import { isTemplate, loadScenario, ScenarioError } from '../../scenario/load.js';
import { projectFor } from '../project.js';

function mayBeScenario(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return true; // loading it says why it cannot be read
  }
  const docs = parseAllDocuments(text);
  // Several documents (Kubernetes manifests, say) are not one Artillery script.
  if (!Array.isArray(docs) || docs.length !== 1) return false;
  const [doc] = docs;
  // Broken YAML may be a broken scenario: loading it says where.
  if (!doc || doc.errors.length > 0) return true;
  const root = doc.toJS() as unknown;
  return (
    root === null ||
    typeof root !== 'object' ||
    Array.isArray(root) ||
    'scenarios' in root ||
    'config' in root
  );
}

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
      .filter((f) => /\.ya?ml$/.test(f) && !/^loadtest\.config\./.test(f) && !f.startsWith('.'))
      .sort();
    // Scenarios may live next to the config, among a compose file or a CI workflow: a YAML file that
    // parses to a map with neither `scenarios` nor `config` is someone else's, named once at the end.
    const others = files.filter((f) => !mayBeScenario(join(project.scenariosDir, f)));
    for (const f of files.filter((x) => !others.includes(x))) {
      try {
        const s = loadScenario(join(project.scenariosDir, f), project);
        const patterns = s.requestNames.filter((n) => ids.includes(n));
        const others = s.requestNames.filter((n) => !ids.includes(n));
        const phases = s.script.config.phases ?? [];
        // A duration from a template (`{{ secs }}`, given with -v) is known only when a run renders it.
        const seconds = phases.some((p) => isTemplate(p.duration) || isTemplate(p.pause))
          ? '?'
          : String(phasesSeconds(phases));
        console.log(
          `  ${s.name.padEnd(12)} ${seconds.padStart(4)} s  ${patterns.join(', ') || '(no request named after a pattern)'}`,
        );
        if (others.length > 0) console.log(`  ${''.padEnd(20)}other requests: ${others.join(', ')}`);
      } catch (err) {
        console.log(`  ${f.padEnd(12)} INVALID: ${err instanceof ScenarioError ? err.message : String(err)}`);
      }
    }
    if (others.length > 0) console.log(`  (other YAML, not scenarios: ${others.join(', ')})`);
  },
};
