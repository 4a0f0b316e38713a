import { existsSync, readFileSync } from 'node:fs';
import { METHODS } from 'node:http';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { compileExpression } from 'filtrex';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { gateCapacitySchema } from '../../local/index.js';
import type { ArtilleryScript } from '../engine/artillery.js';
import { payloadRows } from '../engine/payload.js';
import { processorFunctions } from '../engine/processor-functions.js';
import { requestName } from '../engine/request-name.js';
import {
  type ForecastConfig,
  ForecastError,
  forecastConfigSchema,
  forecastOptions,
} from '../forecast/index.js';
import { type Project, patternIdsOf } from '../project/index.js';
import { specificIssue } from '../zod-issue.js';
import { parseThreshold, type Threshold, ThresholdSyntaxError } from './thresholds.js';

/** What a scenario without thresholds (or `ensure` checks) of its own is held to. */
export const DEFAULT_THRESHOLDS = ['errorRate < 0.01'] as const;
/**
 * ...and to its virtual users finishing their flow: one that fails mid-flow (a capture that found
 * nothing, a function step that throws) sends none of the requests after it, which no request's
 * error rate shows.
 */
export const DEFAULT_ENSURE: readonly EnsureCheck[] = [
  { expression: 'vusers.failed <= vusers.created * 0.01', strict: true },
];

/**
 * Artillery's plugins that `loadtest run` honours: `ensure` (its checks are judged with the
 * thresholds), `expect` (failed expectations are errors of their request name) and
 * `metrics-by-endpoint` (per request name rows are what every report has).
 */
const SUPPORTED_PLUGINS = new Set(['ensure', 'expect', 'metrics-by-endpoint']);

/**
 * Refuses, naming it, what the engine would otherwise skip in silence: a run that quietly drops
 * part of a script measures something else than its author meant.
 */
function checkSupported(raw: Record<string, unknown>, where: (keys: PropertyKey[]) => string): void {
  const config = (raw.config ?? {}) as Record<string, unknown>;
  const refuse = (keys: PropertyKey[], what: string): never => {
    throw new ScenarioError(`${where(keys)}: ${keys.join('.')}: ${what}`);
  };
  for (const name of Object.keys((config.plugins ?? {}) as Record<string, unknown>)) {
    if (!SUPPORTED_PLUGINS.has(name))
      refuse(
        ['config', 'plugins', name],
        `plugin "${name}" is not supported by loadtest run (supported: ${[...SUPPORTED_PLUGINS].join(', ')}); run this script with the artillery CLI against loadtest up, or remove it`,
      );
  }
  if (config.engines !== undefined)
    refuse(['config', 'engines'], 'only the HTTP engine runs in loadtest run (no custom engines)');
  const scenarios = Array.isArray(raw.scenarios) ? (raw.scenarios as Record<string, unknown>[]) : [];
  for (const [hook, spec] of [
    ...scenarios.map((sc, i) => [['scenarios', i], sc] as const),
    ['before', raw.before] as const,
    ['after', raw.after] as const,
  ]) {
    const engine = (spec as Record<string, unknown> | undefined)?.engine;
    const at = Array.isArray(hook) ? hook : [hook];
    if (engine !== undefined && engine !== 'http')
      refuse([...at, 'engine'], `engine "${String(engine)}" is not supported by loadtest run (HTTP only)`);
  }
  for (const hook of ['before', 'after'] as const) {
    const h = raw[hook] as Record<string, unknown> | undefined;
    if (h !== undefined && !Array.isArray(h?.flow))
      refuse([hook, 'flow'], `expected a list of steps (Artillery's ${hook}: { flow: [...] })`);
  }
  // Artillery's HTTP engine sends a step it does not know as a request whose method is the step's
  // first key: `fetch:` or `gett:` would reach the app as FETCH or GETT and count as its 4xx.
  const checkSteps = (steps: unknown, at: PropertyKey[]): void => {
    if (!Array.isArray(steps)) return;
    for (const [i, step] of (steps as unknown[]).entries()) {
      const here = [...at, i];
      if (step === null || typeof step !== 'object' || Array.isArray(step) || Object.keys(step).length === 0)
        refuse(
          here,
          'expected a step such as { get: { url: /path } }, think, loop, parallel, log or function',
        );
      const s = step as Record<string, unknown>;
      const keys = Object.keys(s);
      if (keys.some((k) => CONTROL_STEPS.has(k))) {
        // A loop with no bound runs until the process is killed, whatever the phases say.
        if (
          s.loop !== undefined &&
          s.count === undefined &&
          s.over === undefined &&
          s.whileTrue === undefined
        )
          refuse(
            [...here, 'loop'],
            `a loop needs count, over or whileTrue (keys here: ${keys.join(', ')}); without one it never ends`,
          );
        checkSteps(s.loop, [...here, 'loop']);
        checkSteps(s.parallel, [...here, 'parallel']);
        continue;
      }
      const first = keys[0] ?? '';
      if (!NODE_METHODS.has(first.toUpperCase()))
        refuse(
          [...here, first],
          `unknown step "${first}" (Artillery would send it as an HTTP ${first.toUpperCase()} request); a step is ${HTTP_METHODS.join(', ')} (or another HTTP method), think, loop, parallel, log or function`,
        );
      // `- get:` with its fields not indented under it is a request of no URL (a TypeError mid-run).
      const request = s[first];
      if (request === null || typeof request !== 'object' || Array.isArray(request))
        refuse([...here, first], `expected the request's fields under it, e.g. ${first}: { url: /path }`);
      const url = (request as Record<string, unknown>).url;
      if (typeof url !== 'string' || url === '')
        refuse(
          [...here, first],
          `a request needs a url (fields here: ${Object.keys(request as object).join(', ') || 'none'})`,
        );
    }
  };
  for (const [i, sc] of scenarios.entries()) checkSteps(sc?.flow, ['scenarios', i, 'flow']);
  for (const hook of ['before', 'after'] as const)
    checkSteps((raw[hook] as Record<string, unknown> | undefined)?.flow, [hook, 'flow']);
}

/**
 * What the load-time checks find in a script changed after it was loaded (`--overrides`, an
 * environment's config), as `<label>: <field>: <problem>`; undefined when it can run.
 */
export function scriptProblem(
  script: Record<string, unknown>,
  label: string,
  path: string,
): string | undefined {
  try {
    checkSupported(script, () => label);
    checkFiles(script as unknown as ArtilleryScript, path, () => label);
  } catch (err) {
    if (err instanceof ScenarioError) return err.message;
    throw err;
  }
  const scenarios = script.scenarios;
  if (!Array.isArray(scenarios) || scenarios.length === 0)
    return `${label}: scenarios: needs at least one scenario`;
  const phases = phasesProblem((script.config as { phases?: unknown } | undefined)?.phases);
  return phases ? `${label}: ${phases}` : undefined;
}

/**
 * The files a script names, resolved and read as the workers will: a missing processor (or a function
 * named with none), a missing payload or a short row is the script's fault, told here with its line,
 * not by a worker once the stack is up.
 */
function checkFiles(script: ArtilleryScript, path: string, where: (keys: PropertyKey[]) => string): void {
  const processor = script.config.processor;
  // A function named with no processor to hold it: Artillery would fail each virtual user on it.
  const named = processorFunctions(script)[0];
  if (named && processor === undefined) {
    const keys = named.at.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    throw new ScenarioError(
      `${where(keys)}: ${named.at}: function "${named.name}" named, but the script has no config.processor to define it`,
    );
  }
  if (typeof processor === 'string') {
    const file = resolve(dirname(path), processor);
    if (!existsSync(file))
      throw new ScenarioError(`${where(['config', 'processor'])}: config.processor: no such file: ${file}`);
  }
  const payload = script.config.payload;
  for (const [i, spec] of (Array.isArray(payload) ? payload : payload ? [payload] : []).entries()) {
    const at = Array.isArray(payload) ? ['config', 'payload', i] : ['config', 'payload'];
    if (typeof spec?.path !== 'string')
      throw new ScenarioError(`${where(at)}: ${at.join('.')}.path: expected the CSV file's path`);
    const file = resolve(dirname(path), spec.path);
    if (!existsSync(file))
      throw new ScenarioError(`${where([...at, 'path'])}: ${at.join('.')}.path: no such file: ${file}`);
    try {
      payloadRows(file, spec);
    } catch (err) {
      throw new ScenarioError(
        `${where([...at, 'path'])}: ${at.join('.')}: ${file}: ${(err as Error).message}`,
      );
    }
  }
}

/** Steps the HTTP engine runs itself; any other is a request named by its first key. */
const CONTROL_STEPS = new Set(['loop', 'parallel', 'think', 'log', 'function']);
/** The methods Node's HTTP client knows (PURGE, PROPFIND, ... included). */
const NODE_METHODS = new Set(METHODS);

/** Bad scenario file: exit code 2, with the file, line and problem. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

const loadtestSchema = z.strictObject({
  /** What the capacity gate enforces (over the project's `capacity`). */
  capacity: gateCapacitySchema.optional(),
  thresholds: z.record(z.string(), z.array(z.string()).or(z.string())).optional(),
  /** The traffic expected in production (over the project's `forecast`). */
  forecast: forecastConfigSchema.optional(),
  /** Parameters for the project's data command (LOADTEST_SEED): what and how much to seed. */
  seed: z.record(z.string(), z.unknown()).optional(),
  pricing: z
    .strictObject({
      region: z.string().optional(),
      readPerMillion: z.number().nonnegative().optional(),
      writePerMillion: z.number().nonnegative().optional(),
    })
    .optional(),
});
export type LoadtestConfig = z.infer<typeof loadtestSchema>;

/**
 * An Artillery phase, with its keys only: a misspelt one (`arivalRate`) would leave a phase Artillery
 * cannot run (its engine throws a TypeError mid-run), so it is refused here, where the line is known.
 */
const ENV_TEMPLATE = /^\s*\{\{\s*\$(?:env|processEnvironment)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/;

/**
 * A phase value as the artillery CLI takes it: a number, a number as text ("2"), or a template it
 * renders once at start. The environment's (`{{ $env.RATE }}` or `{{ $processEnvironment.RATE }}`)
 * is rendered here, where the file's line is known; another (`{{ rate }}` from `-v`) waits for the
 * run's variables and is checked once rendered (run's renderScriptTemplates).
 */
function phaseValue(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value !== 'string') return value;
  let text = value;
  const env = ENV_TEMPLATE.exec(value);
  if (env) {
    const name = env[1] as string;
    const set = process.env[name];
    if (set === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}": the environment variable ${name} is not set` });
      return z.NEVER;
    }
    text = set;
  } else if (isTemplate(value)) {
    return value;
  }
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text;
}

export const isTemplate = (value: unknown): value is string =>
  typeof value === 'string' && value.includes('{{');

/** A template not rendered yet: the run renders it, then checks what it became. */
const template = z
  .string()
  .refine(isTemplate, 'expected a number, a number as text ("2") or a {{ template }}');

const phaseNumber = <T extends z.ZodType>(schema: T) => z.preprocess(phaseValue, schema.or(template));

const seconds = z
  .union([z.number(), z.string()])
  .refine(
    (v) =>
      typeof v === 'number' ? Number.isInteger(v) && v > 0 : /^(\d+|\d+(\.\d+)?\s*(ms|s|m|h))$/.test(v),
    {
      message: 'expected whole seconds, or a time with its unit such as "1.5s" or "2m"',
    },
  );

const phase = z
  .strictObject({
    // Artillery takes whole seconds as a number, or a time with its unit ("1.5s", "500ms"): 1.5
    // alone stops its worker mid-run ("Invalid duration for phase").
    duration: phaseNumber(seconds).optional(),
    arrivalRate: phaseNumber(z.number().nonnegative()).optional(),
    arrivalCount: phaseNumber(z.number().int().nonnegative()).optional(),
    rampTo: phaseNumber(z.number().nonnegative()).optional(),
    pause: phaseNumber(seconds).optional(),
    maxVusers: phaseNumber(z.number().int().positive()).optional(),
    name: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.pause !== undefined) return;
    if (p.arrivalRate === undefined && p.arrivalCount === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a phase needs arrivalRate, arrivalCount or pause' });
    } else if (p.duration === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: `a phase with ${p.arrivalRate !== undefined ? 'arrivalRate' : 'arrivalCount'} needs a duration`,
      });
    }
  });

const phases = z.array(phase).min(1, 'needs at least one phase');

/**
 * Why phases that reach the script after it was loaded (`--overrides`, `--environment`) cannot run,
 * as `config.phases.0.duration: ...`; undefined when they can.
 */
export function phasesProblem(value: unknown): string | undefined {
  const parsed = phases.safeParse(value);
  if (parsed.success) return undefined;
  const issue = specificIssue(parsed.error.issues, phases);
  return `${['config', 'phases', ...issue.path].join('.')}: ${issue.message}`;
}

/**
 * Phases as the workers take them: numbers (a "2" or an environment template rendered), as the
 * file's are once loaded. For phases that came later (`--overrides`, `-e`), once they are checked.
 */
export function renderedPhases(value: unknown): Record<string, unknown>[] | undefined {
  const parsed = phases.safeParse(value);
  return parsed.success ? (parsed.data as Record<string, unknown>[]) : undefined;
}

const scriptSchema = z
  .object({
    config: z
      .object({
        target: z.string().optional(),
        phases,
        // An environment's phases replace the config's with -e: checked as those are.
        environments: z.record(z.string(), z.object({ phases: phases.optional() }).loose()).optional(),
        processor: z.string().optional(),
        loadtest: loadtestSchema.optional(),
        ensure: z
          .object({
            thresholds: z.array(z.record(z.string(), z.number())).optional(),
            conditions: z
              .array(z.object({ expression: z.string(), strict: z.boolean().optional() }))
              .optional(),
            maxErrorRate: z.number().optional(),
            p99: z.number().optional(),
            p95: z.number().optional(),
            max: z.number().optional(),
            median: z.number().optional(),
            min: z.number().optional(),
          })
          .loose()
          .optional(),
      })
      .loose(),
    scenarios: z
      .array(z.object({ flow: z.array(z.unknown()).min(1, 'a scenario needs at least one step') }).loose())
      .min(1, 'needs at least one scenario'),
  })
  .loose();

export interface EnsureCheck {
  readonly expression: string;
  readonly strict: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly script: ArtilleryScript;
  readonly loadtest: LoadtestConfig;
  readonly thresholds: Threshold[];
  readonly ensure: EnsureCheck[];
  /** The traffic to forecast each run at: the scenario's, else the project's. */
  readonly forecast?: ForecastConfig;
  /** The scenario set no thresholds (nor `ensure`) of its own: `thresholds` are DEFAULT_THRESHOLDS. */
  readonly defaultThresholds: boolean;
  /** Request names in the flows, in order of first appearance. */
  readonly requestNames: string[];
}

/** Anything with a slash or an extension is a path; else a name from the project's scenarios. */
export function isScenarioPath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.includes('\\') || extname(nameOrPath) !== '';
}

/** `smoke` -> <project scenarios>/smoke.yml; a path is taken as it is (relative to the cwd). */
export function resolveScenario(nameOrPath: string, scenariosDir: string, cwd = process.cwd()): string {
  if (isScenarioPath(nameOrPath)) return isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath);
  for (const ext of ['.yml', '.yaml']) {
    const candidate = join(scenariosDir, `${nameOrPath}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  throw new ScenarioError(`no scenario "${nameOrPath}" in ${scenariosDir} (see loadtest list)`);
}

function collectNames(steps: unknown, into: string[]): void {
  if (!Array.isArray(steps)) return;
  for (const step of steps) {
    if (!step || typeof step !== 'object') continue;
    const s = step as Record<string, unknown>;
    for (const m of HTTP_METHODS) {
      const req = s[m] as { name?: unknown; url?: unknown } | undefined;
      if (req && typeof req === 'object') {
        const name = requestName({ ...req, method: m });
        if (!into.includes(name)) into.push(name);
      }
    }
    if (Array.isArray(s.loop)) collectNames(s.loop, into);
    if (Array.isArray(s.parallel)) collectNames(s.parallel, into);
  }
}

/** Table and index names in a scenario's capacity must be the project's (when it knows its tables). */
function checkCapacity(
  capacity: LoadtestConfig['capacity'],
  project: Project,
  where: (keys: string[]) => string,
): void {
  if (!capacity || project.describeTables !== undefined) return;
  const tables = new Map(project.tables.map((t) => [t.name, t]));
  const gsis = (names: Iterable<string>) =>
    [...names].flatMap((n) => (tables.get(n)?.globalSecondaryIndexes ?? []).map((g) => g.name));
  const checkIndexes = (indexes: Record<string, unknown> | undefined, known: string[], keys: string[]) => {
    for (const name of Object.keys(indexes ?? {})) {
      if (!known.includes(name)) {
        throw new ScenarioError(
          `${where([...keys, 'indexes', name])}: config.loadtest.capacity.${[...keys, 'indexes', name].join('.')}: no GSI "${name}"; the GSIs: ${known.join(', ') || '(none)'}`,
        );
      }
    }
  };
  checkIndexes(capacity.indexes, gsis(tables.keys()), []);
  for (const [name, c] of Object.entries(capacity.tables ?? {})) {
    if (!tables.has(name)) {
      throw new ScenarioError(
        `${where(['tables', name])}: config.loadtest.capacity.tables.${name}: no table "${name}" in project ${project.name}; its tables: ${[...tables.keys()].join(', ') || '(none)'}`,
      );
    }
    checkIndexes(c.indexes, gsis([name]), ['tables', name]);
  }
}

/** Ensure-style expressions name metrics with dots; filtrex wants plain identifiers. */
export function ensureIdentifier(metric: string): string {
  return `m_${metric.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`;
}

/** The metric an identifier of ensureIdentifier's names (it escapes every other character). */
export function metricOfIdentifier(identifier: string): string {
  return identifier
    .slice(2)
    .replace(/_([0-9a-f]+)_/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

export function ensureChecks(
  ensure: NonNullable<z.infer<typeof scriptSchema>['config']['ensure']>,
): EnsureCheck[] {
  const checks: EnsureCheck[] = [];
  for (const t of ensure.thresholds ?? []) {
    for (const [metric, max] of Object.entries(t))
      checks.push({ expression: `${metric} < ${max}`, strict: true });
  }
  for (const c of ensure.conditions ?? [])
    checks.push({ expression: c.expression, strict: c.strict ?? true });
  for (const k of ['min', 'max', 'median', 'p95', 'p99'] as const) {
    const v = ensure[k];
    if (typeof v === 'number') checks.push({ expression: `http.response_time.${k} < ${v}`, strict: true });
  }
  if (typeof ensure.maxErrorRate === 'number') {
    checks.push({
      expression: `((vusers.created - vusers.completed) / vusers.created * 100) <= ${ensure.maxErrorRate}`,
      strict: true,
    });
  }
  return checks;
}

/** Rewrites dotted metric names in an ensure expression to identifiers. */
export function rewriteEnsureExpression(expression: string): string {
  return expression.replace(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_$-]+)+/g, (name) =>
    ensureIdentifier(name),
  );
}

type EnsureConfig = NonNullable<z.infer<typeof scriptSchema>['config']['ensure']>;

/**
 * What a scenario passes or fails on: its `config.loadtest` thresholds and its `config.ensure`
 * checks, each checked (pattern names, syntax), or the default gate when it has neither. `where` says
 * where a key is (the file's line, or the flag that brought it).
 */
function scenarioGate(
  loadtest: LoadtestConfig,
  ensureConfig: EnsureConfig | undefined,
  project: Project,
  requestNames: readonly string[],
  where: (keys: PropertyKey[]) => string,
): {
  thresholds: Threshold[];
  ensure: EnsureCheck[];
  defaultThresholds: boolean;
  expected: ForecastConfig | undefined;
} {
  const ids = patternIdsOf(project);
  const thresholds: Threshold[] = [];
  for (const [pattern, list] of Object.entries(loadtest.thresholds ?? {})) {
    const at = where(['config', 'loadtest', 'thresholds', pattern]);
    if (pattern !== '*' && !ids.includes(pattern) && !requestNames.includes(pattern)) {
      const others = requestNames.filter((n) => !ids.includes(n));
      throw new ScenarioError(
        `${at}: config.loadtest.thresholds: unknown access pattern "${pattern}"; the patterns of project ${project.name} (${project.file}): * ${ids.join(' ') || '(none declared)'}` +
          (others.length ? `; or a request name of this scenario: ${others.join(', ')}` : ''),
      );
    }
    // Unnamed, a request with a template in its URL is counted under each URL it resolves to.
    if (pattern.includes('{{') && !ids.includes(pattern))
      throw new ScenarioError(
        `${at}: config.loadtest.thresholds: "${pattern}" has a template in its URL: it is counted under each URL it resolves to, one row per URL, so no row has this name; give the request a name: and judge that`,
      );
    for (const text of Array.isArray(list) ? list : [list]) {
      try {
        thresholds.push(parseThreshold(pattern, text));
      } catch (err) {
        if (err instanceof ThresholdSyntaxError) {
          throw new ScenarioError(`${at}: config.loadtest.thresholds.${pattern}: ${err.message}`);
        }
        throw err;
      }
    }
  }
  const expected = loadtest.forecast ?? project.forecast;
  if (loadtest.forecast) {
    try {
      forecastOptions(loadtest.forecast);
    } catch (err) {
      if (err instanceof ForecastError)
        throw new ScenarioError(
          `${where(['config', 'loadtest', 'forecast'])}: config.loadtest.forecast: ${err.message}`,
        );
      throw err;
    }
  }
  const forecastGate = thresholds.find((t) => t.metric.startsWith('forecast.'));
  if (forecastGate && !expected) {
    throw new ScenarioError(
      `${where(['config', 'loadtest', 'thresholds', forecastGate.pattern])}: config.loadtest.thresholds.${forecastGate.pattern}: "${forecastGate.source}" needs the traffic to forecast: set config.loadtest.forecast.rate (or forecast.rate in project ${project.name})`,
    );
  }
  const ensure = ensureConfig ? ensureChecks(ensureConfig) : [];
  // A scenario with no gate of its own must not pass on errors: the default (documented) gate.
  const defaultThresholds = thresholds.length === 0 && ensure.length === 0;
  if (defaultThresholds) {
    thresholds.push(...DEFAULT_THRESHOLDS.map((t) => parseThreshold('*', t)));
    ensure.push(...DEFAULT_ENSURE);
  }
  for (const check of ensure) {
    try {
      compileExpression(rewriteEnsureExpression(check.expression));
    } catch (err) {
      // filtrex quotes the expression as rewritten (m_http_2e_codes...): its last line says what it wanted.
      const lines = (err as Error).message.split('\n');
      const wanted = lines.find((l) => l.startsWith('Expecting')) ?? lines[0];
      throw new ScenarioError(
        `${where(['config', 'ensure'])}: config.ensure: cannot parse "${check.expression}": ${wanted}`,
      );
    }
  }
  return { thresholds, ensure, defaultThresholds, expected };
}

/**
 * The scenario's gate again, after `--environment` or `--overrides` brought `config.loadtest` or
 * `config.ensure` of their own (merged over the file's with `merge`, the flag's own): judged as the
 * file's are, not dropped in silence. `label` names the flag in a message.
 */
export function regate(
  scenario: Scenario,
  project: Project,
  label: string,
  merge: (base: unknown, over: unknown) => unknown = mergeObjects,
): void {
  const config = scenario.script.config as Record<string, unknown>;
  const brought = config.loadtest;
  delete config.loadtest;
  const parsedLoadtest = loadtestSchema.safeParse(merge(scenario.loadtest, brought ?? {}));
  const ensureSchema = scriptSchema.shape.config.shape.ensure;
  const parsedEnsure = ensureSchema.safeParse(config.ensure);
  for (const [key, parsed] of [
    ['loadtest', parsedLoadtest],
    ['ensure', parsedEnsure],
  ] as const) {
    if (parsed.success) continue;
    const issue = specificIssue(parsed.error.issues, key === 'loadtest' ? loadtestSchema : ensureSchema);
    throw new ScenarioError(`${label}: ${['config', key, ...issue.path].join('.')}: ${issue.message}`);
  }
  const loadtest = parsedLoadtest.data as LoadtestConfig;
  const gate = scenarioGate(loadtest, parsedEnsure.data, project, scenario.requestNames, () => label);
  checkCapacity(loadtest.capacity, project, () => label);
  const mutable = scenario as { -readonly [K in keyof Scenario]: Scenario[K] };
  mutable.loadtest = loadtest;
  mutable.thresholds = gate.thresholds;
  mutable.ensure = gate.ensure;
  mutable.defaultThresholds = gate.defaultThresholds;
  if (gate.expected) mutable.forecast = gate.expected;
}

/** Objects merge key by key; anything else (arrays too) is replaced: Artillery's --overrides rule. */
export function mergeObjects(base: unknown, over: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = k in base ? mergeObjects(base[k], v) : structuredClone(v);
  return out;
}

/** Loads and checks a scenario against its project (pattern ids, tables, indexes). */
export function loadScenario(nameOrPath: string, project: Project, cwd = process.cwd()): Scenario {
  const path = resolveScenario(nameOrPath, project.scenariosDir, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${path}: cannot read: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return path;
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ScenarioError(`${where(e?.pos[0])}: YAML: ${e?.message.split('\n')[0] ?? 'invalid'}`);
  }
  const nodeAt = (keys: readonly PropertyKey[]) => {
    let at = keys.length;
    while (at >= 0) {
      const node = doc.getIn(keys.slice(0, at) as unknown[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node && (node.range || isMap(node) || isSeq(node))) return node.range?.[0];
      at -= 1;
    }
    return undefined;
  };
  const raw = doc.toJS() as unknown;
  const parsed = scriptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = specificIssue(parsed.error.issues, scriptSchema);
    const field = issue.path.join('.') || '(top level)';
    throw new ScenarioError(`${where(nodeAt(issue.at))}: ${field}: ${issue.message}`);
  }
  // Artillery picks a scenario by weight (default 1): with none above 0 its workers die picking one.
  const weights = parsed.data.scenarios.map((sc) => (typeof sc.weight === 'number' ? sc.weight : 1));
  if (weights.every((w) => w <= 0)) {
    throw new ScenarioError(
      `${where(nodeAt(['scenarios', 0, 'weight']))}: scenarios: every scenario has weight ${weights.length > 1 ? '0 or less' : weights[0]}: no virtual user would run one`,
    );
  }
  const script = parsed.data as unknown as ArtilleryScript;
  checkFiles(script, path, (keys) => where(nodeAt(keys)));
  const loadtest = (parsed.data.config.loadtest ?? {}) as LoadtestConfig;
  const requestNames: string[] = [];
  for (const s of parsed.data.scenarios) collectNames(s.flow, requestNames);

  checkSupported(raw as Record<string, unknown>, (keys) => where(nodeAt(keys)));
  const { thresholds, ensure, defaultThresholds, expected } = scenarioGate(
    loadtest,
    parsed.data.config.ensure,
    project,
    requestNames,
    (keys) => where(nodeAt(keys)),
  );
  checkCapacity(loadtest.capacity, project, (keys) =>
    where(nodeAt(['config', 'loadtest', 'capacity', ...keys])),
  );
  delete (script.config as Record<string, unknown>).loadtest;
  return {
    name: basename(path).replace(/\.ya?ml$/, ''),
    path,
    script,
    loadtest,
    thresholds,
    ensure,
    ...(expected ? { forecast: expected } : {}),
    defaultThresholds,
    requestNames,
  };
}
