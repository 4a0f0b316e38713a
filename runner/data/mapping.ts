import { z } from 'zod';
import type { MapContext, Mapped, RowMapper, TableItem } from './import.js';
import { isPlainObject, unwrapObjectIdText } from './values.js';

/**
 * A mapping written as data, for YAML and JSON project configs (TS/JS configs may also give a
 * function). Per entity: rows to skip, and the items a row becomes, each attribute either a template
 * (`"ORDER#{_id}"`: source fields in braces, dotted paths into objects) or a field with a type
 * (`{ from: total, type: number, default: 0 }`). Types coerce the way exports need: a number or an
 * ObjectId to a string, numeric text to a number, `$date`s and epoch numbers to ISO 8601.
 */
const TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'list', 'map', 'any'] as const;
type FieldType = (typeof TYPES)[number];

const fieldSchema = z.strictObject({
  /** The source field (a dotted path); a template in braces is allowed too. */
  from: z.string().min(1),
  type: z.enum(TYPES).default('any'),
  /** Used when the source has no value; `now` for a date is the import's time. */
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  /** Missing and no default: the row is rejected (default true without a default). */
  required: z.boolean().optional(),
});

const attributeSchema = z.union([z.string(), z.number(), z.boolean(), fieldSchema]);

export const declarativeEntitySchema = z.strictObject({
  /** Rows whose field equals one of these values are skipped (counted, not rejected). */
  skip: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))).optional(),
  /** The items one row becomes (the first names the row: duplicates are told by its key). */
  items: z.array(z.record(z.string(), attributeSchema)).min(1),
});

export type DeclarativeEntity = z.output<typeof declarativeEntitySchema>;
export type DeclarativeEntityInput = z.input<typeof declarativeEntitySchema>;

/** The value at a dotted path (`writer.$oid`, `items.0.id`). */
function at(row: Record<string, unknown>, path: string): unknown {
  let v: unknown = row;
  for (const part of path.split('.')) {
    if (isPlainObject(v)) v = v[part];
    else if (Array.isArray(v) && /^\d+$/.test(part)) v = v[Number(part)];
    else return undefined;
  }
  return v;
}

class RowProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function scalarText(v: unknown, field: string): string {
  const u = unwrapObjectIdText(v);
  if (typeof u === 'string') return u;
  if (typeof u === 'number' || typeof u === 'boolean') return String(u);
  throw new RowProblem(field, `expected text, got ${Array.isArray(u) ? 'a list' : typeof u}`);
}

function coerce(v: unknown, type: FieldType, field: string): unknown {
  switch (type) {
    case 'any':
      return v;
    case 'string':
      return scalarText(v, field);
    case 'number':
    case 'integer': {
      const n =
        typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) throw new RowProblem(field, `expected a number, got ${JSON.stringify(v)}`);
      if (type === 'integer' && !Number.isInteger(n))
        throw new RowProblem(field, `expected a whole number, got ${JSON.stringify(v)}`);
      return n;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new RowProblem(field, `expected true or false, got ${JSON.stringify(v)}`);
    case 'date': {
      const ms =
        typeof v === 'number'
          ? Math.abs(v) < 1e11
            ? v * 1000
            : v
          : typeof v === 'string'
            ? Date.parse(
                /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v.replace(' ', 'T')}Z` : v,
              )
            : Number.NaN;
      if (!Number.isFinite(ms)) throw new RowProblem(field, `expected a date, got ${JSON.stringify(v)}`);
      return new Date(ms).toISOString();
    }
    case 'list':
      if (Array.isArray(v)) return v;
      throw new RowProblem(field, `expected a list, got ${typeof v}`);
    case 'map':
      if (isPlainObject(v)) return v;
      throw new RowProblem(field, `expected an object, got ${Array.isArray(v) ? 'a list' : typeof v}`);
  }
}

const TEMPLATE = /\{([^{}]+)\}/g;
const HAS_TEMPLATE = /\{[^{}]+\}/;

/** `"ORDER#{_id}"` with the row's values; a missing field rejects the row, naming it. */
function fill(template: string, row: Record<string, unknown>): string {
  return template.replace(TEMPLATE, (_m, path: string) => {
    const v = at(row, path.trim());
    if (v === undefined || v === null || v === '') throw new RowProblem(path.trim(), 'is missing');
    return scalarText(v, path.trim());
  });
}

function attribute(
  spec: DeclarativeEntity['items'][number][string],
  row: Record<string, unknown>,
  ctx: MapContext,
): unknown {
  if (typeof spec === 'number' || typeof spec === 'boolean') return spec;
  if (typeof spec === 'string') return HAS_TEMPLATE.test(spec) ? fill(spec, row) : spec;
  const raw = spec.from.includes('{') ? fill(spec.from, row) : at(row, spec.from);
  if (raw === undefined || raw === null || raw === '') {
    if (spec.default !== undefined) {
      return spec.type === 'date' && spec.default === 'now'
        ? ctx.now
        : coerce(spec.default, spec.type, spec.from);
    }
    if (spec.required === false) return undefined;
    throw new RowProblem(spec.from, 'is missing');
  }
  return coerce(raw, spec.type, spec.from);
}

/** The source fields every row of an entity must have (for a CSV header check). */
function requiredFields(entity: DeclarativeEntity): string[][] {
  const out = new Set<string>();
  for (const item of entity.items) {
    for (const spec of Object.values(item)) {
      const text = typeof spec === 'string' ? spec : typeof spec === 'object' ? spec.from : '';
      for (const m of text.matchAll(TEMPLATE)) out.add((m[1] as string).trim().split('.')[0] as string);
      if (
        typeof spec === 'object' &&
        !spec.from.includes('{') &&
        spec.default === undefined &&
        spec.required !== false
      )
        out.add(spec.from.split('.')[0] as string);
    }
  }
  return [...out].map((f) => [f]);
}

/** A RowMapper from declarative entities: the same contract as a function mapping. */
export function declarativeMapper(
  entities: Readonly<Record<string, DeclarativeEntity>>,
  options: { collections?: Readonly<Record<string, string>>; params?: Readonly<Record<string, string>> } = {},
): RowMapper {
  const names = Object.keys(entities);
  const known = new Map(
    names.map((n) => {
      const fields = new Set<string>();
      for (const f of requiredFields(entities[n] as DeclarativeEntity)) fields.add(f[0] as string);
      // A field a skip rule reads has its place: it decides the row, even when no attribute keeps it.
      for (const f of Object.keys((entities[n] as DeclarativeEntity).skip ?? {}))
        fields.add(f.split('.')[0] as string);
      for (const item of (entities[n] as DeclarativeEntity).items)
        for (const spec of Object.values(item))
          if (typeof spec === 'object') fields.add(spec.from.replace(TEMPLATE, '$1').split('.')[0] as string);
      return [n, fields];
    }),
  );
  return {
    entities: names,
    required: Object.fromEntries(names.map((n) => [n, requiredFields(entities[n] as DeclarativeEntity)])),
    ...(options.collections ? { collections: options.collections } : {}),
    ...(options.params ? { params: options.params } : {}),
    map(entity, row, ctx): Mapped {
      const spec = entities[entity];
      if (!spec) return { ok: false, error: `unknown entity ${entity}; known: ${names.join(', ')}` };
      const ignored = Object.keys(row).filter((k) => !known.get(entity)?.has(k));
      for (const [field, values] of Object.entries(spec.skip ?? {})) {
        const v = at(row, field);
        if (values.some((x) => x === v || (x === null && v === undefined)))
          return { ok: true, items: [], ignored };
      }
      try {
        const items: TableItem[] = spec.items.map((item) => {
          const out: TableItem = {};
          for (const [name, a] of Object.entries(item)) {
            const v = attribute(a, row, ctx);
            if (v !== undefined) out[name] = v;
          }
          return out;
        });
        return { ok: true, items, ignored };
      } catch (err) {
        if (err instanceof RowProblem) return { ok: false, error: err.message, field: err.field };
        throw err;
      }
    },
  };
}
