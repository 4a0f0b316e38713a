import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CallShape, KeyClause, KeyOperator } from './protocol.js';

/**
 * Which access pattern a DynamoDB call belongs to: an explicit tag (the `x-loadtest-pattern` header)
 * first, else the most specific project rule that matches (the most key clauses; the first of
 * equals), else a name made from the call's shape with the values taken out
 * (`Query orders.byCustomer customerId = ?`). Pure: no I/O, no clock.
 *
 * A rule's key template is written like a key condition, with `{name}` standing for any value:
 *   `PK = USER#{email}`                 the partition key is USER#<something>
 *   `PK = USER#{email} AND begins_with(SK, ORDER#)`
 *   `customerId = {id} AND orderedAt BETWEEN {from} AND {to}`
 * A clause matches the call's clause on the same attribute with the same operator (for an item's
 * key, `=`), and a `begins_with` template also matches an exact key that begins with its text.
 */
export type AttributionSource = 'tag' | 'rule' | 'auto';

export interface PatternRule {
  readonly id: string;
  readonly table?: string;
  readonly index?: string;
  readonly operations?: readonly string[];
  /** The key template, as written. */
  readonly key?: string;
}

export class RuleSyntaxError extends Error {
  override name = 'RuleSyntaxError';
}

interface TemplateClause {
  readonly attr: string;
  readonly op: KeyOperator;
  /** One per value; `prefix` for begins_with (the call's value must start with a match). */
  readonly values: readonly RegExp[];
}

export interface CompiledRule {
  readonly rule: PatternRule;
  readonly clauses: readonly TemplateClause[];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `USER#{email}` -> /^USER#.+$/ ; a begins_with value matches any text that starts with it. */
function valueRegExp(template: string, prefix: boolean): RegExp {
  const parts = template.split(/(\{[^{}]*\})/).filter((p) => p !== '');
  const body = parts.map((p) => (/^\{[^{}]*\}$/.test(p) ? '.+' : escapeRegExp(p))).join('');
  return new RegExp(`^${body}${prefix ? '' : '$'}`, 's');
}

const TEMPLATE_CLAUSE =
  /^begins_with\s*\(\s*([^\s,()]+)\s*,\s*(.+?)\s*\)$|^([^\s=<>()]+)\s+BETWEEN\s+(.+?)\s+AND\s+(.+)$|^([^\s=<>()]+)\s*(<=|>=|=|<|>)\s*(.+)$/i;

/** Splits on AND, but not the AND of a BETWEEN. */
function splitClauses(template: string): string[] {
  const words = template.trim().split(/\s+AND\s+/i);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] ?? '';
    if (/\sBETWEEN\s/i.test(w) && i + 1 < words.length) {
      out.push(`${w} AND ${words[i + 1]}`);
      i += 1;
    } else out.push(w);
  }
  return out.map((c) => c.trim()).filter((c) => c !== '');
}

export function parseKeyTemplate(template: string): TemplateClause[] {
  const clauses = splitClauses(template);
  if (clauses.length === 0) throw new RuleSyntaxError('an empty key template');
  return clauses.map((text) => {
    const m = TEMPLATE_CLAUSE.exec(text);
    if (!m) {
      throw new RuleSyntaxError(
        `"${text}" is not a key clause: write <attribute> = <value>, begins_with(<attribute>, <prefix>), <attribute> BETWEEN <a> AND <b> or <attribute> <|<=|>|>= <value>, with {name} for any value`,
      );
    }
    if (m[1] && m[2]) return { attr: m[1], op: 'begins_with', values: [valueRegExp(m[2], true)] };
    if (m[3] && m[4] && m[5])
      return { attr: m[3], op: 'BETWEEN', values: [valueRegExp(m[4], false), valueRegExp(m[5], false)] };
    const value = m[8] ?? '';
    // `a == {x}` would read as a = "= {x}", a value no call has: the pattern would silently never match.
    if (/^[=<>]/.test(value)) {
      throw new RuleSyntaxError(
        `"${text}" is not a key clause: "${m[7]}${value[0]}" is not an operator (DynamoDB's are =, <, <=, > and >=)`,
      );
    }
    return { attr: m[6] ?? '', op: (m[7] ?? '=') as KeyOperator, values: [valueRegExp(value, false)] };
  });
}

export function compileRule(rule: PatternRule): CompiledRule {
  return { rule, clauses: rule.key ? parseKeyTemplate(rule.key) : [] };
}

function valueText(v: AttributeValue | undefined): string | undefined {
  if (!v) return undefined;
  const b = v.B as unknown;
  return v.S ?? v.N ?? (typeof b === 'string' ? b : undefined);
}

function valueMatches(re: RegExp | undefined, v: AttributeValue | undefined): boolean {
  const text = valueText(v);
  return re !== undefined && text !== undefined && re.test(text);
}

function clauseMatches(t: TemplateClause, c: KeyClause): boolean {
  if (t.attr !== c.attr) return false;
  if (t.op === 'begins_with')
    return (c.op === 'begins_with' || c.op === '=') && valueMatches(t.values[0], c.values[0]);
  if (t.op !== c.op) return false;
  for (let i = 0; i < t.values.length; i += 1) if (!valueMatches(t.values[i], c.values[i])) return false;
  return true;
}

function shapeMatches(rule: CompiledRule, shape: CallShape): boolean {
  const r = rule.rule;
  if (r.table !== undefined && r.table !== shape.table) return false;
  if (r.index !== undefined && r.index !== shape.index) return false;
  return rule.clauses.every((t) => shape.clauses.some((c) => clauseMatches(t, c)));
}

/** Operations that name items by the table's primary key: no index, `=` on each key attribute. */
const ITEM_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const PARTIQL_OPERATIONS = new Set(['ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction']);

/**
 * Why a rule limited to `operations` can match no call, or undefined when some call could match.
 * The shapes are parseCall's: item operations carry the table's key with `=` and no index, a Scan no
 * key clause, a PartiQL statement its `=` conditions. Such a rule would be accepted and then never
 * count a call, which is silent. `tableKey` is the rule's table's key, when known.
 */
export function whyNeverMatches(
  rule: { readonly operations?: readonly string[]; readonly index?: string },
  clauses: readonly TemplateClause[],
  tableKey?: { readonly partitionKey: string; readonly sortKey?: string | undefined },
): string | undefined {
  if (!rule.operations) return undefined;
  const why = (op: string): string | undefined => {
    if (rule.index !== undefined && ITEM_OPERATIONS.has(op))
      return `${op} reads no index (only Query, Scan and PartiQL statements name one)`;
    for (const c of clauses) {
      if (op === 'Scan') return 'a Scan has no key condition to match';
      const equality = c.op === '=' || c.op === 'begins_with';
      if (ITEM_OPERATIONS.has(op)) {
        const keys = tableKey ? [tableKey.partitionKey, ...(tableKey.sortKey ? [tableKey.sortKey] : [])] : [];
        if (tableKey && !keys.includes(c.attr))
          return `${op} names its item by the table's key (${keys.join(', ')}), never by ${c.attr}`;
        if (!equality) return `${op} names its item's key with =, never ${c.op}`;
      }
      if (PARTIQL_OPERATIONS.has(op) && !equality)
        return `a PartiQL statement is matched on its = conditions only, never ${c.op}`;
    }
    return undefined;
  };
  const reasons = rule.operations.map(why);
  if (reasons.some((r) => r === undefined)) return undefined;
  return [...new Set(reasons)].join('; ');
}

/** A rule matches a call when the operation fits and any of its items (a batch has many) fits. */
export function ruleMatches(rule: CompiledRule, op: string, shapes: readonly CallShape[]): boolean {
  if (rule.rule.operations && !rule.rule.operations.includes(op)) return false;
  if (shapes.length === 0) return rule.rule.table === undefined && rule.clauses.length === 0;
  return shapes.some((s) => shapeMatches(rule, s));
}

/**
 * A value with its values taken out. Single-table designs prefix keys with the entity (`USER#`,
 * `ORDER#`): that first segment is kept, since it tells the patterns apart and is not data.
 */
function blank(v: AttributeValue | undefined): string {
  const text = v?.S;
  const m = text !== undefined ? /^([A-Za-z][A-Za-z0-9_-]*#)/.exec(text) : null;
  return m ? `${m[1]}?` : '?';
}

function describeClause(c: KeyClause): string {
  if (c.op === 'begins_with') return `begins_with(${c.attr}, ${blank(c.values[0])})`;
  if (c.op === 'BETWEEN') return `${c.attr} BETWEEN ? AND ?`;
  return `${c.attr} ${c.op} ${blank(c.values[0])}`;
}

/** `Query orders.byCustomer customerId = ?`; batches and transactions name their tables only. */
export function automaticName(op: string, shapes: readonly CallShape[]): string {
  if (shapes.length === 0) return op;
  if (shapes.length > 1 || op.startsWith('Batch') || op.startsWith('Transact')) {
    const tables = [...new Set(shapes.map((s) => s.table))].sort();
    return `${op} ${tables.join(',')}`;
  }
  const s = shapes[0] as CallShape;
  const where = `${s.table}${s.index ? `.${s.index}` : ''}`;
  const clauses = s.clauses.map(describeClause).join(' AND ');
  return clauses ? `${op} ${where} ${clauses}` : `${op} ${where}`;
}

export interface Attribution {
  readonly id: string;
  readonly source: AttributionSource;
}

export const OTHER_PATTERN = '(other)';

/** Names calls; keeps the number of distinct names bounded so a stray value cannot grow memory. */
export class Attributor {
  private readonly rules: CompiledRule[];
  private readonly seen = new Set<string>();

  constructor(
    rules: readonly PatternRule[] = [],
    private readonly maxNames = 500,
  ) {
    this.rules = rules.map(compileRule);
  }

  /** The declared pattern ids, in order. */
  get ids(): string[] {
    return [...new Set(this.rules.map((r) => r.rule.id))];
  }

  attribute(op: string, shapes: readonly CallShape[], tag: string | undefined): Attribution {
    if (tag !== undefined && tag !== '') return { id: this.bounded(tag.slice(0, 200)), source: 'tag' };
    // The most specific rule that fits wins (most key clauses), the first of equals: a rule for
    // `PK = X AND SK BETWEEN ...` beats one for `PK = X` whatever their order in the config.
    let best: CompiledRule | undefined;
    for (const rule of this.rules) {
      if ((!best || rule.clauses.length > best.clauses.length) && ruleMatches(rule, op, shapes)) best = rule;
    }
    if (best) return { id: best.rule.id, source: 'rule' };
    return { id: this.bounded(automaticName(op, shapes)), source: 'auto' };
  }

  private bounded(id: string): string {
    if (this.seen.has(id)) return id;
    if (this.seen.size >= this.maxNames) return OTHER_PATTERN;
    this.seen.add(id);
    return id;
  }
}
