/**
 * Edits to DynamoDB's JSON answers that leave every other byte as DynamoDB wrote it. JSON.parse and
 * JSON.stringify would re-serialise numbers (`3.0` becomes `3`) and could reorder nothing but still
 * change spacing; the gate changes only the members it has a reason to change (ConsumedCapacity,
 * what it asked for on the client's behalf, unprocessed items) and splices the rest through.
 */

/** Where one top-level member sits in the text: from its key's opening quote to its value's end. */
export interface MemberSpan {
  readonly name: string;
  readonly start: number;
  /** Where its value starts (after the colon and any whitespace). */
  readonly value: number;
  readonly end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isWhitespace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i += 1;
  return i;
}

/**
 * The index just past the JSON string that opens at `at` (a `"`). It jumps from quote to quote with
 * indexOf (native) and counts the backslashes before each: an item's strings are most of its text.
 */
function skipString(text: string, at: number): number {
  let from = at + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw new SyntaxError('unterminated string in JSON');
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index just past the JSON value that starts at `at`. */
function skipValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return skipString(text, at);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    let i = at;
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === QUOTE) {
        i = skipString(text, i);
        continue;
      }
      if (ch === OPEN_BRACE || ch === OPEN_BRACKET) depth += 1;
      else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
      i += 1;
    }
    throw new SyntaxError('unterminated object or array in JSON');
  }
  let i = at;
  for (; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch === COMMA || ch === CLOSE_BRACE || ch === CLOSE_BRACKET || isWhitespace(ch)) break;
  }
  return i;
}

/** A member's name: its text between the quotes, unless it has escapes to decode. */
function memberName(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

/** The top-level members of a JSON object, in order; undefined when the text is not an object. */
export function topLevelMembers(text: string): MemberSpan[] | undefined {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  const members: MemberSpan[] = [];
  i = skipWhitespace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return members;
  while (i < text.length) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const start = i;
    const keyEnd = skipString(text, i);
    const name = memberName(text, i, keyEnd);
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return undefined;
    const value = skipWhitespace(text, i + 1);
    const end = skipValue(text, value);
    members.push({ name, start, value, end });
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === COMMA) {
      i = skipWhitespace(text, i + 1);
      continue;
    }
    if (text.charCodeAt(i) === CLOSE_BRACE) return members;
    return undefined;
  }
  return undefined;
}

/** Stands for a member that is there but was not read (see readMembers). */
export const UNREAD: unique symbol = Symbol('member not read');

/**
 * A JSON object as JSON.parse would give it, each member's value parsed on its own, except members
 * `unread` names: those are present with the value UNREAD. The gate reads an answer's capacity and
 * counts but never its items, which are most of its bytes; and it keeps the spans, so an edit
 * afterwards (editMembers) needs no second scan. Undefined when the text is not a JSON object.
 */
export function readMembers(
  text: string,
  unread: ReadonlySet<string> = new Set(),
): { value: Record<string, unknown>; members: MemberSpan[] } | undefined {
  let members: MemberSpan[] | undefined;
  try {
    members = topLevelMembers(text);
  } catch {
    return undefined;
  }
  if (!members) return undefined;
  const value: Record<string, unknown> = {};
  for (const m of members) {
    let v: unknown = UNREAD;
    if (!unread.has(m.name)) {
      try {
        v = JSON.parse(text.slice(m.value, m.end));
      } catch {
        return undefined;
      }
    }
    // `__proto__` is an own member in JSON.parse's result, not the object's prototype.
    if (m.name === '__proto__')
      Object.defineProperty(value, m.name, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else value[m.name] = v;
  }
  return { value, members };
}

/**
 * The object with some top-level members replaced (by raw JSON text), removed (`undefined`) or, when
 * absent, appended; every other byte as it was. Returns undefined when the text is not an object.
 * `members`: the text's spans, when the caller has them already (readMembers).
 */
export function editMembers(
  text: string,
  edits: Readonly<Record<string, string | undefined>>,
  members: readonly MemberSpan[] | undefined = topLevelMembers(text),
): string | undefined {
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
