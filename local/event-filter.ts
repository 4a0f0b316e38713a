/**
 * EventBridge content filtering (Pipes filters, SNS subscription filter policies), for the operators
 * projects use: exact values, prefix, numeric ranges, exists and anything-but. A pattern's field
 * lists the values any of which may match; an object descends into the event.
 */
type Matcher = string | number | boolean | null | Record<string, unknown>;

function matchOne(value: unknown, m: Matcher, present: boolean): boolean {
  if (m === null || typeof m !== 'object') return present && value === m;
  if ('exists' in m) return (m.exists === true) === present;
  if (!present) return false;
  if ('prefix' in m) return typeof value === 'string' && value.startsWith(String(m.prefix));
  if ('numeric' in m) {
    const num =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && value.trim() !== ''
          ? Number(value)
          : Number.NaN;
    if (Number.isNaN(num)) return false;
    const spec = m.numeric as (string | number)[];
    for (let i = 0; i + 1 < spec.length; i += 2) {
      const op = spec[i];
      const bound = Number(spec[i + 1]);
      const ok =
        op === '>'
          ? num > bound
          : op === '>='
            ? num >= bound
            : op === '<'
              ? num < bound
              : op === '<='
                ? num <= bound
                : op === '='
                  ? num === bound
                  : false;
      if (!ok) return false;
    }
    return true;
  }
  if ('anything-but' in m) {
    const but = m['anything-but'];
    if (but !== null && typeof but === 'object' && !Array.isArray(but))
      return !matchOne(value, but as Matcher, present);
    const list = Array.isArray(but) ? but : [but];
    return !list.includes(value as never);
  }
  throw new Error(`unsupported filter operator: ${Object.keys(m).join(', ')}`);
}

export function matchesPattern(event: unknown, pattern: Record<string, unknown>): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const container =
      event !== null && typeof event === 'object' ? (event as Record<string, unknown>) : undefined;
    const present = container !== undefined && key in container && container[key] !== undefined;
    const value = container?.[key];
    if (Array.isArray(rule)) {
      const values = Array.isArray(value) ? value : [value];
      if (!rule.some((m: Matcher) => values.some((v) => matchOne(v, m, present)))) return false;
    } else if (rule !== null && typeof rule === 'object') {
      if (!present || !matchesPattern(value, rule as Record<string, unknown>)) return false;
    } else {
      throw new Error(`pattern field ${key} must be an array of matchers or an object`);
    }
  }
  return true;
}
