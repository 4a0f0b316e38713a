/**
 * Edits to DynamoDB's JSON answers that leave every other byte as DynamoDB wrote it. JSON.parse and
 * JSON.stringify would re-serialise numbers (`3.0` becomes `3`) and could reorder nothing but still
 * change spacing; the gate changes only the members it has a reason to change (ConsumedCapacity,
 * what it asked for on the client's behalf, unprocessed items) and splices the rest through.
 */

/** Where one top-level member sits in the text: from its key's opening quote to its value's end. */
interface MemberSpan {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09]);

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && WHITESPACE.has(text.charCodeAt(i))) i += 1;
  return i;
}

/** The index just past the JSON string that opens at `at` (a `"`). */
function skipString(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i += 1;
  }
  throw new SyntaxError('unterminated string in JSON');
}

/** The index just past the JSON value that starts at `at`. */
function skipValue(text: string, at: number): number {
  const c = text[at];
  if (c === '"') return skipString(text, at);
  if (c === '{' || c === '[') {
    let depth = 0;
    let i = at;
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') {
        i = skipString(text, i);
        continue;
      }
      if (ch === '{' || ch === '[') depth += 1;
      else if (ch === '}' || ch === ']') {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
      i += 1;
    }
    throw new SyntaxError('unterminated object or array in JSON');
  }
  let i = at;
  while (i < text.length && !',}] \n\r\t'.includes(text[i] as string)) i += 1;
  return i;
}

/** The top-level members of a JSON object, in order; undefined when the text is not an object. */
export function topLevelMembers(text: string): MemberSpan[] | undefined {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return undefined;
  const members: MemberSpan[] = [];
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') return members;
  while (i < text.length) {
    if (text[i] !== '"') return undefined;
    const start = i;
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    i = skipWhitespace(text, i + 1);
    const end = skipValue(text, i);
    members.push({ name, start, end });
    i = skipWhitespace(text, end);
    if (text[i] === ',') {
      i = skipWhitespace(text, i + 1);
      continue;
    }
    if (text[i] === '}') return members;
    return undefined;
  }
  return undefined;
}

/**
 * The object with some top-level members replaced (by raw JSON text), removed (`undefined`) or, when
 * absent, appended; every other byte as it was. Returns undefined when the text is not an object.
 */
export function editMembers(
  text: string,
  edits: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const members = topLevelMembers(text);
  if (!members) return undefined;
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    seen.add(m.name);
    if (!Object.hasOwn(edits, m.name)) kept.push(text.slice(m.start, m.end));
    else {
      const value = edits[m.name];
      if (value !== undefined) kept.push(`${JSON.stringify(m.name)}:${value}`);
    }
  }
  for (const [name, value] of Object.entries(edits)) {
    if (!seen.has(name) && value !== undefined) kept.push(`${JSON.stringify(name)}:${value}`);
  }
  // The original's separators are dropped with the members: DynamoDB writes compact JSON.
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  return `${text.slice(0, open)}{${kept.join(',')}}${text.slice(close + 1)}`;
}

/**
 * A number as DynamoDB's Java service writes a double (Jackson, Double.toString): `1.0`, `0.5`,
 * `12.0`, and `1.2E7` from ten million on.
 */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  if (n === 0) return '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '0', exponent = '0'] = n.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** JSON text for a value, with every number written as a Java double (capacity figures). */
export function capacityJson(value: unknown): string {
  if (typeof value === 'number') return javaDouble(value);
  if (Array.isArray(value)) return `[${value.map(capacityJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${capacityJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}
