import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './capacity.js';

/**
 * Just enough of DynamoDB's PartiQL to meter and throttle a statement like the item operation it
 * stands for (Developer Guide, "PartiQL - a SQL-compatible query language for Amazon DynamoDB"):
 * which table or index, which key it names (equalities joined by AND in WHERE, or the key of an
 * INSERTed item), and for UPDATE the SET/REMOVE clauses as an UpdateExpression the gate can apply.
 * DynamoDB Local answers PartiQL without any ConsumedCapacity, so the gate's figure is the only one.
 */
export type PartiqlAction = 'select' | 'insert' | 'update' | 'delete' | 'exists';

export interface PartiqlStatement {
  readonly action: PartiqlAction;
  readonly table: string;
  readonly index?: string;
  /** Top-level `attr = value` conditions of WHERE joined by AND (the key, when it names one). */
  readonly equalities: Readonly<Record<string, AttributeValue>>;
  /** INSERT: the item. */
  readonly item?: Item;
  /** UPDATE: its SET/REMOVE clauses as an UpdateExpression, with names and values. */
  readonly update?: {
    readonly expression: string;
    readonly names: Record<string, string>;
    readonly values: Record<string, AttributeValue>;
  };
}

export class PartiqlError extends Error {
  override readonly name = 'PartiqlError';
}

interface Token {
  readonly kind: 'string' | 'ident' | 'quoted' | 'number' | 'param' | 'punct';
  readonly text: string;
  /** For `param`: its position among the statement's `?`. */
  readonly param?: number;
}

const PUNCT = [
  '<<',
  '>>',
  '<=',
  '>=',
  '<>',
  '!=',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  ',',
  '.',
  '=',
  ':',
  '<',
  '>',
  '+',
  '-',
  '*',
];

function tokenize(statement: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let params = 0;
  while (i < statement.length) {
    const c = statement[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= statement.length) throw new PartiqlError('an unterminated string in the statement');
        if (statement[j] === c) {
          if (statement[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += statement[j];
        j += 1;
      }
      out.push({ kind: c === "'" ? 'string' : 'quoted', text });
      i = j + 1;
      continue;
    }
    if (c === '?') {
      out.push({ kind: 'param', text: '?', param: params });
      params += 1;
      i += 1;
      continue;
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(statement.slice(i));
    if (number && (/\d/.test(c) || (c === '-' && /[\d.]/.test(statement[i + 1] ?? '')))) {
      // A minus after a value is an operator, not a sign.
      const previous = out[out.length - 1];
      if (
        c !== '-' ||
        !previous ||
        (previous.kind === 'punct' && previous.text !== ')' && previous.text !== ']')
      ) {
        out.push({ kind: 'number', text: number[0] });
        i += number[0].length;
        continue;
      }
    }
    const word = /^[A-Za-z_][\w$]*/.exec(statement.slice(i));
    if (word) {
      out.push({ kind: 'ident', text: word[0] });
      i += word[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => statement.startsWith(p, i));
    if (!punct) throw new PartiqlError(`cannot read the statement at "${statement.slice(i, i + 20)}"`);
    out.push({ kind: 'punct', text: punct });
    i += punct.length;
  }
  return out;
}

const keyword = (t: Token | undefined, word: string) => t?.kind === 'ident' && t.text.toUpperCase() === word;

class Reader {
  i = 0;
  constructor(
    readonly tokens: Token[],
    private readonly parameters: readonly AttributeValue[],
  ) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  next(): Token {
    const t = this.tokens[this.i];
    if (!t) throw new PartiqlError('the statement ends too early');
    this.i += 1;
    return t;
  }

  punct(text: string): boolean {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text === text) {
      this.i += 1;
      return true;
    }
    return false;
  }

  expect(text: string): void {
    if (!this.punct(text)) throw new PartiqlError(`expected "${text}" in the statement`);
  }

  /** A table or attribute name: `name` or `"name"`. */
  name(): string {
    const t = this.next();
    if (t.kind !== 'ident' && t.kind !== 'quoted')
      throw new PartiqlError(`expected a name, found "${t.text}"`);
    return t.text;
  }

  /** A literal value (or a `?` parameter) as an AttributeValue. */
  value(): AttributeValue {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { S: t.text };
      case 'number':
        return { N: t.text };
      case 'param': {
        const v = this.parameters[t.param ?? -1];
        if (!v) throw new PartiqlError(`parameter ${(t.param ?? 0) + 1} is missing from Parameters`);
        return v;
      }
      case 'ident': {
        const w = t.text.toUpperCase();
        if (w === 'TRUE' || w === 'FALSE') return { BOOL: w === 'TRUE' };
        if (w === 'NULL') return { NULL: true };
        throw new PartiqlError(`"${t.text}" is not a value`);
      }
      case 'punct': {
        if (t.text === '{') {
          const M: Record<string, AttributeValue> = {};
          if (!this.punct('}')) {
            do {
              const k = this.next();
              if (k.kind !== 'string' && k.kind !== 'quoted' && k.kind !== 'ident')
                throw new PartiqlError('a map key must be a string');
              this.expect(':');
              M[k.text] = this.value();
            } while (this.punct(','));
            this.expect('}');
          }
          return { M };
        }
        if (t.text === '[') {
          const L: AttributeValue[] = [];
          if (!this.punct(']')) {
            do L.push(this.value());
            while (this.punct(','));
            this.expect(']');
          }
          return { L };
        }
        if (t.text === '<<') {
          const members: AttributeValue[] = [];
          do members.push(this.value());
          while (this.punct(','));
          this.expect('>>');
          if (members.every((m) => m.N !== undefined)) return { NS: members.map((m) => m.N as string) };
          return { SS: members.map((m) => m.S ?? '') };
        }
        throw new PartiqlError(`"${t.text}" is not a value`);
      }
      default:
        throw new PartiqlError(`"${t.text}" is not a value`);
    }
  }
}

/** `FROM "table"."index"`: the table and, when named, the index. */
function target(r: Reader): { table: string; index?: string } {
  const table = r.name();
  if (r.punct('.')) return { table, index: r.name() };
  return { table };
}

/** The `attr = literal` conditions of a WHERE clause that are joined by AND at the top level. */
function equalities(r: Reader): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  let depth = 0;
  let sawOr = false;
  while (r.peek()) {
    const t = r.peek() as Token;
    if (depth === 0 && (keyword(t, 'RETURNING') || keyword(t, 'ORDER'))) break;
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[' || t.text === '{' || t.text === '<<'))
      depth += 1;
    if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}' || t.text === '>>'))
      depth -= 1;
    if (depth === 0 && keyword(t, 'OR')) sawOr = true;
    const eq = r.peek(1);
    if (
      depth === 0 &&
      (t.kind === 'ident' || t.kind === 'quoted') &&
      eq?.kind === 'punct' &&
      eq.text === '='
    ) {
      const before = r.tokens[r.i - 1];
      const standalone = !before || keyword(before, 'WHERE') || keyword(before, 'AND');
      const after = r.peek(2);
      const literal = after && after.kind !== 'ident' && after.kind !== 'quoted';
      if (standalone && literal) {
        r.i += 2;
        const save = r.i;
        try {
          out[t.text] = r.value();
          continue;
        } catch {
          r.i = save;
        }
      }
    }
    r.i += 1;
  }
  // An OR at the top level may name other keys: none of the equalities pins the call down.
  return sawOr ? {} : out;
}

/** UPDATE's SET and REMOVE clauses, rewritten as an UpdateExpression with placeholders. */
function updateClauses(r: Reader): NonNullable<PartiqlStatement['update']> {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  let clause: 'SET' | 'REMOVE' | undefined;
  let current: string[] = [];
  const flush = () => {
    if (current.length && clause) (clause === 'SET' ? sets : removes).push(current.join(' '));
    current = [];
  };
  while (r.peek() && !keyword(r.peek(), 'WHERE')) {
    const t = r.peek() as Token;
    if (keyword(t, 'SET') || keyword(t, 'REMOVE')) {
      flush();
      clause = t.text.toUpperCase() as 'SET' | 'REMOVE';
      r.i += 1;
      continue;
    }
    if (t.kind === 'punct' && t.text === ',') {
      flush();
      r.i += 1;
      continue;
    }
    if (t.kind === 'quoted' || (t.kind === 'ident' && r.peek(1)?.text !== '(')) {
      const placeholder = `#p${Object.keys(names).length}`;
      names[placeholder] = t.text;
      current.push(placeholder);
      r.i += 1;
      continue;
    }
    if (
      t.kind === 'ident' ||
      (t.kind === 'punct' && ['=', '+', '-', '(', ')', '.', '[', ']'].includes(t.text))
    ) {
      current.push(t.text);
      r.i += 1;
      // A list index stays a number.
      if (t.text === '[' && r.peek()?.kind === 'number') current.push(r.next().text);
      continue;
    }
    const placeholder = `:p${Object.keys(values).length}`;
    values[placeholder] = r.value();
    current.push(placeholder);
  }
  flush();
  const parts = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ];
  return {
    expression: parts
      .filter(Boolean)
      .join(' ')
      .replace(/ ?([.[\]]) ?/g, '$1'),
    names,
    values,
  };
}

/** Reads one statement; throws PartiqlError for what it cannot read (DynamoDB then answers it). */
export function parsePartiql(
  statement: string,
  parameters: readonly AttributeValue[] = [],
): PartiqlStatement {
  const r = new Reader(tokenize(statement), parameters);
  const first = r.next();
  const verb = first.kind === 'ident' ? first.text.toUpperCase() : '';
  if (verb === 'EXISTS') {
    r.expect('(');
    const inner = parsePartiqlTokens(r);
    return { ...inner, action: 'exists' };
  }
  r.i = 0;
  return parsePartiqlTokens(r);
}

/** The equalities of a WHERE clause, if the statement has one. */
function where(r: Reader): Record<string, AttributeValue> {
  if (!keyword(r.peek(), 'WHERE')) return {};
  r.next();
  return equalities(r);
}

function parsePartiqlTokens(r: Reader): PartiqlStatement {
  const verb = r.next().text.toUpperCase();
  switch (verb) {
    case 'SELECT': {
      while (r.peek() && !keyword(r.peek(), 'FROM')) r.i += 1;
      r.next();
      const t = target(r);
      const eq = where(r);
      return { action: 'select', ...t, equalities: eq };
    }
    case 'INSERT': {
      if (!keyword(r.next(), 'INTO')) throw new PartiqlError('expected INSERT INTO');
      const t = target(r);
      if (!keyword(r.next(), 'VALUE')) throw new PartiqlError('expected VALUE after the table');
      const v = r.value();
      if (!v.M) throw new PartiqlError('INSERT needs a map VALUE');
      return { action: 'insert', ...t, equalities: {}, item: v.M as Item };
    }
    case 'UPDATE': {
      const t = target(r);
      const update = updateClauses(r);
      const eq = where(r);
      return { action: 'update', ...t, equalities: eq, update };
    }
    case 'DELETE': {
      if (!keyword(r.next(), 'FROM')) throw new PartiqlError('expected DELETE FROM');
      const t = target(r);
      const eq = where(r);
      return { action: 'delete', ...t, equalities: eq };
    }
    default:
      throw new PartiqlError(`"${verb}" is not a PartiQL statement DynamoDB runs`);
  }
}
