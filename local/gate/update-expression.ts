import type { Item } from './capacity.js';

/**
 * An UpdateExpression applied to an item, to know the size of the item it would write. The gate needs
 * it where DynamoDB charges for an image nobody shows it: a conditional update that failed (charged
 * as if it had succeeded) and an Update inside a transaction (DynamoDB Local's transaction figures
 * are wrong, so the gate sizes each item itself). It follows the Developer Guide's "Update
 * expressions": SET (with `+`, `-`, `if_not_exists`, `list_append`), REMOVE, ADD, DELETE, every
 * operand read from the item as it was before the update.
 */
type Value = Item[string];

export class UpdateExpressionError extends Error {
  override readonly name = 'UpdateExpressionError';
}

type PathStep = string | number;

type Operand =
  | { kind: 'path'; path: PathStep[] }
  | { kind: 'value'; name: string }
  | { kind: 'if_not_exists'; path: PathStep[]; fallback: Operand }
  | { kind: 'list_append'; a: Operand; b: Operand }
  | { kind: 'arith'; op: '+' | '-'; a: Operand; b: Operand };

type Action =
  | { kind: 'SET'; path: PathStep[]; value: Operand }
  | { kind: 'REMOVE'; path: PathStep[] }
  | { kind: 'ADD' | 'DELETE'; path: PathStep[]; value: Operand };

const TOKEN = /\s*(#[\w]+|:[\w]+|[A-Za-z_][\w]*|\d+|[(),=+\-.[\]])/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(expression);
    if (!m?.[1])
      throw new UpdateExpressionError(`cannot read the update expression at "${expression.slice(at)}"`);
    tokens.push(m[1]);
    at = TOKEN.lastIndex;
  }
  return tokens;
}

const CLAUSES = new Set(['SET', 'REMOVE', 'ADD', 'DELETE']);

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: string[],
    private readonly names: Readonly<Record<string, string>>,
  ) {}

  private peek(): string | undefined {
    return this.tokens[this.i];
  }

  private next(): string {
    const t = this.tokens[this.i];
    if (t === undefined) throw new UpdateExpressionError('the update expression ends too early');
    this.i += 1;
    return t;
  }

  private expect(token: string): void {
    const t = this.next();
    if (t !== token)
      throw new UpdateExpressionError(`expected "${token}" in the update expression, found "${t}"`);
  }

  actions(): Action[] {
    const out: Action[] = [];
    while (this.peek() !== undefined) {
      const clause = this.next().toUpperCase();
      if (!CLAUSES.has(clause)) throw new UpdateExpressionError(`unknown update clause "${clause}"`);
      do {
        const path = this.path();
        if (clause === 'SET') {
          this.expect('=');
          out.push({ kind: 'SET', path, value: this.setValue() });
        } else if (clause === 'REMOVE') out.push({ kind: 'REMOVE', path });
        else out.push({ kind: clause as 'ADD' | 'DELETE', path, value: this.operand() });
      } while (this.peek() === ',' && this.next() === ',');
    }
    return out;
  }

  private name(token: string): string {
    if (token.startsWith('#')) {
      const name = this.names[token];
      if (name === undefined) throw new UpdateExpressionError(`${token} is not in ExpressionAttributeNames`);
      return name;
    }
    return token;
  }

  private path(): PathStep[] {
    const steps: PathStep[] = [this.name(this.next())];
    for (;;) {
      if (this.peek() === '.') {
        this.next();
        steps.push(this.name(this.next()));
      } else if (this.peek() === '[') {
        this.next();
        steps.push(Number(this.next()));
        this.expect(']');
      } else return steps;
    }
  }

  private setValue(): Operand {
    const a = this.operand();
    const op = this.peek();
    if (op === '+' || op === '-') {
      this.next();
      return { kind: 'arith', op, a, b: this.operand() };
    }
    return a;
  }

  private operand(): Operand {
    const t = this.peek() ?? '';
    if (t.startsWith(':')) {
      this.next();
      return { kind: 'value', name: t };
    }
    const fn = t.toLowerCase();
    if ((fn === 'if_not_exists' || fn === 'list_append') && this.tokens[this.i + 1] === '(') {
      this.next();
      this.next();
      if (fn === 'if_not_exists') {
        const path = this.path();
        this.expect(',');
        const fallback = this.operand();
        this.expect(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      const a = this.operand();
      this.expect(',');
      const b = this.operand();
      this.expect(')');
      return { kind: 'list_append', a, b };
    }
    return { kind: 'path', path: this.path() };
  }
}

/** `123.40` -> 12340n scaled by 2: exact decimal arithmetic for ADD and SET a = a + :n. */
function decimal(n: string): { digits: bigint; scale: number } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(n.trim());
  if (!m) throw new UpdateExpressionError(`"${n}" is not a number`);
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  let digits = BigInt(`${sign}${int}${frac}` || '0');
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

export function addNumbers(a: string, b: string, negate = false): string {
  const x = decimal(a);
  const y = decimal(b);
  const scale = Math.max(x.scale, y.scale);
  const sum =
    x.digits * 10n ** BigInt(scale - x.scale) +
    (negate ? -1n : 1n) * y.digits * 10n ** BigInt(scale - y.scale);
  const negative = sum < 0n;
  let text = (negative ? -sum : sum).toString().padStart(scale + 1, '0');
  if (scale > 0) text = `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, '');
  return `${negative ? '-' : ''}${text}`;
}

function get(item: Item, path: readonly PathStep[]): Value | undefined {
  let v: Value | undefined = { M: item };
  for (const step of path) {
    if (v === undefined) return undefined;
    if (typeof step === 'number') v = v.L?.[step];
    else v = v.M?.[step];
  }
  return v;
}

function put(item: Item, path: readonly PathStep[], value: Value | undefined): void {
  const last = path[path.length - 1];
  const parent = path.length === 1 ? ({ M: item } as Value) : get(item, path.slice(0, -1));
  if (parent === undefined || last === undefined) return;
  if (typeof last === 'number') {
    const list = parent.L;
    if (!list) return;
    if (value === undefined) list.splice(last, 1);
    else if (last >= list.length) list.push(value);
    else list[last] = value;
  } else if (parent.M) {
    if (value === undefined) delete parent.M[last];
    else parent.M[last] = value;
  }
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * The item after the update (a new object; `before` is not changed). An item that did not exist
 * starts from the key, as DynamoDB's upsert does.
 */
export function applyUpdate(
  before: Item | undefined,
  key: Item,
  expression: string,
  names: Readonly<Record<string, string>> = {},
  values: Readonly<Record<string, Value>> = {},
): Item {
  const old = clone(before ?? key);
  const after = clone(old);
  const actions = new Parser(tokenize(expression), names).actions();
  const placeholder = (name: string): Value => {
    const v = values[name];
    if (v === undefined) throw new UpdateExpressionError(`${name} is not in ExpressionAttributeValues`);
    return v;
  };
  const evaluate = (o: Operand): Value | undefined => {
    switch (o.kind) {
      case 'value':
        return placeholder(o.name);
      case 'path':
        return get(old, o.path);
      case 'if_not_exists':
        return get(old, o.path) ?? evaluate(o.fallback);
      case 'list_append':
        return { L: [...(evaluate(o.a)?.L ?? []), ...(evaluate(o.b)?.L ?? [])] };
      case 'arith': {
        const a = evaluate(o.a)?.N;
        const b = evaluate(o.b)?.N;
        if (a === undefined || b === undefined) return undefined;
        return { N: addNumbers(a, b, o.op === '-') };
      }
    }
  };
  // Every operand reads the old item; the writes then happen in order (REMOVE of list elements from
  // the highest index down, so earlier removals do not shift later ones).
  const writes: { path: PathStep[]; value: Value | undefined }[] = [];
  for (const a of actions) {
    if (a.kind === 'SET') writes.push({ path: a.path, value: clone(evaluate(a.value)) });
    else if (a.kind === 'REMOVE') writes.push({ path: a.path, value: undefined });
    else {
      const current = get(old, a.path);
      const operand = evaluate(a.value);
      writes.push({ path: a.path, value: addOrDelete(a.kind, current, operand) });
    }
  }
  writes.sort((x, y) => {
    const xi = x.value === undefined ? x.path[x.path.length - 1] : undefined;
    const yi = y.value === undefined ? y.path[y.path.length - 1] : undefined;
    return typeof xi === 'number' && typeof yi === 'number' ? yi - xi : 0;
  });
  for (const w of writes) put(after, w.path, w.value);
  return after;
}

function addOrDelete(
  kind: 'ADD' | 'DELETE',
  current: Value | undefined,
  operand: Value | undefined,
): Value | undefined {
  if (!operand) return current;
  if (operand.N !== undefined)
    return kind === 'ADD' ? { N: addNumbers(current?.N ?? '0', operand.N) } : current;
  for (const setKind of ['SS', 'NS', 'BS'] as const) {
    const extra = operand[setKind] as string[] | undefined;
    if (!extra) continue;
    const have = (current?.[setKind] as string[] | undefined) ?? [];
    const next = kind === 'ADD' ? [...new Set([...have, ...extra])] : have.filter((x) => !extra.includes(x));
    // A set cannot be empty: DELETE of its last elements removes the attribute.
    return next.length ? ({ [setKind]: next } as unknown as Value) : undefined;
  }
  return current;
}
