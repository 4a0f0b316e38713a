import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { crc32 } from 'node:zlib';
import type { Pool } from 'undici';
import { PATTERN_HEADER } from '../../instrument/index.js';
import { serveAdmin } from './admin.js';
import { Attributor, type PatternRule } from './attribution.js';
import type { Item } from './capacity.js';
import { capacityJson, editMembers, readMembers } from './json-edit.js';
import {
  type Images,
  type ItemRef,
  imagesBefore,
  type Metered,
  meter,
  type ReadsAfter,
  readsAfter,
  refKey,
} from './meter.js';
import { asAsked } from './metering.js';
import {
  type Charge,
  type GateCapacity,
  type HotKey,
  type Reason,
  type ResolvedCapacity,
  type TargetStats,
  ThrottlePolicy,
} from './policy.js';
import {
  type Access,
  type Json,
  type Kind,
  keyString,
  PARTIQL_OPS,
  type ParsedCall,
  parseCall,
  partiqlStatements,
  READ_OPS,
  WRITE_OPS,
  writeRequestItem,
} from './protocol.js';
import { schemaFromDescription, type TableDescriptionJson, type TableSchema } from './schema.js';
import {
  type CallRecord,
  type GateMetric,
  type GatePatternSnapshot,
  GateStats,
  type KeyLoad,
  type KeySpread,
} from './stats.js';
import { cancelledTransaction, throttleAnswer } from './throttle-errors.js';
import { forwardHeaders, post, readBody, type Upstream } from './upstream.js';

/**
 * The capacity gate: an HTTP proxy in front of DynamoDB Local for any app, in any language. It learns
 * every table's schema with DescribeTable, names each call's access pattern (tag, project rule or
 * automatic name), enforces capacity the way DynamoDB does (see policy.ts) and answers throttled
 * calls with DynamoDB's own error, so the client's real retries run against it. It counts per
 * pattern, per table and index (DynamoDB's CloudWatch names) and per partition key (the hot keys),
 * and serves those counters on a loopback admin endpoint that any process can read.
 */
export interface GateOptions {
  /**
   * DynamoDB Local (or any DynamoDB-compatible endpoint). Omitted, the gate listens at once and holds
   * calls until `open(upstream)`: an app can start while DynamoDB Local and the tables are made.
   */
  readonly upstream?: string;
  readonly capacity?: GateCapacity;
  /** The project's pattern rules, tried in order after the tag. */
  readonly rules?: readonly PatternRule[];
  readonly clock?: () => number;
  readonly region?: string;
}

export interface GateSnapshot {
  /** Epoch ms: when counting started (the last reset) and when this was taken. */
  readonly since: number;
  readonly at: number;
  /** The DynamoDB side of every access pattern seen since the reset. */
  readonly patterns: Record<string, GatePatternSnapshot>;
  /** The pattern ids the project declares (a pattern with no call yet has no entry above). */
  readonly declared: string[];
  readonly tables: TargetStats[];
  readonly hotKeys: HotKey[];
  /** Per pattern, the units its busiest partition keys took (see GateStats.keyLoad). */
  readonly keyLoad: KeyLoad[];
  /** Per pattern and target, how many partition keys its units spread over. */
  readonly keySpread: KeySpread[];
  /** CloudWatch-style datapoints: metric name, dimensions, sum. */
  readonly metrics: GateMetric[];
  /** What the gate enforces on each table it knows. */
  readonly capacity: Record<string, ResolvedCapacity>;
}

/** Marks the gate's own reads (the images it sizes), so that a gate further up does not count them. */
const SIDE_READ_HEADER = 'x-loadtest-gate-read';

/** Members of a successful answer the gate never reads: the items (it counts them by Count or presence). */
const ITEMS: ReadonlySet<string> = new Set(['Item', 'Items']);
const NOTHING: ReadonlySet<string> = new Set();

const METERED = (op: string) => READ_OPS.has(op) || WRITE_OPS.has(op);
const SCHEMA_CHANGES = new Set(['CreateTable', 'UpdateTable', 'DeleteTable']);
/** Headers of DynamoDB's answer we pass on (the body's length and checksum are ours when we change it). */
const HOP_BY_HOP = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'x-amz-crc32',
]);

/** The digits after `name` in `text`, as a number; undefined when there are none. */
function numberAfter(text: string, name: string): number | undefined {
  const at = text.indexOf(name);
  if (at < 0) return undefined;
  const start = at + name.length;
  let n = 0;
  let i = start;
  for (; i < text.length; i += 1) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) break;
    n = n * 10 + digit;
  }
  return i > start ? n : undefined;
}

/**
 * `amz-sdk-request: attempt=2; max=3` (or with a `ttl=...;` first): read without a regular
 * expression or a substring, as it is read on every call.
 */
function attemptOf(header: string | string[] | undefined): { attempt?: number; max?: number } {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return {};
  return { attempt: numberAfter(text, 'attempt='), max: numberAfter(text, 'max=') };
}

/**
 * undici's Pool, loaded when the first gate is made (not with this module: a run against an app
 * already up never makes one). Its own module only: undici's index also loads fetch, its cache and
 * mock layers, WebSocket and EventSource, which cost a CLI start ~0.2 s more of CPU. Should a later
 * undici move that file, the index serves.
 */
type PoolClass = typeof import('undici').Pool;
const POOL_MODULE: string = 'undici/lib/dispatcher/pool.js';
let undiciLoading: Promise<PoolClass> | undefined;
const undici = () => {
  undiciLoading ??= (import(POOL_MODULE) as Promise<{ default: PoolClass }>).then(
    (m) => m.default,
    async () => (await import('undici')).Pool,
  );
  return undiciLoading;
};

const list = (c: unknown): Json[] => (Array.isArray(c) ? (c as Json[]) : c ? [c as Json] : []);

function errorCode(out: Json): string | undefined {
  const type = out.__type;
  return typeof type === 'string' ? (type.split('#').pop() ?? type) : undefined;
}

function itemsReturned(op: string, out: Json): number {
  switch (op) {
    case 'GetItem':
      return out.Item ? 1 : 0;
    case 'Query':
    case 'Scan':
      return typeof out.Count === 'number' ? out.Count : 0;
    case 'BatchGetItem':
      return Object.values((out.Responses as Record<string, unknown[]> | undefined) ?? {}).reduce(
        (n, items) => n + (Array.isArray(items) ? items.length : 0),
        0,
      );
    case 'TransactGetItems':
      return ((out.Responses as { Item?: unknown }[] | undefined) ?? []).filter((r) => r.Item).length;
    default:
      return 0;
  }
}

export class CapacityGate {
  private server: Server | undefined;
  private admin: Server | undefined;
  private readonly clock: () => number;
  private readonly policy: ThrottlePolicy;
  private readonly stats: GateStats;
  private readonly attributor: Attributor;
  /**
   * Kept-alive connections to DynamoDB Local. undici's Pool, driven through `dispatch` (no response
   * stream, no fetch): the bench measured node:http's ClientRequest at ~20% more CPU per call.
   */
  private pool: Pool | undefined;
  /** The upstream's path (DynamoDB answers on `/`, a prefix stays as given). */
  private upstreamPath = '/';
  private upstreamName = '(not yet open)';
  private opened: Promise<void>;
  private markOpen: () => void = () => {};
  /** The latest open(): settles once its pool is made. */
  private opening: Promise<void> | undefined;
  private closed = false;
  /** Tables being described now, and tables DescribeTable said do not exist (with when). */
  private readonly learning = new Map<string, Promise<void>>();
  private readonly missing = new Map<string, number>();
  /** Calls being answered or, after their answer, counted (a PartiQL SELECT is sized afterwards). */
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly options: GateOptions) {
    this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    this.policy = new ThrottlePolicy(this.clock, options.capacity ?? {});
    this.stats = new GateStats(this.clock);
    this.attributor = new Attributor(options.rules ?? []);
    this.opened = new Promise<void>((resolve) => {
      this.markOpen = resolve;
    });
    // Loads while the caller starts DynamoDB Local.
    void undici();
    if (options.upstream) this.open(options.upstream);
  }

  /** Starts forwarding to DynamoDB; calls that came before wait for this. */
  open(upstream: string): void {
    const url = new URL(upstream);
    this.upstreamPath = `${url.pathname}${url.search}`;
    this.upstreamName = upstream;
    this.opening = undici().then((Pool) => {
      if (this.closed) return;
      // A new upstream: calls in flight on the old one finish there.
      void this.pool?.close().catch(() => {});
      this.pool = new Pool(url.origin, { connections: 64, pipelining: 1 });
      this.markOpen();
    });
  }

  /** Forget all counters and refill every bucket (a new run), optionally with new capacity. */
  reset(capacity?: GateCapacity): void {
    this.policy.reset(capacity ?? this.policy.configured);
    this.stats.reset();
  }

  /**
   * Resolves once every call in flight now has been answered and counted (calls that come later are
   * not waited for: under load there is always one), or after `timeoutMs`.
   */
  async settled(timeoutMs = 2000): Promise<void> {
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.inflight]),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  get capacity(): GateCapacity {
    return this.policy.configured;
  }

  /** Serves DynamoDB's protocol on 127.0.0.1; returns its URL. */
  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const call: Promise<void> = this.handle(req, res)
        .catch((err: unknown) => this.failed(res, err))
        .finally(() => {
          this.inflight.delete(call);
        });
      this.inflight.add(call);
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
    const addr = this.server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
  }

  /** Serves the counters on their own loopback port (see admin.ts); returns its URL. */
  async listenAdmin(port = 0): Promise<string> {
    const { server, url } = await serveAdmin(this, port);
    this.admin = server;
    return url;
  }

  async close(): Promise<void> {
    for (const server of [this.server, this.admin]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    this.server = undefined;
    this.admin = undefined;
    this.closed = true;
    await this.pool?.destroy().catch(() => {});
    this.pool = undefined;
  }

  /** Learns every table the endpoint holds now (later ones are learned on their first call). */
  async learnAll(): Promise<TableSchema[]> {
    let start: string | undefined;
    const names: string[] = [];
    do {
      const out = await this.call('ListTables', start ? { ExclusiveStartTableName: start } : {});
      names.push(...((out.TableNames as string[] | undefined) ?? []));
      start = out.LastEvaluatedTableName as string | undefined;
    } while (start);
    await Promise.all(names.map((n) => this.learn(n)));
    return names.flatMap((n) => {
      const s = this.policy.schema(n);
      return s ? [s] : [];
    });
  }

  /** The schemas learned so far. */
  tables(): TableSchema[] {
    return this.policy.schemas();
  }

  /** A DynamoDB call of the gate's own (DynamoDB Local checks that there is a key, not whose). */
  private async call(op: string, body: Json): Promise<Json> {
    const payload = Buffer.from(JSON.stringify(body));
    const res = await this.forward(
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${op}`,
        authorization: `AWS4-HMAC-SHA256 Credential=local/20200101/${this.options.region ?? 'us-east-1'}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      payload,
    );
    const out = JSON.parse(res.body.toString('utf8') || '{}') as Json;
    if (res.status !== 200) {
      const err = new Error(
        `${op}: ${errorCode(out) ?? `HTTP ${res.status}`}: ${String(out.message ?? out.Message ?? '')}`,
      );
      err.name = errorCode(out) ?? 'Error';
      throw err;
    }
    return out;
  }

  private learn(table: string): Promise<void> {
    let pending = this.learning.get(table);
    if (!pending) {
      pending = this.call('DescribeTable', { TableName: table })
        .then((out) => {
          this.policy.learn(schemaFromDescription(out.Table as TableDescriptionJson));
          this.missing.delete(table);
        })
        .catch(() => {
          // No such table (yet): the call goes through and DynamoDB answers it. Asked again later.
          this.missing.set(table, this.clock());
        })
        .finally(() => this.learning.delete(table));
      this.learning.set(table, pending);
    }
    return pending;
  }

  /** Schemas of the tables a call names, learned first if new. */
  private async ensureSchemas(tables: readonly string[]): Promise<void> {
    const now = this.clock();
    const unknown = tables.filter(
      (t) => !this.policy.knows(t) && now - (this.missing.get(t) ?? Number.NEGATIVE_INFINITY) > 1000,
    );
    if (unknown.length > 0) await Promise.all(unknown.map((t) => this.learn(t)));
  }

  private arn(table: string, target: string): string {
    const arn = `arn:aws:dynamodb:${this.options.region ?? 'local'}:000000000000:table/${table}`;
    return target === 'table' ? arn : `${arn}/index/${target}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.pool) await this.opened;
    const started = this.clock();
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : '';
    const headers = forwardHeaders(req.headers, PATTERN_HEADER);
    // Another gate's own metering reads (gates in a chain): not the app's calls, not counted.
    const data = (METERED(op) || PARTIQL_OPS.has(op)) && req.headers[SIDE_READ_HEADER] === undefined;
    if (!data) return this.passThrough(op, headers, raw, res);

    let body: Json = {};
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as Json) : {};
    } catch {
      // Not JSON: DynamoDB answers it (a SerializationException); nothing to count.
      return this.passThrough(op, headers, raw, res);
    }
    let call = parseCall(op, body, (t) => this.policy.schema(t));
    if (call.tables.some((t) => !this.policy.knows(t))) {
      await this.ensureSchemas(call.tables);
      call = parseCall(op, body, (t) => this.policy.schema(t));
    }
    const tag = req.headers[PATTERN_HEADER];
    const { id: pattern, source } = this.attributor.attribute(
      op,
      call.shapes,
      typeof tag === 'string' ? tag : undefined,
    );
    const { attempt, max } = attemptOf(req.headers['amz-sdk-request']);
    const invocation = req.headers['amz-sdk-invocation-id'];
    const record = (
      r: Pick<CallRecord, 'status' | 'code' | 'throttleReason' | 'charges' | 'items'>,
      latencyMs = this.clock() - started,
    ) =>
      this.stats.record({
        pattern,
        source,
        op,
        tables: call.tables,
        latencyMs,
        attempt,
        maxAttempts: max,
        invocation: typeof invocation === 'string' ? invocation : undefined,
        status: r.status,
        code: r.code,
        throttleReason: r.throttleReason,
        charges: r.charges,
        items: r.items,
      });

    const statements = PARTIQL_OPS.has(op) ? partiqlStatements(op, body) : [];
    let accesses = call.accesses;
    // Batch calls: items on a throttled partition come back unprocessed; the call fails only when
    // every item is throttled.
    let unprocessed: { dropped: Record<string, Json[]>; extra: Record<string, Json> } | undefined;
    if (
      (op === 'BatchGetItem' || op === 'BatchWriteItem') &&
      accesses.length > 0 &&
      !this.policy.refusal(accesses.filter((a) => a.pk === undefined))
    ) {
      const split = this.splitBatch(op, body, call);
      if (split.kept > 0 && split.droppedCount > 0) {
        unprocessed = { dropped: split.dropped, extra: split.extra };
        for (const a of accesses.filter((x) => !split.accesses.includes(x))) {
          this.policy.countThrottle(a, split.tableReasons.get(a.table) ?? 'KeyRangeThroughputExceeded');
        }
        accesses = split.accesses;
      }
    }

    const refused = accesses.length > 0 ? this.policy.refusal(accesses) : undefined;
    if (refused) {
      const label = this.policy.countThrottle(refused.access, refused.reason);
      const throttled = {
        mode: this.policy.capacityOf(refused.access.table)?.mode ?? 'provisioned',
        reason: refused.reason,
        label,
        index: refused.access.target !== 'table',
        resource: this.arn(refused.access.table, refused.access.target),
      } as const;
      // A transaction is cancelled as a whole, naming the throttled item; other calls get the
      // throttling exception (a batch only when every item is throttled).
      const transaction =
        op === 'TransactWriteItems' || op === 'TransactGetItems' || op === 'ExecuteTransaction';
      const items = transaction
        ? ((
            (op === 'ExecuteTransaction' ? body.TransactStatements : body.TransactItems) as
              | unknown[]
              | undefined
          )?.length ?? 0)
        : 0;
      const answer = transaction
        ? cancelledTransaction(throttled, items, refused.access.item ?? 0)
        : throttleAnswer(throttled);
      record({ status: 400, code: answer.exception, throttleReason: label, charges: [] });
      this.send(res, 400, JSON.stringify(answer.body));
      return;
    }

    const schemas = (t: string) => this.policy.schema(t);
    // The items a transaction or a PartiQL write changes, as they are before it (their sizes count).
    const wanted = imagesBefore(op, body, statements, schemas);
    // A table that is not there: DynamoDB Local answers the call itself (ResourceNotFoundException).
    const before =
      wanted.length > 0
        ? await this.readItems(headers, wanted).catch(() => new Map<string, Item | undefined>())
        : new Map<string, Item | undefined>();

    // Ask for the per-index split whatever the client asked for, and give it back what it asked for;
    // a failed single-item write returns the item it failed on, for its size. A request that already
    // asks for all of that (an instrumented client's) goes on as it came.
    const asked = body.ReturnConsumedCapacity as string | undefined;
    const askedOld = body.ReturnValuesOnConditionCheckFailure as string | undefined;
    const singleWrite = op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem';
    let changed = unprocessed !== undefined;
    if (!PARTIQL_OPS.has(op) && asked !== 'INDEXES') {
      body.ReturnConsumedCapacity = 'INDEXES';
      changed = true;
    }
    if (singleWrite && askedOld !== 'ALL_OLD') {
      body.ReturnValuesOnConditionCheckFailure = 'ALL_OLD';
      changed = true;
    }
    const up = await this.forwardOr502(headers, changed ? Buffer.from(JSON.stringify(body)) : raw, res);
    if (!up) return record({ status: 502, code: 'GateUpstreamUnreachable', charges: [] });
    // Read once, items left unread (only their count matters here); the spans serve the edit below.
    const text = up.body.toString('utf8');
    const answer = readMembers(text, up.status === 200 ? ITEMS : NOTHING);
    const out: Json = answer?.value ?? {};
    const code = up.status === 200 ? undefined : errorCode(out);
    const readsAfterwards =
      up.status === 200 && PARTIQL_OPS.has(op)
        ? readsAfter(op, body, statements, schemas)
        : { items: [], scans: [] };
    const needsReads = readsAfterwards.items.length > 0 || readsAfterwards.scans.length > 0;
    const meterWith = (after: Images, scanned: ReadonlyMap<number, Json>) =>
      meter({
        op,
        body,
        statements,
        schemas,
        status: up.status,
        out,
        ...(code ? { code } : {}),
        before,
        after,
        scanned,
      });
    // A PartiQL SELECT is sized by reading what it read (whole items, or the Query or Scan it stands
    // for): after the answer, unless the client asked for the figure in it.
    const wantsFigure = asked === 'TOTAL' || asked === 'INDEXES';
    let metered: Metered | undefined;
    if (!needsReads) metered = meterWith(new Map(), new Map());
    else if (wantsFigure) metered = meterWith(...(await this.readWhatWasRead(headers, readsAfterwards)));
    // The answer: DynamoDB Local's bytes, with only what the gate has a reason to change spliced in.
    const edits: Record<string, string | undefined> = {};
    if (up.status === 200) {
      if (unprocessed) this.addUnprocessed(op, out, unprocessed.dropped, unprocessed.extra, edits);
      if (PARTIQL_OPS.has(op)) {
        // DynamoDB Local answers PartiQL without capacity; a client that asked gets the gate's figure.
        if ((asked === 'TOTAL' || asked === 'INDEXES') && metered)
          edits.ConsumedCapacity = capacityJson(
            asAsked(asked, op === 'ExecuteStatement' ? (metered.consumed[0] ?? {}) : metered.consumed),
          );
      } else if (out.ConsumedCapacity !== undefined && (asked !== 'INDEXES' || metered?.corrected)) {
        const consumed = metered?.corrected ? metered.consumed : list(out.ConsumedCapacity);
        const shaped = asAsked(asked, Array.isArray(out.ConsumedCapacity) ? consumed : (consumed[0] ?? {}));
        edits.ConsumedCapacity = shaped === undefined ? undefined : capacityJson(shaped);
      }
    } else if (singleWrite && code === 'ConditionalCheckFailedException' && askedOld !== 'ALL_OLD') {
      edits.Item = undefined;
    }
    const latencyMs = this.clock() - started;
    if (Object.keys(edits).length > 0) {
      const edited = answer ? editMembers(text, edits, answer.members) : undefined;
      if (edited !== undefined) this.send(res, up.status, edited, up.headers);
      else this.relay(res, up);
    } else this.relay(res, up);

    // Charging and counting come after the answer, off the caller's latency.
    const items = up.status === 200 ? itemsReturned(op, out) : undefined;
    const charge = (m: Metered | undefined): Charge[] => {
      const charges: Charge[] = [];
      for (const c of m?.consumed ?? [])
        charges.push(...this.policy.charge(accesses, c, call.kind ?? 'Read', m?.shares));
      return charges;
    };
    const result = {
      status: up.status,
      code: code ?? (up.status !== 200 ? `HTTP ${up.status}` : undefined),
      items,
    };
    if (metered || !needsReads) return record({ ...result, charges: charge(metered) }, latencyMs);
    const late = meterWith(...(await this.readWhatWasRead(headers, readsAfterwards)));
    record({ ...result, charges: charge(late) }, latencyMs);
  }

  /** The items and the Query/Scan figures a PartiQL SELECT stands for (nothing, where they fail). */
  private async readWhatWasRead(
    headers: Record<string, string>,
    reads: ReadsAfter,
  ): Promise<[Map<string, Item | undefined>, Map<number, Json>]> {
    const after = await this.readItems(headers, reads.items).catch(() => new Map<string, Item | undefined>());
    const scanned = new Map<number, Json>();
    for (const s of reads.scans) {
      const r = await this.sideCall(headers, s.op, s.body).catch(() => undefined);
      const c = r?.ConsumedCapacity as Json | undefined;
      if (c) scanned.set(s.statement, c);
    }
    return [after, scanned];
  }

  /** A fault of the gate's own: DynamoDB's retryable InternalServerError, with the cause. */
  private failed(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.send(
      res,
      500,
      JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: `capacity gate: ${(err as Error)?.message ?? String(err)}`,
      }),
    );
  }

  /** One call of the gate's own to DynamoDB Local (with the client's credentials): its answer, parsed. */
  private async sideCall(headers: Record<string, string>, op: string, body: Json): Promise<Json> {
    const up = await this.forward(
      {
        ...headers,
        'x-amz-target': `DynamoDB_20120810.${op}`,
        'content-type': 'application/x-amz-json-1.0',
        [SIDE_READ_HEADER]: '1',
      },
      Buffer.from(JSON.stringify(body)),
    );
    const out = this.parseOut(up.body);
    if (up.status !== 200) throw new Error(`${op}: ${errorCode(out) ?? up.status}`);
    return out;
  }

  /**
   * Items as they are now, read whole and strongly consistent with BatchGetItem (100 keys a call,
   * each key once, unprocessed keys asked again): the images whose sizes DynamoDB charges.
   */
  private async readItems(
    headers: Record<string, string>,
    refs: readonly ItemRef[],
  ): Promise<Map<string, Item | undefined>> {
    const found = new Map<string, Item | undefined>();
    const unique = new Map<string, ItemRef>();
    for (const r of refs) unique.set(refKey(r.table, r.key, this.policy.schema(r.table)), r);
    let pending = [...unique.values()];
    for (let round = 0; pending.length > 0 && round < 5; round += 1) {
      const next: ItemRef[] = [];
      for (let i = 0; i < pending.length; i += 100) {
        const chunk = pending.slice(i, i + 100);
        const requestItems: Record<string, { Keys: Item[]; ConsistentRead: boolean }> = {};
        for (const r of chunk) {
          requestItems[r.table] ??= { Keys: [], ConsistentRead: true };
          requestItems[r.table]?.Keys.push(r.key);
        }
        const out = await this.sideCall(headers, 'BatchGetItem', { RequestItems: requestItems });
        for (const [table, items] of Object.entries(
          (out.Responses as Record<string, Item[]> | undefined) ?? {},
        )) {
          const schema = this.policy.schema(table);
          for (const item of items) {
            const key: Item = {};
            for (const a of schema
              ? [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]
              : []) {
              const v = item[a];
              if (v !== undefined) key[a] = v;
            }
            found.set(refKey(table, key, schema), item);
          }
        }
        for (const [table, spec] of Object.entries(
          (out.UnprocessedKeys as Record<string, { Keys?: Item[] }> | undefined) ?? {},
        ))
          for (const key of spec.Keys ?? []) next.push({ table, key });
      }
      pending = next;
    }
    return found;
  }

  private parseOut(body: Buffer): Json {
    try {
      return JSON.parse(body.toString('utf8') || '{}') as Json;
    } catch {
      return {};
    }
  }

  /** Control-plane calls go through untouched; a schema change is learned again on the next call. */
  private async passThrough(
    op: string,
    headers: Record<string, string>,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const up = await this.forwardOr502(headers, raw, res);
    if (!up) return;
    if (SCHEMA_CHANGES.has(op) && up.status === 200) {
      try {
        const table = (JSON.parse(raw.toString('utf8')) as Json).TableName;
        if (typeof table === 'string') {
          this.policy.forget(table);
          this.missing.delete(table);
        }
      } catch {}
    }
    this.relay(res, up);
  }

  private async forwardOr502(
    headers: Record<string, string>,
    body: Buffer,
    res: ServerResponse,
  ): Promise<Upstream | undefined> {
    try {
      return await this.forward(headers, body);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`capacity gate: DynamoDB is unreachable at ${this.upstreamName}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** DynamoDB's answer as it came, headers (request id, checksum) and all. */
  private relay(res: ServerResponse, up: Upstream): void {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) {
      if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive')
        headers[k] = v;
    }
    headers['content-length'] = String(up.body.length);
    this.writeHead(res, up.status, headers);
    res.end(up.body);
  }

  /**
   * Only the headers given: Node's own `Connection`/`Keep-Alive` are left out as DynamoDB (Local)
   * leaves them out (HTTP/1.1 keeps the connection open all the same).
   */
  private writeHead(res: ServerResponse, status: number, headers: Record<string, string | string[]>): void {
    res.removeHeader('connection');
    res.writeHead(status, headers);
  }

  /** Takes the items whose partition would throttle out of a batch request, table by table. */
  private splitBatch(
    op: string,
    body: Json,
    call: ParsedCall,
  ): {
    kept: number;
    droppedCount: number;
    dropped: Record<string, Json[]>;
    extra: Record<string, Json>;
    accesses: Access[];
    /** Tables whose every item is left unprocessed, and why (out of capacity: the table or a GSI). */
    tableReasons: Map<string, Reason>;
  } {
    const requestItems = (body.RequestItems as Json | undefined) ?? {};
    const kind: Kind = op === 'BatchGetItem' ? 'Read' : 'Write';
    // A table (or, for writes, one of its GSIs) out of capacity leaves all its items unprocessed,
    // and the other tables' items are served: DynamoDB fails a batch only when no item can be. (Per
    // table: an item that writes no attribute of the short GSI is left out with the others.)
    const tableReasons = new Map<string, Reason>();
    for (const table of Object.keys(requestItems)) {
      const refused = this.policy.targetRefusal(call.accesses.filter((a) => a.table === table));
      if (refused) tableReasons.set(table, refused.reason);
    }
    const hot = (table: string, item: Item | undefined) => {
      if (tableReasons.has(table)) return true;
      const schema = this.policy.schema(table);
      const pk = schema ? keyString(item?.[schema.partitionKey]) : undefined;
      return pk !== undefined && !this.policy.partitionAdmits({ table, target: 'table', kind, pk });
    };
    const dropped: Record<string, Json[]> = {};
    const extra: Record<string, Json> = {};
    const keptItems: Record<string, unknown> = {};
    const droppedPks = new Set<string>();
    let kept = 0;
    let droppedCount = 0;
    for (const [table, spec] of Object.entries(requestItems)) {
      const schema = this.policy.schema(table);
      const pkOf = (item: Item | undefined) => (schema ? keyString(item?.[schema.partitionKey]) : undefined);
      if (op === 'BatchGetItem') {
        const { Keys: keys = [], ...rest } = spec as { Keys?: Item[] } & Json;
        const keep = keys.filter((k) => !hot(table, k));
        const drop = keys.filter((k) => hot(table, k));
        extra[table] = rest;
        if (drop.length > 0) dropped[table] = drop as unknown as Json[];
        for (const k of drop) droppedPks.add(`${table}\u0000${pkOf(k)}`);
        if (keep.length > 0) keptItems[table] = { ...rest, Keys: keep };
        kept += keep.length;
        droppedCount += drop.length;
      } else {
        const reqs = (spec as Json[] | undefined) ?? [];
        const keep = reqs.filter((r) => !hot(table, writeRequestItem(r)));
        const drop = reqs.filter((r) => hot(table, writeRequestItem(r)));
        if (drop.length > 0) dropped[table] = drop;
        for (const r of drop) droppedPks.add(`${table}\u0000${pkOf(writeRequestItem(r))}`);
        if (keep.length > 0) keptItems[table] = keep;
        kept += keep.length;
        droppedCount += drop.length;
      }
    }
    if (kept > 0 && droppedCount > 0) body.RequestItems = keptItems;
    return {
      kept,
      droppedCount,
      dropped,
      extra,
      accesses: call.accesses.filter(
        (a) =>
          !tableReasons.has(a.table) && (a.pk === undefined || !droppedPks.has(`${a.table}\u0000${a.pk}`)),
      ),
      tableReasons,
    };
  }

  /** The batch's throttled items, added to what DynamoDB Local left unprocessed, as a member edit. */
  private addUnprocessed(
    op: string,
    out: Json,
    dropped: Record<string, Json[]>,
    extra: Record<string, Json>,
    edits: Record<string, string | undefined>,
  ): void {
    if (op === 'BatchGetItem') {
      const u = ((out.UnprocessedKeys as Json | undefined) ?? {}) as Record<string, { Keys: Json[] }>;
      for (const [table, keys] of Object.entries(dropped)) {
        // Unprocessed keys come back with the request's projection and consistency, as DynamoDB does.
        u[table] = {
          ...(extra[table] ?? {}),
          ...(u[table] ?? {}),
          Keys: [...(u[table]?.Keys ?? []), ...keys],
        };
      }
      out.UnprocessedKeys = u;
      edits.UnprocessedKeys = JSON.stringify(u);
    } else {
      const u = ((out.UnprocessedItems as Json | undefined) ?? {}) as Record<string, Json[]>;
      for (const [table, reqs] of Object.entries(dropped)) u[table] = [...(u[table] ?? []), ...reqs];
      out.UnprocessedItems = u;
      edits.UnprocessedItems = JSON.stringify(u);
    }
  }

  /** The hop to DynamoDB Local, on undici's dispatcher: the answer's status, headers and bytes. */
  private async forward(headers: Record<string, string>, body: Buffer): Promise<Upstream> {
    if (!this.pool && this.opening) await this.opening;
    const pool = this.pool;
    if (!pool) throw new Error('the gate has no upstream yet');
    return post(pool, this.upstreamPath, headers, body);
  }

  /**
   * A body the gate changed (or made): its own length and checksum, DynamoDB's headers (request id
   * first of all) kept; an answer of the gate's own gets a request id of its own.
   */
  private send(res: ServerResponse, status: number, body: string, upstream?: IncomingHttpHeaders): void {
    const payload = Buffer.from(body);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream ?? {})) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers['x-amzn-requestid'] ??= randomUUID();
    headers['content-type'] = 'application/x-amz-json-1.0';
    headers['content-length'] = String(payload.length);
    // A checksum where DynamoDB sent one (DynamoDB Local sends none with its errors), and on the gate's own answers.
    if (!upstream || upstream['x-amz-crc32'] !== undefined) headers['x-amz-crc32'] = String(crc32(payload));
    this.writeHead(res, status, headers);
    res.end(payload);
  }

  /** Every counter; `keys: false` skips the partition-key load (what a poll during a run has no use for). */
  snapshot(options: { keys?: boolean } = {}): GateSnapshot {
    const tables = this.policy.targets();
    const metrics: GateMetric[] = [];
    for (const t of tables) {
      const dims: Record<string, string> = t.index
        ? { TableName: t.table, GlobalSecondaryIndexName: t.index }
        : { TableName: t.table };
      metrics.push(
        { name: 'ConsumedReadCapacityUnits', dimensions: dims, sum: t.consumedRcu, count: 1 },
        { name: 'ConsumedWriteCapacityUnits', dimensions: dims, sum: t.consumedWcu, count: 1 },
        { name: 'ReadThrottleEvents', dimensions: dims, sum: t.readThrottleEvents, count: 1 },
        { name: 'WriteThrottleEvents', dimensions: dims, sum: t.writeThrottleEvents, count: 1 },
      );
      for (const [label, n] of Object.entries(t.throttleReasons)) {
        // e.g. TableWriteProvisionedThroughputExceeded -> WriteProvisionedThroughputThrottleEvents
        const m = /^(?:Table|Index)(Read|Write)(\w+?)(?:Exceeded)?$/.exec(label);
        if (m) metrics.push({ name: `${m[1]}${m[2]}ThrottleEvents`, dimensions: dims, sum: n, count: 1 });
      }
    }
    metrics.push(...this.stats.operationMetrics());
    const capacity: Record<string, ResolvedCapacity> = {};
    for (const s of this.policy.schemas()) {
      const c = this.policy.capacityOf(s.name);
      if (c) capacity[s.name] = c;
    }
    const keys = options.keys === false ? { keys: [], spread: [] } : this.stats.keyLoad();
    return {
      since: this.stats.since,
      at: this.clock(),
      patterns: this.stats.patternSnapshots(),
      declared: this.attributor.ids,
      tables,
      hotKeys: this.policy.hotKeys(),
      keyLoad: keys.keys,
      keySpread: keys.spread,
      metrics,
      capacity,
    };
  }
}
