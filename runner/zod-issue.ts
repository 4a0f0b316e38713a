import { createRequire } from 'node:module';
import type { z } from 'zod';

/**
 * What a user must change, from zod's issues. A field that takes one of several shapes (a union:
 * `app` is a URL or an object, `port` a number or "auto") fails as a whole with zod's bare "Invalid
 * input"; the branch that got furthest into the value says which field inside it is wrong and why,
 * and when every branch stops at the field itself, the shapes it takes are listed. A misspelt key is
 * told before the required key it leaves missing (`partitonKey`, then "partitionKey: required").
 */
interface Specific {
  path: PropertyKey[];
  message: string;
  /** Where to point in the file: the misspelt key itself, not the first line of the object holding it. */
  at: PropertyKey[];
}

/**
 * specificIssue, and for a misspelt key, given the schema, the key it most likely meant:
 * `Unrecognized key: "globalSecondaryIndex" (did you mean "globalSecondaryIndexes"?)`.
 */
export function specificIssue(issues: readonly z.core.$ZodIssue[], schema?: z.ZodType): Specific {
  const found = firstSpecific(issues);
  const typo = found.at.length > found.path.length ? found.at.at(-1) : undefined;
  if (!schema || typeof typo !== 'string' || !found.message.startsWith('Unrecognized key')) return found;
  const known = keysAt(schema, found.path).filter((k) => k !== typo);
  // Loaded for a misspelt key only, not on every start.
  const { closest, distance } = createRequire(import.meta.url)('fastest-levenshtein') as {
    closest(word: string, candidates: readonly string[]): string;
    distance(a: string, b: string): number;
  };
  const near = known.length > 0 ? closest(typo, known) : undefined;
  // Close enough to be a slip: a third of the key's letters at most (two for a short key).
  if (near === undefined || distance(typo, near) > Math.max(2, Math.floor(typo.length / 3))) return found;
  return { ...found, message: `${found.message} (did you mean "${near}"?)` };
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Past the wrappers (optional, default, a preprocess, ...) to the schema that has the shape. */
function unwrapped(s: unknown): unknown {
  for (let i = 0; i < 20; i += 1) {
    const def = defOf(s);
    if (!def) return s;
    if (
      ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type)
    )
      s = def.innerType;
    else if (def.type === 'pipe') s = defOf(def.out)?.type === 'transform' ? def.in : def.out;
    else if (def.type === 'lazy') s = (def.getter as () => unknown)();
    else return s;
  }
  return s;
}

/** The keys an object in the schema takes at `path` (every branch's, for a union). */
function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const at = (s: unknown, rest: readonly PropertyKey[]): string[] => {
    const u = unwrapped(s);
    const def = defOf(u);
    if (!def) return [];
    if (def.type === 'union') return (def.options as unknown[]).flatMap((o) => at(o, rest));
    if (def.type === 'intersection') return [...at(def.left, rest), ...at(def.right, rest)];
    if (rest.length === 0) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    const [key, ...more] = rest;
    if (def.type === 'object') return at((def.shape as Record<PropertyKey, unknown>)[key as string], more);
    if (def.type === 'array') return at(def.element, more);
    if (def.type === 'record') return at(def.valueType, more);
    if (def.type === 'tuple') return at((def.items as unknown[])[Number(key)], more);
    return [];
  };
  return [...new Set(at(schema, path))];
}

function firstSpecific(issues: readonly z.core.$ZodIssue[]): Specific {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return { path: [], message: 'invalid', at: [] };
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return {
      path: [...issue.path],
      message: issue.message,
      at: key === undefined ? [...issue.path] : [...issue.path, key],
    };
  }
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
    return { path: [...issue.path], message: issue.message, at: [...issue.path] };
  }
  // A branch refused for the value's type at the field itself is a shape the value is not.
  let furthest: z.core.$ZodIssue[] | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first || (first.code === 'invalid_type' && first.path.length === 0)) continue;
    if (!furthest?.[0] || first.path.length > furthest[0].path.length) furthest = branch;
  }
  const chosen = furthest?.[0];
  if (furthest && chosen && (chosen.path.length > 0 || chosen.code !== 'invalid_value')) {
    const inner = firstSpecific(furthest);
    return { path: [...issue.path, ...inner.path], message: inner.message, at: [...issue.path, ...inner.at] };
  }
  const shapes = issue.errors.flatMap((branch) => {
    const first = branch[0];
    if (!first) return [];
    if (first.code === 'invalid_type') return [first.expected];
    if (first.code === 'invalid_value') return first.values.map((v) => JSON.stringify(v));
    return [first.message];
  });
  const received = /received (\w+)$/.exec(issue.errors[0]?.[0]?.message ?? '')?.[1];
  return {
    path: [...issue.path],
    at: [...issue.path],
    message: `${received === 'undefined' ? 'required' : 'Invalid input'}: expected ${[...new Set(shapes)].join(' or ')}${received && received !== 'undefined' ? `, received ${received}` : ''}`,
  };
}
