import { createHash } from 'node:crypto';
import {
  fromExtendedJson,
  isPlainObject,
  type Mapped,
  objectIdTime,
  type RowMapper,
  type TableItem,
  unwrapObjectIdText,
} from 'dynamo-loadtest';
import { z } from 'zod';
// The app's own request validation: an imported row must be something the app could have accepted.
import { addToCartBody, id as appIdSchema, newProductBody, registerBody } from '../http/schemas.js';
import { keys } from '../table.js';

/**
 * Pure mapping of exported rows (MongoDB Extended JSON, SQL/CSV exports) onto the shop's single-table
 * items, with the app's own key builders and validation. No I/O here.
 */
export const ENTITIES = ['user', 'product', 'order'] as const;
export type Entity = (typeof ENTITIES)[number];

export interface MapOptions {
  /** createdAt for rows that carry none (and whose `_id` is no ObjectId to read it from), ISO 8601. */
  readonly now: string;
  /** `imageBaseUrl`: relative image paths (`uploads/x.webp`, as the guide's shop stores them) are resolved against it. */
  readonly params?: Readonly<Record<string, string>>;
}

/** The parameters the shop's mapping takes (`loadtest import --param name=value`). */
export const PARAMS = {
  imageBaseUrl:
    'URL that relative image paths (uploads/x.webp) are resolved against, e.g. https://cdn.example.com/ (default: kept relative)',
} as const;

/** The guide's MongoDB collections, by name, to the entities they hold. */
export const COLLECTIONS = { users: 'user', products: 'product', orders: 'order' } as const;

export type { Mapped, TableItem };

/** The fields each entity reads; anything else is reported as ignored. */
const KNOWN: Record<Entity, ReadonlySet<string>> = {
  user: new Set(['_id', 'id', 'email', 'name', 'lastname', 'createdAt']),
  product: new Set([
    '_id',
    'id',
    'title',
    'description',
    'price',
    'category',
    'images',
    'sold',
    'createdAt',
    'writer',
  ]),
  // total and itemCount are recomputed from the lines, the way checkout computes them.
  order: new Set(['_id', 'id', 'email', 'status', 'createdAt', 'completedAt', 'items', 'total', 'itemCount']),
};
const KNOWN_LINE = new Set(['productId', 'title', 'price', 'quantity']);

/** Fields that must be there, per entity: a CSV header without one of them cannot yield a single row. */
export const REQUIRED_FIELDS: Record<Entity, readonly (readonly string[])[]> = {
  user: [['email'], ['name']],
  product: [['_id', 'id'], ['title'], ['description'], ['price'], ['category']],
  order: [['_id', 'id'], ['email'], ['status']],
};

// --- ids -----------------------------------------------------------------------------------------

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character Crockford base32 string (the shape of a ulid) from a hash of `parts`: same input, same id. */
export function deterministicId(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of hash) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += CROCKFORD[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= 0xff;
    if (out.length === 26) break;
  }
  return out;
}

/** The user's open cart id: fixed by the email, so a re-import gives the same cart and an imported open cart is found. */
export function cartIdFor(email: string): string {
  return deterministicId('cart', email);
}

/** The source id when the app accepts it as an id, else one derived from it (deterministically). */
export function appId(kind: 'product' | 'order', source: string): string {
  return appIdSchema.safeParse(source).success ? source : deterministicId(kind, source);
}

// --- MongoDB Extended JSON and export quirks ------------------------------------------------------

const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** "12.50" -> 12.5 (CSV cells, SQL decimals, Mongo's $numberDecimal); anything else is left for the schema to refuse. */
function numberOf(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  return NUMERIC_TEXT.test(t) ? Number(t) : v;
}

const NAIVE_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/;

/**
 * A timestamp to ISO 8601 UTC: ISO strings (a SQL `2020-01-01 10:00:00` without a zone is taken as
 * UTC), or numbers: epoch milliseconds, or epoch seconds below 1e11 (before 1973 in milliseconds).
 */
function dateOf(v: unknown): unknown {
  let date: Date | undefined;
  if (typeof v === 'number') date = new Date(Math.abs(v) < 1e11 ? v * 1000 : v);
  else if (typeof v === 'string') {
    const t = v.trim();
    if (/^\d+$/.test(t)) return dateOf(Number(t));
    const naive = NAIVE_DATE_TIME.exec(t);
    date = new Date(naive ? `${naive[1]}T${naive[2]}Z` : t);
  } else return v;
  if (Number.isNaN(date.getTime())) return v;
  const year = date.getUTCFullYear();
  return year >= 1970 && year <= 9999 ? date.toISOString() : v;
}

/** Images as exported: a JSON array, or in a CSV cell a JSON array or `;`-separated URLs. */
function imagesOf(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (t.startsWith('[')) return parseJsonOr(t, v);
  return t
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return fromExtendedJson(JSON.parse(text));
  } catch {
    return fallback;
  }
}

/** A source id: Mongo ObjectId hex, a SQL integer, any short string. */
function sourceIdOf(v: unknown): unknown {
  const u = unwrapObjectIdText(v);
  if (typeof u === 'number' && Number.isSafeInteger(u)) return String(u);
  return typeof u === 'string' ? u.trim() : u;
}

// --- row schemas (the app's pieces) ----------------------------------------------------------------

const DATE_ERROR = 'must be a date: ISO 8601, or epoch seconds or milliseconds, from 1970 on';
const isoDate = z
  .string({ error: DATE_ERROR })
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, DATE_ERROR);
const sourceId = z.string().min(1).max(1024);
const price = newProductBody.shape.price;
const title = newProductBody.shape.title;

const userRow = z.object({
  email: registerBody.shape.email,
  name: registerBody.shape.name,
  createdAt: isoDate.optional(),
});

/** An http(s) URL, or a path relative to where the shop serves its uploads (no scheme, no spaces). */
const RELATIVE_PATH = /^(?![a-zA-Z][a-zA-Z0-9+.-]*:)[^\s?#]+$/;
const imageUrl = newProductBody.shape.images.unwrap().element;
// The relative path first: the guide's shop stores them, and a union's failed branch is costly.
const imageRef = z.union([z.string().max(2048).regex(RELATIVE_PATH), imageUrl], {
  error: 'must be an http(s) URL or a relative path such as uploads/1653052809657_hoodie.webp',
});

const productRow = z.object({
  id: sourceId,
  title,
  description: newProductBody.shape.description,
  price,
  category: newProductBody.shape.category,
  images: z.array(imageRef).max(10).default([]),
  writer: sourceId.optional(),
  sold: z.number().int().min(0).max(1_000_000_000_000).default(0),
  createdAt: isoDate.optional(),
});

const orderLine = z.object({
  productId: sourceId,
  title,
  price,
  quantity: addToCartBody.shape.quantity.unwrap(),
});

const orderRow = z
  .object({
    id: sourceId,
    email: registerBody.shape.email,
    status: z.enum(['CURRENT', 'COMPLETED']),
    createdAt: isoDate.optional(),
    completedAt: isoDate.optional(),
    items: z.array(orderLine).default([]),
  })
  .superRefine((o, ctx) => {
    if (o.status === 'COMPLETED' && o.items.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: 'a completed order has at least one item' });
    }
    const seen = new Map<string, number>();
    o.items.forEach((line, i) => {
      const first = seen.get(line.productId);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'productId'],
          message: `product ${line.productId} is already on line items.${first} (one line per product)`,
        });
      } else seen.set(line.productId, i);
    });
  });

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path)
    v = isPlainObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** "price: must be a whole number of cents; items.0.quantity: is missing" (at most three problems). */
function describeIssues(error: z.ZodError, input: unknown, idField: string): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String);
    if (path[0] === 'id') path[0] = idField;
    const where = path.length > 0 ? path.join('.') : 'row';
    const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
    return `${where}: ${missing ? 'is missing' : issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return parts.join('; ') + more;
}

type Parsed<S extends z.ZodType> = { ok: true; data: z.output<S> } | { ok: false; error: string };

function check<S extends z.ZodType>(schema: S, input: unknown, idField = '_id'): Parsed<S> {
  const r = schema.safeParse(input);
  return r.success
    ? { ok: true, data: r.data }
    : { ok: false, error: describeIssues(r.error, input, idField) };
}

function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

const cents = (n: number) => Math.round(n * 100) / 100;

/**
 * One item from its parts, in order (later parts win). Object.assign, not spread: on Node 20 a
 * spread of several objects into one of ~20 attributes takes microseconds per item, which alone made
 * the import a third slower than bare BatchWriteItem (bench/import-throughput.ts).
 */
function item(...parts: object[]): TableItem {
  return Object.assign({}, ...parts) as TableItem;
}

// --- mapping -------------------------------------------------------------------------------------

/** The image base URL parameter, checked once per value (a bad one is the mapping's error, not the row's). */
const baseUrls = new Map<string, URL>();
function imageBase(params: MapOptions['params']): URL | undefined {
  const raw = params?.imageBaseUrl;
  if (raw === undefined) return undefined;
  let base = baseUrls.get(raw);
  if (!base) {
    base = URL.canParse(raw) ? new URL(raw.endsWith('/') ? raw : `${raw}/`) : undefined;
    if (!base || !/^https?:$/.test(base.protocol)) {
      throw new Error(`imageBaseUrl: expected an http(s) URL, got "${raw}"`);
    }
    baseUrls.set(raw, base);
  }
  return base;
}

/** One source row to the table items the app would have written for it, or why it cannot be. */
export function mapRow(entity: Entity, row: Record<string, unknown>, options: MapOptions): Mapped {
  // A SQL NULL (or a Mongo null) is an absent field.
  const doc = withoutNulls(fromExtendedJson(row) as Record<string, unknown>);
  const ignored = Object.keys(doc).filter((k) => !KNOWN[entity].has(k));
  // `_id` wins over `id` when an export has both.
  const hasUnderscoreId = doc._id !== undefined && doc._id !== null;
  if (hasUnderscoreId && doc.id !== undefined) ignored.push('id');
  const rawId = hasUnderscoreId ? row._id : row.id;
  const created = (v: unknown) => dateOf(v ?? objectIdTime(rawId));
  const idValue = sourceIdOf(hasUnderscoreId ? doc._id : doc.id);
  const idField = hasUnderscoreId || doc.id === undefined ? '_id' : 'id';
  switch (entity) {
    case 'user': {
      // The guide's MongoDB users have a lastname apart; password hashes and tokens are never read.
      const name =
        typeof doc.name === 'string' && typeof doc.lastname === 'string' && doc.lastname.trim() !== ''
          ? `${doc.name} ${doc.lastname.trim()}`
          : doc.name;
      const r = check(userRow, { email: doc.email, name, createdAt: created(doc.createdAt) });
      if (!r.ok) return r;
      const u = r.data;
      const user = {
        email: u.email,
        name: u.name,
        cartId: cartIdFor(u.email),
        createdAt: u.createdAt ?? options.now,
      };
      return { ok: true, ignored, items: [item(keys.user(user.email), { entity: 'User' }, user)] };
    }
    case 'product': {
      const r = check(
        productRow,
        {
          id: idValue,
          title: doc.title,
          description: doc.description,
          price: numberOf(doc.price),
          // The guide's shop numbers its categories (1, 2, ...): the number is the category's name here.
          category: typeof doc.category === 'number' ? String(doc.category) : doc.category,
          images: doc.images === undefined ? undefined : imagesOf(doc.images),
          writer: doc.writer === undefined ? undefined : sourceIdOf(doc.writer),
          sold: numberOf(doc.sold),
          createdAt: created(doc.createdAt),
        },
        idField,
      );
      if (!r.ok) return r;
      const p = r.data;
      const base = imageBase(options.params);
      const product = {
        title: p.title,
        description: p.description,
        price: cents(p.price),
        category: p.category,
        images: base ? p.images.map((i) => new URL(i, base).href) : p.images,
        // The seller (the guide's `writer`, an ObjectId): its hex, kept for reference.
        writer: p.writer,
        id: appId('product', p.id),
        sold: p.sold,
        createdAt: p.createdAt ?? options.now,
      };
      return {
        ok: true,
        ignored,
        items: [item(keys.product(product.id), keys.productIndexes(product), { entity: 'Product' }, product)],
      };
    }
    case 'order': {
      let lines: unknown = doc.items;
      if (typeof lines === 'string') {
        const text = lines.trim();
        lines = text === '' ? undefined : parseJsonOr(text, lines);
        if (lines === doc.items) return { ok: false, error: 'items: is not valid JSON' };
      }
      const lineIgnored = new Set<string>();
      if (Array.isArray(lines)) {
        lines = lines.map((l) => {
          if (!isPlainObject(l)) return l;
          for (const k of Object.keys(l)) if (!KNOWN_LINE.has(k)) lineIgnored.add(`items[].${k}`);
          return {
            ...withoutNulls(l),
            productId: sourceIdOf(l.productId),
            price: numberOf(l.price),
            quantity: numberOf(l.quantity),
          };
        });
      }
      const r = check(
        orderRow,
        {
          id: idValue,
          email: doc.email,
          status: typeof doc.status === 'string' ? doc.status.trim().toUpperCase() : doc.status,
          createdAt: created(doc.createdAt),
          completedAt: dateOf(doc.completedAt),
          items: lines,
        },
        idField,
      );
      if (!r.ok) return r;
      const o = r.data;
      const current = o.status === 'CURRENT';
      // An open cart becomes the user's cart: the id the imported user record points at.
      const orderId = current ? cartIdFor(o.email) : appId('order', o.id);
      const createdAt = o.createdAt ?? options.now;
      const items = o.items.map((l) => ({
        orderId,
        productId: appId('product', l.productId),
        title: l.title,
        price: cents(l.price),
        quantity: l.quantity,
      }));
      const order = {
        orderId,
        email: o.email,
        status: o.status,
        createdAt,
        ...(current
          ? {}
          : {
              completedAt: o.completedAt ?? createdAt,
              total: cents(items.reduce((sum, i) => sum + i.price * i.quantity, 0)),
              itemCount: items.length,
            }),
      };
      return {
        ok: true,
        ignored: [...ignored, ...lineIgnored],
        items: [
          item(
            keys.order(o.email, orderId),
            keys.orderIndex(o.email, orderId, current),
            { entity: 'Order' },
            order,
          ),
          ...items.map((i) => item(keys.orderItem(orderId, i.productId), { entity: 'OrderItem' }, i)),
        ],
      };
    }
  }
}

const isEntity = (e: string): e is Entity => (ENTITIES as readonly string[]).includes(e);

/** The shop's mapping as the toolkit's import takes it (the project config's `import`). */
export const shopImport: RowMapper = {
  entities: ENTITIES,
  required: REQUIRED_FIELDS,
  collections: COLLECTIONS,
  params: PARAMS,
  map: (entity, row, options) =>
    isEntity(entity)
      ? mapRow(entity, row, options)
      : { ok: false, error: `unknown entity ${entity}; known: ${ENTITIES.join(', ')}` },
};
