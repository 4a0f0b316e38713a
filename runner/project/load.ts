import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import {
  type GateCapacity,
  type KeyAttribute,
  PACKAGE_ROOT,
  type PatternRule,
  parseKeyTemplate,
  RuleSyntaxError,
  sdkEnvironment,
  type TableSpec,
  whyNeverMatches,
} from '../../local/index.js';
import { type DeclarativeEntity, declarativeMapper } from '../data/mapping.js';
import { type ForecastConfig, ForecastError, forecastOptions } from '../forecast/index.js';
import { specificIssue } from '../zod-issue.js';
import { firstLines, importConfigModule, syntaxErrorAt } from './config-module.js';
import { type CommandSpec, type ProjectConfigParsed, projectSchema } from './schema.js';

type MatchInput = Exclude<
  NonNullable<ProjectConfigParsed['patterns']>[number]['match'],
  unknown[] | undefined
>;

import { TemplateError, tablesFromTemplate } from './template.js';

/** A bad project config: exit code 2, with the file and the field. */
export class ProjectConfigError extends Error {
  override name = 'ProjectConfigError';
}

export const CONFIG_NAMES = [
  'loadtest.config.ts',
  'loadtest.config.mts',
  'loadtest.config.mjs',
  'loadtest.config.js',
  'loadtest.config.cjs',
  'loadtest.config.json',
  'loadtest.config.yml',
  'loadtest.config.yaml',
] as const;

/**
 * The project used when none is found: the reference shop. A path, not an import: the toolkit reads
 * it as it would read any user's config.
 */
export const DEFAULT_PROJECT_FILE = join(PACKAGE_ROOT, 'app', 'loadtest.config.ts');

export interface ResolvedCommand {
  /** An argv list, or one shell line. */
  readonly command: readonly string[] | string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSec?: number;
}

export interface ProjectApp {
  /** The app's URL when it is fixed (an app already running, or a start command on a fixed port). */
  readonly url?: string;
  readonly start?: ResolvedCommand & { readonly port: number | 'auto'; readonly portEnv: string };
  readonly ready: { readonly path: string; readonly status?: readonly number[]; readonly timeoutSec: number };
}

export interface ProjectPattern {
  readonly id: string;
  readonly description?: string;
  /** The gate's rules (any of them names a call); none for a pattern only a tag can name. */
  readonly rules: readonly PatternRule[];
}

export interface ProjectEvents {
  readonly table?: string;
  readonly filter?: Record<string, unknown>;
  readonly subscriptionFilter?: Record<string, unknown>;
  readonly message?: (image: Record<string, unknown>) => {
    subject: string;
    message: unknown;
    attributes: Record<string, unknown>;
  };
  readonly subscription?: string;
}

export interface ProjectImport {
  readonly table?: string;
  readonly entities: readonly string[];
  readonly map: (
    entity: string,
    row: Record<string, unknown>,
    options: { now: string; params?: Readonly<Record<string, string>> },
  ) =>
    | { ok: true; items: Record<string, unknown>[]; ignored: string[] }
    | { ok: false; error: string; field?: string };
  readonly required?: Readonly<Record<string, readonly (readonly string[])[]>>;
  readonly collections?: Readonly<Record<string, string>>;
  readonly params?: Readonly<Record<string, string>>;
}

/** The app as deployed on AWS (the config's `aws` section). */
export interface ProjectAws {
  readonly appUrl?: string;
  /** The config's table name -> its name on AWS, for the tables whose names differ. */
  readonly tables?: Readonly<Record<string, string>>;
  readonly stackName?: string;
}

export interface Project {
  readonly name: string;
  /** The config file, absolute. */
  readonly file: string;
  readonly dir: string;
  /** True when no config was found and the reference shop stands in. */
  readonly isDefault: boolean;
  readonly region: string;
  readonly app?: ProjectApp;
  /** Tables known from the config (inline and templates). */
  readonly tables: readonly TableSpec[];
  /** Tables to read from the endpoint with DescribeTable at run time: all, or these names. */
  readonly describeTables?: true | readonly string[];
  readonly patterns: readonly ProjectPattern[];
  readonly capacity: GateCapacity;
  /** The traffic expected in production, when the config states it. */
  readonly forecast?: ForecastConfig;
  readonly data?: {
    readonly command?: ResolvedCommand;
    readonly fixtures?: string;
    /** Export files to load with the project's import mapping (paths absolute). */
    readonly imports?: readonly { file: string; entity: string; format?: 'jsonl' | 'csv' }[];
  };
  readonly scenariosDir: string;
  readonly events?: ProjectEvents;
  readonly importer?: ProjectImport;
  readonly aws?: ProjectAws;
}

/** The pattern rules the gate tries, in the config's order. */
export function patternRules(project: Project): PatternRule[] {
  return project.patterns.flatMap((p) => p.rules);
}

export function patternIdsOf(project: Project): string[] {
  return project.patterns.map((p) => p.id);
}

/** The project config in the folder `dir` itself (the first of CONFIG_NAMES there), if any. */
export function configInFolder(dir: string): string | undefined {
  return CONFIG_NAMES.map((name) => join(dir, name)).find((f) => existsSync(f));
}

/** The nearest config from `dir` up to the filesystem root. */
export function findProjectConfig(dir: string): string | undefined {
  let at = resolve(dir);
  for (;;) {
    const here = configInFolder(at);
    if (here) return here;
    const up = dirname(at);
    if (up === at) return undefined;
    at = up;
  }
}

export interface ResolveOptions {
  /** --config */
  readonly config?: string;
  /** A scenario given as a path: the config nearest to it wins over the working directory's. */
  readonly scenarioPath?: string;
  readonly cwd?: string;
}

/** Which config applies: --config, else the nearest to the scenario, else to the cwd, else the shop. */
export function locateProject(options: ResolveOptions = {}): { file: string; isDefault: boolean } {
  const cwd = options.cwd ?? process.cwd();
  if (options.config) {
    const file = isAbsolute(options.config) ? options.config : resolve(cwd, options.config);
    if (!existsSync(file)) throw new ProjectConfigError(`--config: no such file: ${file}`);
    if (!statSync(file).isDirectory()) return { file, isDefault: false };
    // A project's folder names its config as well.
    const inside = configInFolder(file);
    if (!inside) {
      throw new ProjectConfigError(
        `--config: no project config in the folder ${file} (one of ${CONFIG_NAMES.join(', ')})`,
      );
    }
    return { file: inside, isDefault: false };
  }
  const near =
    (options.scenarioPath ? findProjectConfig(dirname(options.scenarioPath)) : undefined) ??
    findProjectConfig(cwd);
  return near ? { file: near, isDefault: false } : { file: DEFAULT_PROJECT_FILE, isDefault: true };
}

/** `file:line:col: path`; the line is that of `at` when given (a misspelt key inside `path`). */
type Where = (path: PropertyKey[], at?: PropertyKey[]) => string;

async function readConfig(file: string): Promise<{ value: unknown; where: Where }> {
  const ext = extname(file);
  const plain = (path: PropertyKey[]) => `${file}${path.length ? `: ${path.join('.')}` : ''}`;
  if (ext === '.json') {
    try {
      return { value: JSON.parse(readFileSync(file, 'utf8')), where: plain };
    } catch (err) {
      const at = await syntaxErrorAt(file);
      throw new ProjectConfigError(
        at
          ? `${file}:${at.line}:${at.column}: not valid JSON: ${at.text}`
          : `${file}: not valid JSON: ${firstLines(err)}`,
      );
    }
  }
  if (ext === '.yml' || ext === '.yaml') {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e?.pos[0] !== undefined ? lines.linePos(e.pos[0]) : undefined;
      throw new ProjectConfigError(
        `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: YAML: ${e?.message.split('\n')[0] ?? 'invalid'}`,
      );
    }
    const where: Where = (path, line = path) => {
      // A misspelt key (`line` goes one deeper than `path`): the key's own position, not its value's.
      const parent = line.length > path.length ? doc.getIn(line.slice(0, -1) as unknown[], true) : undefined;
      const key = isMap(parent)
        ? parent.items.find((i) => isScalar(i.key) && i.key.value === line[line.length - 1])?.key
        : undefined;
      if (isScalar(key) && key.range) {
        const { line: l, col } = lines.linePos(key.range[0]);
        return `${file}:${l}:${col}${path.length ? `: ${path.join('.')}` : ''}`;
      }
      for (let at = line.length; at >= 0; at -= 1) {
        const node = doc.getIn(line.slice(0, at) as unknown[], true) as
          | { range?: [number, number, number] }
          | undefined;
        if (node && (node.range || isMap(node) || isSeq(node)) && node.range) {
          const { line, col } = lines.linePos(node.range[0]);
          return `${file}:${line}:${col}${path.length ? `: ${path.join('.')}` : ''}`;
        }
      }
      return plain(path);
    };
    return { value: doc.toJS(), where };
  }
  // TS and JS configs run (TypeScript bundled, or through tsx: see config-module.ts).
  let mod: Record<string, unknown>;
  try {
    mod = await importConfigModule(file);
  } catch (err) {
    // A syntax error in the config itself: where, which Node's message for a module does not say.
    const at = await syntaxErrorAt(file);
    if (at)
      throw new ProjectConfigError(`${file}:${at.line}:${at.column}: could not load: ${at.text}`, {
        cause: err,
      });
    const message = firstLines(err);
    // A .ts file is CommonJS or ESM as its nearest package.json says; .mts is always ESM.
    const hint = /require\(\) ES Module|ERR_REQUIRE_ESM/.test(message)
      ? ' (a .ts config is loaded as the nearest package.json\'s "type" says: name it loadtest.config.mts to load it as an ES module)'
      : '';
    throw new ProjectConfigError(`${file}: could not load: ${message}${hint}`, { cause: err });
  }
  let value = mod.default ?? mod.config;
  // CommonJS compiled from ESM or TypeScript (tsc, Babel: `exports.__esModule = true; exports.default
  // = {...}`) reaches import() whole as its default, so its own default is one level down.
  if (typeof value === 'object' && value !== null && (value as Record<string, unknown>).__esModule === true) {
    const cjs = value as Record<string, unknown>;
    value = cjs.default ?? cjs.config;
  }
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (value === undefined)
    throw new ProjectConfigError(`${file}: exports no config (export default defineProject({...}))`);
  return { value, where: plain };
}

function commandOf(spec: CommandSpec, dir: string): ResolvedCommand {
  if (typeof spec === 'string' || Array.isArray(spec)) return { command: spec, cwd: dir, env: {} };
  return {
    command: spec.command,
    cwd: spec.cwd ? resolve(dir, spec.cwd) : dir,
    env: spec.env ?? {},
    ...(spec.timeoutSec !== undefined ? { timeoutSec: spec.timeoutSec } : {}),
  };
}

/**
 * The first script file an argv command names that is not there (`[node, seed.mjs]` with no
 * seed.mjs), relative to its folder; a shell line is the shell's to read.
 */
function missingScript(cmd: ResolvedCommand | undefined): string | undefined {
  if (!cmd || typeof cmd.command === 'string') return undefined;
  return cmd.command
    .slice(1)
    .find((arg) => /^[^-].*\.(m?[jt]s|c[jt]s|py|rb|sh|jar)$/.test(arg) && !existsSync(resolve(cmd.cwd, arg)));
}

function appOf(app: NonNullable<ProjectConfigParsed['app']>, dir: string): ProjectApp {
  if (typeof app === 'string') return { url: app.replace(/\/$/, ''), ready: { path: '/', timeoutSec: 60 } };
  const ready = {
    path: app.ready?.path ?? '/',
    ...(app.ready?.status !== undefined
      ? { status: Array.isArray(app.ready.status) ? app.ready.status : [app.ready.status] }
      : {}),
    timeoutSec: app.ready?.timeoutSec ?? 60,
  };
  let start: ProjectApp['start'];
  if (app.start !== undefined) {
    const s = app.start;
    const base = typeof s === 'string' || Array.isArray(s) ? { command: s } : s;
    start = {
      ...commandOf(
        {
          command: base.command,
          ...('cwd' in base && base.cwd ? { cwd: base.cwd } : {}),
          ...('env' in base && base.env ? { env: base.env } : {}),
        },
        dir,
      ),
      port: ('port' in base ? base.port : undefined) ?? 'auto',
      portEnv: ('portEnv' in base ? base.portEnv : undefined) ?? 'PORT',
    };
  }
  return {
    ...(app.url ? { url: app.url.replace(/\/$/, '') } : {}),
    ...(start ? { start } : {}),
    ready,
  };
}

const envOf = (c: CommandSpec | undefined) =>
  c !== undefined && typeof c === 'object' && !Array.isArray(c) ? c.env : undefined;

/**
 * One type per key attribute in a table: DynamoDB's AttributeDefinitions hold one, so a sort key
 * that is a string in the table and a number in a GSI cannot be made (DynamoDB Local took the last
 * one said, and writes failed with "Type mismatch for key").
 */
function checkKeyTypes(spec: TableSpec, at: PropertyKey[], where: (p: PropertyKey[]) => string): void {
  const seen = new Map<string, { type: string; at: PropertyKey[] }>();
  const keys: [KeyAttribute | undefined, PropertyKey[]][] = [
    [spec.partitionKey, ['partitionKey']],
    [spec.sortKey, ['sortKey']],
    ...(spec.globalSecondaryIndexes ?? []).flatMap((g, i): [KeyAttribute | undefined, PropertyKey[]][] => [
      [g.partitionKey, ['globalSecondaryIndexes', i, 'partitionKey']],
      [g.sortKey, ['globalSecondaryIndexes', i, 'sortKey']],
    ]),
    ...(spec.localSecondaryIndexes ?? []).map((l, i): [KeyAttribute | undefined, PropertyKey[]] => [
      l.sortKey,
      ['localSecondaryIndexes', i, 'sortKey'],
    ]),
  ];
  for (const [key, path] of keys) {
    if (!key) continue;
    const first = seen.get(key.name);
    if (first && first.type !== key.type)
      throw new ProjectConfigError(
        `${where([...at, ...path])}: table ${spec.name}: key attribute ${key.name} is ${key.type} here and ${first.type} at ${[...at, ...first.at].join('.')}; an attribute has one type in a table and all its indexes`,
      );
    if (!first) seen.set(key.name, { type: key.type, at: path });
  }
}

/** Checks what zod cannot: names that refer to each other. */
function crossCheck(
  config: ProjectConfigParsed,
  tables: readonly TableSpec[],
  known: boolean,
  where: (p: PropertyKey[]) => string,
): void {
  const byName = new Map<string, TableSpec>();
  for (const t of tables) {
    if (byName.has(t.name))
      throw new ProjectConfigError(`${where(['tables'])}: table "${t.name}" is declared twice`);
    byName.set(t.name, t);
  }
  const tableList = () => [...byName.keys()].join(', ') || '(none)';
  const seen = new Set<string>();
  const checkMatch = (id: string, m: MatchInput, at: PropertyKey[]) => {
    const table = m.table !== undefined ? byName.get(m.table) : undefined;
    if (m.table !== undefined && known && !table) {
      throw new ProjectConfigError(
        `${where([...at, 'table'])}: pattern ${id}: no table "${m.table}"; the project's tables: ${tableList()}`,
      );
    }
    const indexes = table
      ? [...(table.globalSecondaryIndexes ?? []), ...(table.localSecondaryIndexes ?? [])]
      : [];
    const index = m.index !== undefined ? indexes.find((x) => x.name === m.index) : undefined;
    if (m.index !== undefined && table && !index) {
      throw new ProjectConfigError(
        `${where([...at, 'index'])}: pattern ${id}: table ${table.name} has no index "${m.index}"; its indexes: ${indexes.map((x) => x.name).join(', ') || '(none)'}`,
      );
    }
    const operations = m.operation === undefined ? undefined : [m.operation].flat();
    const neverMatches = (clauses: ReturnType<typeof parseKeyTemplate>, field: string) => {
      const why = whyNeverMatches(
        { ...(operations ? { operations } : {}), ...(m.index !== undefined ? { index: m.index } : {}) },
        clauses,
        table ? { partitionKey: table.partitionKey.name, sortKey: table.sortKey?.name } : undefined,
      );
      if (why)
        throw new ProjectConfigError(
          `${where([...at, field])}: pattern ${id}: this rule can match no call: ${why}`,
        );
    };
    // An index on operations that read none is pointed at on its own line, before any key.
    neverMatches([], 'index');
    if (m.key === undefined) return;
    let clauses: ReturnType<typeof parseKeyTemplate>;
    try {
      clauses = parseKeyTemplate(m.key);
    } catch (err) {
      if (err instanceof RuleSyntaxError)
        throw new ProjectConfigError(`${where([...at, 'key'])}: pattern ${id}: ${err.message}`);
      throw err;
    }
    if (!table) {
      neverMatches(clauses, 'key');
      return;
    }
    const keyAttrs = new Set<string>();
    if (index && 'partitionKey' in index) {
      keyAttrs.add(index.partitionKey.name);
      if (index.sortKey) keyAttrs.add(index.sortKey.name);
    } else if (index) {
      keyAttrs.add(table.partitionKey.name);
      keyAttrs.add(index.sortKey.name);
    } else {
      // No index named: the table's key or any index's (a Query may use one).
      keyAttrs.add(table.partitionKey.name);
      if (table.sortKey) keyAttrs.add(table.sortKey.name);
      for (const g of table.globalSecondaryIndexes ?? []) {
        keyAttrs.add(g.partitionKey.name);
        if (g.sortKey) keyAttrs.add(g.sortKey.name);
      }
      for (const l of table.localSecondaryIndexes ?? []) keyAttrs.add(l.sortKey.name);
    }
    for (const c of clauses) {
      if (!keyAttrs.has(c.attr)) {
        throw new ProjectConfigError(
          `${where([...at, 'key'])}: pattern ${id}: "${c.attr}" is not a key attribute of ${table.name}${m.index ? ` index ${m.index}` : ''} (keys: ${[...keyAttrs].join(', ')})`,
        );
      }
    }
    neverMatches(clauses, 'key');
  };
  (config.patterns ?? []).forEach((p, i) => {
    if (seen.has(p.id))
      throw new ProjectConfigError(`${where(['patterns', i, 'id'])}: pattern id "${p.id}" is declared twice`);
    seen.add(p.id);
    const matches = p.match === undefined ? [] : Array.isArray(p.match) ? p.match : [p.match];
    matches.forEach((m, k) => {
      const at = ['patterns', i, 'match', ...(Array.isArray(p.match) ? [k] : [])];
      checkMatch(p.id, m, at);
    });
  });
  // The stack sets these for the app and the data command; a value given here would be replaced
  // without a word, so it is refused, saying where the value comes from.
  const start = typeof config.app === 'object' ? config.app.start : undefined;
  const startSpec = typeof start === 'object' && !Array.isArray(start) ? start : undefined;
  const envs: [PropertyKey[], Record<string, string> | undefined, string | undefined][] = [
    [['app', 'start', 'env'], startSpec?.env, startSpec?.portEnv ?? 'PORT'],
    [['data', 'command', 'env'], envOf(config.data?.command), undefined],
  ];
  const sdkKeys = Object.keys(sdkEnvironment('', ''));
  for (const [at, env, portEnv] of envs) {
    for (const [name, value] of Object.entries(env ?? {})) {
      if (name === portEnv)
        throw new ProjectConfigError(
          `${where([...at, name])}: the app is given its port in $${name} by app.start.port ("auto" by default: a free one); write port: ${value} in app.start instead`,
        );
      if (sdkKeys.includes(name))
        throw new ProjectConfigError(
          `${where([...at, name])}: set by the stack, ${name.includes('REGION') ? "to the project's region (its region: field)" : 'which points the AWS SDK at its capacity gate'}; remove it`,
        );
    }
  }
  if (config.forecast) {
    try {
      forecastOptions(config.forecast);
    } catch (err) {
      if (err instanceof ForecastError)
        throw new ProjectConfigError(`${where(['forecast'])}: ${err.message}`);
      throw err;
    }
  }
  if (known) {
    for (const name of Object.keys(config.aws?.tables ?? {})) {
      if (!byName.has(name))
        throw new ProjectConfigError(
          `${where(['aws', 'tables', name])}: no table "${name}"; the project's tables: ${tableList()}`,
        );
    }
    // A GSI's capacity under a name no table has would be dropped in silence: its index would take
    // the table's capacity instead.
    const gsisOf = (names: Iterable<string>) =>
      [...names].flatMap((n) => (byName.get(n)?.globalSecondaryIndexes ?? []).map((g) => g.name));
    const checkIndexes = (indexes: object | undefined, known: string[], at: PropertyKey[]) => {
      for (const name of Object.keys(indexes ?? {}))
        if (!known.includes(name))
          throw new ProjectConfigError(
            `${where([...at, 'indexes', name])}: no GSI "${name}"; the GSIs: ${known.join(', ') || '(none)'}`,
          );
    };
    checkIndexes(config.capacity?.indexes, gsisOf(byName.keys()), ['capacity']);
    for (const [name, c] of Object.entries(config.capacity?.tables ?? {})) {
      if (!byName.has(name))
        throw new ProjectConfigError(
          `${where(['capacity', 'tables', name])}: no table "${name}"; the project's tables: ${tableList()}`,
        );
      checkIndexes(c?.indexes, gsisOf([name]), ['capacity', 'tables', name]);
    }
  }
}

/** Loads, validates and resolves a project config (paths relative to its folder). */
export async function loadProject(file: string, isDefault = false): Promise<Project> {
  const { value, where } = await readConfig(file);
  const parsed = projectSchema.safeParse(value);
  if (!parsed.success) {
    const issue = specificIssue(parsed.error.issues, projectSchema);
    throw new ProjectConfigError(`${where(issue.path, issue.at)}: ${issue.message}`);
  }
  const config = parsed.data;
  const dir = dirname(file);
  const tables: TableSpec[] = [];
  let describeTables: Project['describeTables'];
  const t = config.tables;
  const inline = ((Array.isArray(t) ? t : (t?.inline ?? [])) as TableSpec[]).map((spec, i) => {
    checkKeyTypes(spec, Array.isArray(t) ? ['tables', i] : ['tables', 'inline', i], where);
    return spec;
  });
  if (Array.isArray(t)) tables.push(...inline);
  else if (t) {
    tables.push(...inline);
    for (const template of t.template === undefined
      ? []
      : Array.isArray(t.template)
        ? t.template
        : [t.template]) {
      try {
        tables.push(...tablesFromTemplate(resolve(dir, template)));
      } catch (err) {
        if (err instanceof TemplateError)
          throw new ProjectConfigError(`${where(['tables', 'template'])}: ${err.message}`);
        throw err;
      }
    }
    if (t.describe !== undefined) describeTables = t.describe;
  }
  crossCheck(config, tables, describeTables === undefined, where);

  let scenariosDir = dir;
  if (config.scenarios !== undefined) {
    scenariosDir = resolve(dir, config.scenarios);
    if (!existsSync(scenariosDir) || !statSync(scenariosDir).isDirectory())
      throw new ProjectConfigError(`${where(['scenarios'])}: no such folder: ${scenariosDir}`);
  } else if (existsSync(join(dir, 'scenarios'))) scenariosDir = join(dir, 'scenarios');

  const app = config.app ? appOf(config.app, dir) : undefined;
  if (app?.start && !existsSync(app.start.cwd))
    throw new ProjectConfigError(`${where(['app', 'start', 'cwd'])}: no such folder: ${app.start.cwd}`);
  const dataCommand = config.data?.command ? commandOf(config.data.command, dir) : undefined;
  for (const [key, cmd] of [
    [['app', 'start'], app?.start],
    [['data', 'command'], dataCommand],
  ] as const) {
    const missing = missingScript(cmd);
    if (missing)
      throw new ProjectConfigError(
        `${where([...key])}: ${missing}: no such file (in ${cmd?.cwd}); the command would fail once the stack is up`,
      );
  }
  const fixtures = config.data?.fixtures ? resolve(dir, config.data.fixtures) : undefined;
  if (fixtures && !existsSync(fixtures))
    throw new ProjectConfigError(`${where(['data', 'fixtures'])}: no such file: ${fixtures}`);
  const importer = importerOf(config.import, where);
  const imports = (config.data?.import ?? []).map((f, i) => {
    const file = resolve(dir, f.file);
    if (!existsSync(file))
      throw new ProjectConfigError(`${where(['data', 'import', i, 'file'])}: no such file: ${file}`);
    if (!importer)
      throw new ProjectConfigError(
        `${where(['data', 'import'])}: needs the project's import mapping (import: { entities, map })`,
      );
    if (!importer.entities.includes(f.entity))
      throw new ProjectConfigError(
        `${where(['data', 'import', i, 'entity'])}: "${f.entity}" is not one of the import entities: ${importer.entities.join(', ')}`,
      );
    return { file, entity: f.entity, ...(f.format ? { format: f.format } : {}) };
  });

  return {
    name: config.name ?? basename(dir),
    file,
    dir,
    isDefault,
    region: config.region ?? 'us-east-1',
    ...(app ? { app } : {}),
    tables,
    ...(describeTables !== undefined ? { describeTables } : {}),
    patterns: (config.patterns ?? []).map((p) => {
      const matches = p.match === undefined ? [] : Array.isArray(p.match) ? p.match : [p.match];
      const rules = matches.map(
        (m): PatternRule => ({
          id: p.id,
          ...(m.table !== undefined ? { table: m.table } : {}),
          ...(m.index !== undefined ? { index: m.index } : {}),
          ...(m.operation !== undefined
            ? { operations: Array.isArray(m.operation) ? m.operation : [m.operation] }
            : {}),
          ...(m.key !== undefined ? { key: m.key } : {}),
        }),
      );
      return { id: p.id, ...(p.description ? { description: p.description } : {}), rules };
    }),
    capacity: config.capacity ?? {},
    ...(config.forecast ? { forecast: config.forecast } : {}),
    ...(config.data
      ? {
          data: {
            ...(dataCommand ? { command: dataCommand } : {}),
            ...(fixtures ? { fixtures } : {}),
            ...(imports.length > 0 ? { imports } : {}),
          },
        }
      : {}),
    scenariosDir,
    ...(config.events ? { events: config.events as ProjectEvents } : {}),
    ...(importer ? { importer } : {}),
    ...(config.aws
      ? {
          aws: {
            ...(config.aws.appUrl ? { appUrl: config.aws.appUrl.replace(/\/+$/, '') } : {}),
            ...(config.aws.tables ? { tables: config.aws.tables } : {}),
            ...(config.aws.stackName ? { stackName: config.aws.stackName } : {}),
          },
        }
      : {}),
  };
}

/** The config's `import`: a function mapping (TS/JS configs), or one declared per entity. */
function importerOf(
  config: ProjectConfigParsed['import'],
  where: (path: (string | number)[]) => string,
): ProjectImport | undefined {
  if (!config) return undefined;
  const { entities, map, table, required, collections, params } = config;
  let importer: ProjectImport;
  if (Array.isArray(entities)) {
    if (!map)
      throw new ProjectConfigError(
        `${where(['import', 'map'])}: a list of entities needs a map function (TS/JS configs); or give each entity its mapping: entities: { order: { items: [...] } }`,
      );
    importer = config as unknown as ProjectImport;
  } else {
    if (map)
      throw new ProjectConfigError(
        `${where(['import', 'map'])}: entities that declare their mapping take no map function: keep one of the two`,
      );
    const mapper = declarativeMapper(entities as Record<string, DeclarativeEntity>, {
      ...(collections ? { collections } : {}),
      ...(params ? { params } : {}),
    });
    importer = {
      ...(table ? { table } : {}),
      entities: mapper.entities,
      map: mapper.map,
      required: required ?? mapper.required ?? {},
      ...(collections ? { collections } : {}),
      ...(params ? { params } : {}),
    };
  }
  for (const [collection, entity] of Object.entries(collections ?? {})) {
    if (!importer.entities.includes(entity))
      throw new ProjectConfigError(
        `${where(['import', 'collections', collection])}: "${entity}" is not one of the import entities: ${importer.entities.join(', ')}`,
      );
  }
  return importer;
}

/** Locates and loads the project for a command (see `locateProject`). */
export async function resolveProject(options: ResolveOptions = {}): Promise<Project> {
  const { file, isDefault } = locateProject(options);
  return loadProject(file, isDefault);
}
