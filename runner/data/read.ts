import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { BSON, EJSON } from 'bson';
import { plainOf } from './values.js';

/**
 * Row sources: JSON lines (mongoexport's default, in relaxed or canonical Extended JSON; also a JSON
 * array as `mongoexport --jsonArray` writes it), CSV with a header row, and mongodump's BSON files.
 * Each row carries the line it starts on (for BSON: the document's number) and its raw text, so a bad
 * row can be reported where it is and written out as it was; a bad row never stops the rest. Every
 * format streams: memory stays bounded by the largest row, not the file.
 */
export const FORMATS = ['jsonl', 'csv', 'bson'] as const;
export type Format = (typeof FORMATS)[number];

export interface SourceRow {
  /** 1-based line of the file the row starts on. */
  readonly line: number;
  /** In a JSON array: which element (1-based), since several may start on one line. */
  readonly element?: number;
  readonly raw: string;
  readonly value?: Record<string, unknown>;
  /** Why the row could not be read (then there is no value). */
  readonly error?: string;
}

/** A row (or an open quote) longer than this is refused rather than buffered without end. */
export const MAX_ROW_CHARS = 8 * 1024 * 1024;

export function formatOf(path: string): Format | undefined {
  const ext = extname(path.replace(/\.gz$/i, '')).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.bson') return 'bson';
  return undefined;
}

export interface Line {
  readonly n: number;
  readonly text: string;
}

/** The file's bytes, gunzipped when its name ends in .gz. */
function bytesOf(path: string): { file: Readable; input: Readable } {
  const file = createReadStream(path);
  const input = /\.gz$/i.test(path) ? file.pipe(createGunzip()) : file;
  // A pipe does not pass errors on: a bad gzip stream or unreadable file ends the reading with its error.
  file.on('error', (err) => input.destroy(err));
  return { file, input };
}

/** The file's lines (gunzipped when it ends in .gz), numbered from 1, without a leading byte-order mark. */
async function* linesOf(path: string): AsyncGenerator<Line> {
  const { file, input } = bytesOf(path);
  input.setEncoding('utf8');
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const text of rl) {
      n += 1;
      yield { n, text: n === 1 ? text.replace(/^\uFEFF/, '') : text };
    }
  } catch (err) {
    throw new SourceError(`cannot read it after line ${n}: ${(err as Error).message}`, { cause: err });
  } finally {
    rl.close();
    input.destroy();
    file.destroy();
  }
}

export interface ReadOptions {
  /** CSV: called with the header's field names before any row; throw to refuse the file. */
  readonly onHeader?: (fields: readonly string[], line: number) => void;
}

export function readRows(path: string, format: Format, options: ReadOptions = {}): AsyncGenerator<SourceRow> {
  if (format === 'bson') return bsonRows(path);
  return format === 'csv' ? csvRows(linesOf(path), options) : jsonRows(linesOf(path));
}

// --- JSON ----------------------------------------------------------------------------------------

function objectRow(line: number, raw: string, value: unknown): SourceRow {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return { line, raw, value: value as Record<string, unknown> };
  }
  return {
    line,
    raw,
    error: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
  };
}

const HEX24 = /^[0-9a-fA-F]{24}$/;
const INTEGER = /^-?\d+$/;

/**
 * The Extended JSON wrappers exports are made of, read straight to plain values: `{"$oid"}`,
 * `{"$date"}` (ISO text or `{"$numberLong"}`), `{"$numberInt"|"$numberLong"|"$numberDouble"|
 * "$numberDecimal"}`. Building bson's classes for them only to turn them back into text costs more
 * than the rest of a row's import; anything else, or a wrapper whose value is not the usual shape,
 * goes through bson's EJSON (so its rules, and its errors, stay the reference).
 */
function fastEjson(v: Record<string, unknown>, k: string): { value: unknown } | undefined {
  const x = v[k];
  switch (k) {
    case '$oid':
      return typeof x === 'string' && HEX24.test(x) ? { value: x.toLowerCase() } : undefined;
    case '$numberInt':
    case '$numberLong': {
      if (typeof x !== 'string' || !INTEGER.test(x)) return undefined;
      const n = Number(x);
      return { value: Number.isSafeInteger(n) ? n : x };
    }
    case '$numberDouble': {
      const n = typeof x === 'string' ? Number(x) : Number.NaN;
      return Number.isFinite(n) ? { value: n } : undefined;
    }
    case '$numberDecimal':
      return typeof x === 'string' && NUMERIC.test(x) ? { value: x } : undefined;
    case '$date': {
      const ms =
        typeof x === 'string'
          ? Date.parse(x)
          : isObject(x) &&
              Object.keys(x).length === 1 &&
              typeof x.$numberLong === 'string' &&
              INTEGER.test(x.$numberLong)
            ? Number(x.$numberLong)
            : Number.NaN;
      return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
        ? { value: new Date(ms).toISOString() }
        : undefined;
    }
    default:
      return undefined;
  }
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A parsed JSON value read as Extended JSON (`{"$oid"}`, `{"$date"}`, ...) to plain values; throws when it is not valid. */
export function ejsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ejsonValue);
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length >= 1 && keys[0]?.startsWith('$')) {
    if (keys.length === 1) {
      const fast = fastEjson(value, keys[0]);
      if (fast) return fast.value;
    }
    return plainOf(EJSON.deserialize({ v: value }, { relaxed: true }).v);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = ejsonValue(value[k]);
  return out;
}

/** One row of JSON, read as Extended JSON (mongoexport's `{"$oid"}`, `{"$date"}`, `{"$numberLong"}`, ...). */
function jsonRow(line: number, raw: string): SourceRow {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { line, raw, error: `not valid JSON: ${(err as Error).message}` };
  }
  try {
    return objectRow(line, raw, raw.includes('"$') ? ejsonValue(value) : value);
  } catch (err) {
    return { line, raw, error: `not valid Extended JSON: ${(err as Error).message}` };
  }
}

/** JSON lines, one object a line (blank lines skipped); a file opening with `[` is read as one JSON array. */
export async function* jsonRows(lines: AsyncIterable<Line>): AsyncGenerator<SourceRow> {
  const it = lines[Symbol.asyncIterator]();
  let first: Line | undefined;
  for (let next = await it.next(); !next.done; next = await it.next()) {
    if (next.value.text.trim() !== '') {
      first = next.value;
      break;
    }
  }
  if (!first) return;
  const rest: AsyncIterable<Line> = { [Symbol.asyncIterator]: () => it };
  if (first.text.trimStart().startsWith('[')) {
    yield* jsonArrayRows(first, rest);
    return;
  }
  yield jsonRow(first.n, first.text);
  for await (const l of rest) if (l.text.trim() !== '') yield jsonRow(l.n, l.text);
}

/**
 * The elements of one top-level JSON array, each with the line it starts on: a scanner that tracks
 * strings and nesting, so an element spread over lines is one row and a broken one is only itself.
 */
async function* jsonArrayRows(first: Line, rest: AsyncIterable<Line>): AsyncGenerator<SourceRow> {
  let state: 'before' | 'between' | 'element' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let buf = '';
  let start = 0;
  let element = 0;
  let trailing: Line | undefined;
  async function* all() {
    yield first;
    yield* rest;
  }
  for await (const { n, text } of all()) {
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i] as string;
      if (state === 'before') {
        if (c === '[') state = 'between';
        continue;
      }
      if (state === 'after') {
        if (!/\s/.test(c)) trailing ??= { n, text };
        continue;
      }
      if (state === 'between') {
        if (/\s/.test(c) || c === ',') continue;
        if (c === ']') {
          state = 'after';
          continue;
        }
        state = 'element';
        start = n;
        element += 1;
        buf = '';
      }
      // state === 'element'
      if (inString) {
        buf += c;
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (depth === 0 && (c === ',' || c === ']')) {
        yield { ...jsonRow(start, buf.trim()), element };
        state = c === ']' ? 'after' : 'between';
        continue;
      }
      buf += c;
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') depth -= 1;
      if (depth < 0) {
        // A stray closing bracket: this element is broken; resynchronise at the next top-level comma.
        depth = 0;
      }
    }
    if (state === 'element') {
      buf += '\n';
      if (buf.length > MAX_ROW_CHARS) {
        yield {
          line: start,
          element,
          raw: buf.slice(0, 4096),
          error: `element longer than ${MAX_ROW_CHARS} characters (an unclosed string or bracket?); the rest of the file was not read`,
        };
        return;
      }
    }
  }
  if (state === 'element') {
    yield {
      line: start,
      element,
      raw: buf.trim(),
      error: 'the JSON array ends in the middle of this element (file cut short?)',
    };
  } else if (state === 'before' || state === 'between') {
    yield {
      line: first.n,
      raw: first.text,
      error: 'the JSON array is never closed with ] (file cut short?)',
    };
  }
  if (trailing) yield { line: trailing.n, raw: trailing.text, error: 'text after the end of the JSON array' };
}

// --- BSON (mongodump) ---------------------------------------------------------------------------

/** MongoDB's document size limit, with room: a length above it means the file is not BSON (or corrupt). */
const MAX_BSON_DOCUMENT = 48 * 1024 * 1024;

/**
 * A mongodump `.bson` file: BSON documents back to back, each opening with its length (int32, little
 * endian). Read a chunk at a time; each document becomes a row numbered from 1, its values as plain
 * JSON (see plainOf). The raw text of a row (canonical Extended JSON) is made only if it is asked for.
 */
export async function* bsonRows(path: string): AsyncGenerator<SourceRow> {
  const { file, input } = bytesOf(path);
  let buf: Buffer = Buffer.alloc(0);
  let n = 0;
  let offset = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      buf = buf.length === offset ? chunk : Buffer.concat([buf.subarray(offset), chunk]);
      offset = 0;
      while (buf.length - offset >= 4) {
        const size = buf.readInt32LE(offset);
        if (size < 5 || size > MAX_BSON_DOCUMENT) {
          throw new SourceError(
            `document ${n + 1} claims ${size} bytes: not a BSON file (or corrupt from there on)`,
          );
        }
        if (buf.length - offset < size) break;
        n += 1;
        yield bsonRow(n, buf.subarray(offset, offset + size));
        offset += size;
      }
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read it after document ${n}: ${(err as Error).message}`, { cause: err });
  } finally {
    input.destroy();
    file.destroy();
  }
  if (buf.length - offset > 0) {
    const bytes = buf.subarray(offset);
    yield {
      line: n + 1,
      raw: bytes.subarray(0, 64).toString('hex'),
      error: `the file ends ${bytes.length} bytes into document ${n + 1} (file cut short?)`,
    };
  }
}

function bsonRow(line: number, bytes: Buffer): SourceRow {
  let doc: Record<string, unknown>;
  try {
    doc = BSON.deserialize(bytes, { promoteBuffers: false });
  } catch (err) {
    return {
      line,
      raw: bytes.subarray(0, 64).toString('hex'),
      error: `not a valid BSON document: ${(err as Error).message}`,
    };
  }
  const value = plainOf(doc) as Record<string, unknown>;
  return {
    line,
    value,
    get raw() {
      return EJSON.stringify(doc, { relaxed: false });
    },
  };
}

// --- CSV -----------------------------------------------------------------------------------------

/** RFC 4180 fields of one record (quotes double to escape; a quote only opens or closes a field). */
export function parseCsvRecord(text: string): string[] | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    const column = fields.length + 1;
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { error: `column ${column}: quote not closed` };
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',')
        return { error: `column ${column}: unexpected ${JSON.stringify(text[i])} after a closing quote` };
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const value = comma < 0 ? text.slice(i) : text.slice(i, comma);
      if (value.includes('"')) return { error: `column ${column}: a quote inside an unquoted field` };
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

function quotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n += 1;
  return n;
}

interface CsvRecord {
  readonly line: number;
  readonly text: string;
  readonly fields?: string[];
  readonly error?: string;
}

/**
 * Records from lines: a record goes on while a quoted field is open (an odd number of quotes so far).
 * When that reading fails (the quote never closes by the end of the file or MAX_ROW_CHARS, or the
 * lines taken together are not one valid record of `expected()` fields) the quote was a stray one:
 * only its line is rejected, and reading resumes on the line after it.
 */
async function* csvRecords(
  lines: AsyncIterable<Line>,
  expected: () => number | undefined,
): AsyncGenerator<CsvRecord> {
  const it = lines[Symbol.asyncIterator]();
  const replay: Line[] = [];
  const next = async (): Promise<Line | undefined> => {
    const r = replay.shift();
    if (r) return r;
    const n = await it.next();
    return n.done ? undefined : n.value;
  };
  for (;;) {
    const head = await next();
    if (!head) return;
    if (head.text.trim() === '') continue;
    const taken: Line[] = [head];
    let size = head.text.length;
    let open = quotes(head.text) % 2 === 1;
    while (open && size <= MAX_ROW_CHARS) {
      const l = await next();
      if (!l) break;
      taken.push(l);
      size += l.text.length + 1;
      open = quotes(l.text) % 2 === 1 ? !open : open;
    }
    if (open) {
      const why =
        size > MAX_ROW_CHARS
          ? `no closing quote within ${MAX_ROW_CHARS} characters`
          : 'no closing quote before the end of the file';
      yield {
        line: head.n,
        text: head.text,
        error: `a quoted field opens on this line and never closes (${why})`,
      };
      replay.unshift(...taken.slice(1));
      continue;
    }
    const text = taken.map((l) => l.text).join('\n');
    const parsed = parseCsvRecord(text);
    const want = expected();
    const fits = !('error' in parsed) && (want === undefined || parsed.length === want);
    if (!fits && taken.length > 1) {
      const alone = parseCsvRecord(head.text);
      const error =
        'error' in alone ? alone.error : 'a quoted field opens on this line and does not close properly';
      yield { line: head.n, text: head.text, error: `not valid CSV: ${error}` };
      replay.unshift(...taken.slice(1));
      continue;
    }
    yield 'error' in parsed
      ? { line: head.n, text, error: `not valid CSV: ${parsed.error}` }
      : { line: head.n, text, fields: parsed };
  }
}

/** The file cannot be read as rows at all (unreadable, a corrupt .gz, a CSV header that is not one). */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** CSV with a header row naming the fields; empty cells are absent fields. */
export async function* csvRows(
  lines: AsyncIterable<Line>,
  options: ReadOptions = {},
): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  for await (const rec of csvRecords(lines, () => header?.length)) {
    if (!header) {
      if (!rec.fields)
        throw new SourceError(`line ${rec.line}: the header row is not valid CSV: ${rec.error}`);
      const names = rec.fields.map((f) => f.trim());
      const seen = new Set<string>();
      for (const h of names) {
        if (h === '') throw new SourceError(`line ${rec.line}: the header row has an empty field name`);
        if (seen.has(h)) throw new SourceError(`line ${rec.line}: the header row names ${h} twice`);
        seen.add(h);
      }
      options.onHeader?.(names, rec.line);
      header = names;
      continue;
    }
    const fields = rec.fields;
    if (!fields) {
      yield { line: rec.line, raw: rec.text, error: rec.error ?? 'not valid CSV' };
      continue;
    }
    if (fields.length !== header.length) {
      yield {
        line: rec.line,
        raw: rec.text,
        error: `expected ${header.length} fields (as in the header), got ${fields.length}`,
      };
      continue;
    }
    const value: Record<string, unknown> = {};
    header.forEach((h, i) => {
      const cell = fields[i] ?? '';
      if (cell.trim() !== '') value[h] = cell;
    });
    yield { line: rec.line, raw: rec.text, value };
  }
}

// --- mongodump folders ---------------------------------------------------------------------------

/** One collection of a mongodump folder: its `.bson` file and what its `.metadata.json` says. */
export interface DumpCollection {
  readonly collection: string;
  readonly file: string;
  /** The `.metadata.json` next to it, when there is one (mongodump writes it for every collection). */
  readonly metadataFile?: string;
  /** Index names from the metadata: the access patterns the source had (for the single-table design). */
  readonly indexes: readonly string[];
}

async function readMaybeGzip(path: string): Promise<string> {
  const bytes = await readFile(path);
  return (/\.gz$/i.test(path) ? gunzipSync(bytes) : bytes).toString('utf8');
}

/**
 * The collections of a mongodump folder (`dump/<db>/` or `dump/` with one database folder in it):
 * every `<name>.bson` or `<name>.bson.gz` (`mongodump --gzip`), sorted by name. The collection's name
 * comes from its metadata (`collectionName`) when there is one, else from the file name.
 */
export async function dumpCollections(dir: string): Promise<DumpCollection[]> {
  let names = await readdir(dir);
  let base = dir;
  if (!names.some((n) => /\.bson(\.gz)?$/i.test(n))) {
    // `dump/` itself: one database folder below it.
    const subdirs: string[] = [];
    for (const n of names) if ((await stat(join(dir, n))).isDirectory()) subdirs.push(n);
    if (subdirs.length !== 1) {
      throw new SourceError(
        `${dir}: no .bson files here${subdirs.length > 1 ? `, and ${subdirs.length} database folders (${subdirs.join(', ')}): name one` : ''}`,
      );
    }
    base = join(dir, subdirs[0] as string);
    names = await readdir(base);
  }
  const out: DumpCollection[] = [];
  for (const name of names.sort()) {
    const m = /^(.*)\.bson(\.gz)?$/i.exec(name);
    if (!m) continue;
    const stem = m[1] as string;
    const metadataFile = [`${stem}.metadata.json`, `${stem}.metadata.json.gz`]
      .map((f) => join(base, f))
      .find((f) => names.includes(basename(f)));
    let collection = stem;
    let indexes: string[] = [];
    if (metadataFile) {
      let meta: unknown;
      try {
        meta = JSON.parse(await readMaybeGzip(metadataFile));
      } catch (err) {
        throw new SourceError(`${metadataFile}: not valid JSON: ${(err as Error).message}`, { cause: err });
      }
      const md = (typeof meta === 'object' && meta !== null ? meta : {}) as {
        collectionName?: unknown;
        indexes?: unknown;
      };
      if (typeof md.collectionName === 'string' && md.collectionName !== '') collection = md.collectionName;
      if (Array.isArray(md.indexes)) {
        indexes = md.indexes.flatMap((i) =>
          typeof i === 'object' && i !== null && typeof (i as { name?: unknown }).name === 'string'
            ? [(i as { name: string }).name]
            : [],
        );
      }
    }
    out.push({ collection, file: join(base, name), ...(metadataFile ? { metadataFile } : {}), indexes });
  }
  return out;
}
