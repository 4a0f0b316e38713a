import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { crc32 } from 'node:zlib';
import { PATTERN_HEADER } from '../../instrument/index.js';
import { serveAdmin } from './admin.js';
import { Attributor, type PatternRule } from './attribution.js';
import { itemSize, writeUnits } from './capacity.js';
import {
  type Charge,
  type GateCapacity,
  type HotKey,
  type ResolvedCapacity,
  type TargetStats,
  ThrottlePolicy,
} from './policy.js';
import {
  type Access,
  type Item,
  type Json,
  type Kind,
  keyString,
  PARTIQL_OPS,
  type ParsedCall,
  parseCall,
  READ_OPS,
  WRITE_OPS,
  writeRequestItem,
} from './protocol.js';
import { schemaFromDescription, type TableDescriptionJson, type TableSchema } from './schema.js';
import { type CallRecord, type GateMetric, type GatePatternSnapshot, GateStats } from './stats.js';

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
  /** CloudWatch-style datapoints: metric name, dimensions, sum. */
  readonly metrics: GateMetric[];
  /** What the gate enforces on each table it knows. */
  readonly capacity: Record<string, ResolvedCapacity>;
}

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

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** `amz-sdk-request: attempt=2; max=3` (or with a `ttl=...;` first): read without a regular expression, per call. */
function attemptOf(header: string | string[] | undefined): { attempt?: number; max?: number } {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return {};
  const number = (name: string) => {
    const at = text.indexOf(name);
    if (at < 0) return undefined;
    const n = Number.parseInt(text.slice(at + name.length), 10);
    return Number.isFinite(n) ? n : undefined;
  };
  const attempt = number('attempt=');
  const max = number('max=');
  return {
    ...(attempt !== undefined ? { attempt } : {}),
    ...(max !== undefined ? { max } : {}),
  };
}

/** What a client that asked for TOTAL gets: the totals, without the per-index split we asked for. */
function total(c: Json): Json {
  return {
    TableName: c.TableName,
    CapacityUnits: c.CapacityUnits,
    ...(c.ReadCapacityUnits !== undefined ? { ReadCapacityUnits: c.ReadCapacityUnits } : {}),
    ...(c.WriteCapacityUnits !== undefined ? { WriteCapacityUnits: c.WriteCapacityUnits } : {}),
  };
}

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
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** node:http's options for the upstream, made once (turning a URL into them costs on every call). */
  private upstreamOptions: { hostname: string; port: string; path: string; protocol: string } | undefined;
  private upstreamName = '(not yet open)';
  private opened: Promise<void>;
  private markOpen: () => void = () => {};
  /** Tables being described now, and tables DescribeTable said do not exist (with when). */
  private readonly learning = new Map<string, Promise<void>>();
  private readonly missing = new Map<string, number>();

  constructor(private readonly options: GateOptions) {
    this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    this.policy = new ThrottlePolicy(this.clock, options.capacity ?? {});
    this.stats = new GateStats(this.clock);
    this.attributor = new Attributor(options.rules ?? []);
    this.opened = new Promise<void>((resolve) => {
      this.markOpen = resolve;
    });
    if (options.upstream) this.open(options.upstream);
  }

  /** Starts forwarding to DynamoDB; calls that came before wait for this. */
  open(upstream: string): void {
    const url = new URL(upstream);
    this.upstreamOptions = {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
    };
    this.upstreamName = upstream;
    this.markOpen();
  }

  /** Forget all counters and refill every bucket (a new run), optionally with new capacity. */
  reset(capacity?: GateCapacity): void {
    this.policy.reset(capacity ?? this.policy.configured);
    this.stats.reset();
  }

  get capacity(): GateCapacity {
    return this.policy.configured;
  }

  /** Serves DynamoDB's protocol on 127.0.0.1; returns its URL. */
  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
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
    this.agent.destroy();
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

  private forwardHeaders(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v !== 'string') continue;
      if (k === 'host' || k === 'content-length' || k === 'transfer-encoding' || k === PATTERN_HEADER)
        continue;
      headers[k] = v;
    }
    return headers;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.upstreamOptions) await this.opened;
    const started = this.clock();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const headers = this.forwardHeaders(req);
    const data = METERED(op) || PARTIQL_OPS.has(op);
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
    const record = (
      r: Omit<CallRecord, 'pattern' | 'source' | 'op' | 'tables' | 'latencyMs'>,
      latencyMs = this.clock() - started,
    ) =>
      this.stats.record({
        pattern,
        source,
        op,
        tables: call.tables,
        latencyMs,
        ...(attempt !== undefined ? { attempt } : {}),
        ...(max !== undefined ? { maxAttempts: max } : {}),
        ...r,
      });

    if (call.kind === undefined) {
      // PartiQL: named and counted, not metered.
      const up = await this.forwardOr502(headers, raw, res);
      if (!up) return record({ status: 502, code: 'GateUpstreamUnreachable', charges: [] });
      const latencyMs = this.clock() - started;
      this.relay(res, up);
      const code = up.status !== 200 ? (errorCode(this.parseOut(up.body)) ?? `HTTP ${up.status}`) : undefined;
      return record({ status: up.status, ...(code ? { code } : {}), charges: [] }, latencyMs);
    }

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
          this.policy.countThrottle(a, 'KeyRangeThroughputExceeded');
        }
        accesses = split.accesses;
      }
    }

    const refused = accesses.length > 0 ? this.policy.refusal(accesses) : undefined;
    if (refused) {
      const label = this.policy.countThrottle(refused.access, refused.reason);
      record({
        status: 400,
        code: 'ProvisionedThroughputExceededException',
        throttleReason: label,
        charges: [],
      });
      // Batch calls fail only when every item is throttled; a whole-table refusal throttles all of them.
      this.send(res, 400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: `The level of configured provisioned throughput for the ${refused.access.target === 'table' ? 'table' : 'index'} was exceeded. Consider increasing your provisioning level with the UpdateTable API.`,
        ThrottlingReasons: [
          { reason: label, resource: this.arn(refused.access.table, refused.access.target) },
        ],
      });
      return;
    }

    // Ask for the per-index split whatever the client asked for, and give it back what it asked for.
    // A request that already asks for all we need (an instrumented client's) goes on as it came.
    const asked = body.ReturnConsumedCapacity as string | undefined;
    const askedOld = body.ReturnValuesOnConditionCheckFailure as string | undefined;
    const singleWrite = op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem';
    let changed = unprocessed !== undefined;
    if (asked !== 'INDEXES') {
      body.ReturnConsumedCapacity = 'INDEXES';
      changed = true;
    }
    if (singleWrite && askedOld !== 'ALL_OLD') {
      body.ReturnValuesOnConditionCheckFailure = 'ALL_OLD';
      changed = true;
    }
    const up = await this.forwardOr502(headers, changed ? Buffer.from(JSON.stringify(body)) : raw, res);
    if (!up) return record({ status: 502, code: 'GateUpstreamUnreachable', charges: [] });
    const out = this.parseOut(up.body);
    const kind = call.kind as Kind;
    // The answer goes first; charging and counting come after it, off the caller's latency.
    if (up.status === 200) {
      const consumed = out.ConsumedCapacity as Json | Json[] | undefined;
      const items = itemsReturned(op, out);
      if (unprocessed) this.addUnprocessed(op, out, unprocessed.dropped, unprocessed.extra);
      if (asked !== 'INDEXES' && consumed) {
        if (asked === 'TOTAL')
          out.ConsumedCapacity = Array.isArray(consumed) ? consumed.map(total) : total(consumed);
        else delete out.ConsumedCapacity;
      }
      const latencyMs = this.clock() - started;
      // Unchanged (the client asked for INDEXES, nothing held back): DynamoDB's bytes as they came.
      if (unprocessed || (asked !== 'INDEXES' && consumed)) this.send(res, up.status, out, up.headers);
      else this.relay(res, up);
      const charges: Charge[] = [];
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : [])
        charges.push(...this.policy.charge(accesses, c, kind));
      record({ status: 200, charges, items }, latencyMs);
      return;
    }
    const code = errorCode(out);
    // A failed condition still consumes the write: DynamoDB Local does not report it, so count it.
    const failedWrite =
      code === 'ConditionalCheckFailedException'
        ? writeUnits(itemSize(out.Item as Item | undefined), itemSize(body.Item as Item | undefined))
        : undefined;
    if (failedWrite !== undefined && askedOld !== 'ALL_OLD') delete out.Item;
    const latencyMs = this.clock() - started;
    this.send(res, up.status, out, up.headers);
    const charges =
      failedWrite === undefined
        ? []
        : this.policy.charge(
            accesses.filter((a) => a.target === 'table'),
            { TableName: call.tables[0] ?? '', Table: { CapacityUnits: failedWrite } },
            'Write',
          );
    record({ status: up.status, code: code ?? `HTTP ${up.status}`, charges }, latencyMs);
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
    res.writeHead(up.status, headers);
    res.end(up.body);
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
  } {
    const requestItems = (body.RequestItems as Json | undefined) ?? {};
    const kind: Kind = op === 'BatchGetItem' ? 'Read' : 'Write';
    const hot = (table: string, item: Item | undefined) => {
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
      accesses: call.accesses.filter((a) => a.pk === undefined || !droppedPks.has(`${a.table}\u0000${a.pk}`)),
    };
  }

  private addUnprocessed(
    op: string,
    out: Json,
    dropped: Record<string, Json[]>,
    extra: Record<string, Json>,
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
    } else {
      const u = ((out.UnprocessedItems as Json | undefined) ?? {}) as Record<string, Json[]>;
      for (const [table, reqs] of Object.entries(dropped)) u[table] = [...(u[table] ?? []), ...reqs];
      out.UnprocessedItems = u;
    }
  }

  /**
   * The hop to DynamoDB Local, on node:http with kept-alive sockets: the bench measured fetch()
   * (request cloning, web streams) at about twice the cost of this per call.
   */
  private forward(headers: Record<string, string>, body: Buffer): Promise<Upstream> {
    const target = this.upstreamOptions;
    if (!target) return Promise.reject(new Error('the gate has no upstream yet'));
    headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ ...target, method: 'POST', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A body the gate changed (or made): its own length and checksum, DynamoDB's request id kept. */
  private send(res: ServerResponse, status: number, body: Json, upstream?: IncomingHttpHeaders): void {
    const payload = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream ?? {})) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers['content-type'] = 'application/x-amz-json-1.0';
    headers['content-length'] = String(payload.length);
    headers['x-amz-crc32'] = String(crc32(payload));
    res.writeHead(status, headers);
    res.end(payload);
  }

  snapshot(): GateSnapshot {
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
    return {
      since: this.stats.since,
      at: this.clock(),
      patterns: this.stats.patternSnapshots(),
      declared: this.attributor.ids,
      tables,
      hotKeys: this.policy.hotKeys(),
      metrics,
      capacity,
    };
  }
}
