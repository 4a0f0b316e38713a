import type { z } from 'zod';

/**
 * What a user must change, from zod's issues. A field that takes one of several shapes (a union:
 * `app` is a URL or an object, `port` a number or "auto") fails as a whole with zod's bare "Invalid
 * input"; the branch that got furthest into the value says which field inside it is wrong and why,
 * and when every branch stops at the field itself, the shapes it takes are listed. A misspelt key is
 * told before the required key it leaves missing (`partitonKey`, then "partitionKey: required").
 */
export function specificIssue(issues: readonly z.core.$ZodIssue[]): {
  path: PropertyKey[];
  message: string;
  /** Where to point in the file: the misspelt key itself, not the first line of the object holding it. */
  at: PropertyKey[];
} {
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
    const inner = specificIssue(furthest);
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
