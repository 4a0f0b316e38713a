import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { StackProject } from '../../local/index.js';
import { type Project, patternRules, resolveProject } from '../project/index.js';
import { isScenarioPath } from '../scenario/load.js';

/**
 * The project a command works on: --config, else the config nearest to a scenario given as a path,
 * else the nearest to the working directory, else the reference shop.
 */
export function projectFor(config: string | undefined, scenario?: string): Promise<Project> {
  const scenarioPath =
    scenario !== undefined && isScenarioPath(scenario)
      ? isAbsolute(scenario)
        ? scenario
        : resolve(process.cwd(), scenario)
      : undefined;
  return resolveProject({
    ...(config ? { config } : {}),
    ...(scenarioPath ? { scenarioPath } : {}),
  });
}

/** What the embedded stack needs of a project. */
export function stackProjectOf(project: Project): StackProject {
  return {
    name: project.name,
    region: project.region,
    tables: project.tables,
    ...(project.describeTables !== undefined ? { describeTables: project.describeTables } : {}),
    rules: patternRules(project),
    ...(project.app ? { app: project.app } : {}),
    ...(project.data ? { data: project.data } : {}),
  };
}

/** Where the app's and the data command's output goes during a command: a log file, line by line. */
export class OutputLog {
  private readonly out: WriteStream;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.out = createWriteStream(path, { flags: 'w' });
  }

  write = (source: 'app' | 'data', line: string): void => {
    this.out.write(`[${source}] ${line}\n`);
  };

  close(): Promise<void> {
    return new Promise((r) => this.out.end(() => r()));
  }
}
